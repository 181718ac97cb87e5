// Draws every <figure class="chart"> on the page from the JSON spec in its data-spec
// attribute (data, not code, so a strict CSP allows it, and it survives HTMX swaps).
// Re-runs when HTMX loads new content, so a range change redraws without a page load.
// A dataset carries its points as two arrays side by side, `times` (epoch ms) and `values`:
// pages of many charts build and send two lists a line instead of a list per point.
(function () {
  "use strict";

  var charts = new WeakMap();
  var text = window.HashwatchChartText;

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  var PALETTE = ["#d97706", "#2563eb", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];

  function formatNumber(value, decimals) {
    return Number(value).toLocaleString(undefined, {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    });
  }

  function build(figure) {
    var canvas = figure.querySelector("canvas");
    if (!figure.dataset.spec || !canvas || !window.Chart) return;
    var spec = JSON.parse(figure.dataset.spec);
    var old = charts.get(canvas);
    if (old) old.destroy();

    var divisor = spec.divisor || 1;
    var decimals = spec.decimals === undefined ? 2 : spec.decimals;
    var datasets = spec.datasets.map(function (set, i) {
      var color = set.color || PALETTE[i % PALETTE.length];
      return {
        label: set.label,
        data: set.times.map(function (t, j) {
          var v = set.values[j];
          return { x: t, y: v === null ? null : v / divisor };
        }),
        borderColor: color,
        backgroundColor: spec.type === "bar" ? color : color + "22",
        fill: spec.type !== "bar" && spec.datasets.length === 1,
        borderWidth: spec.type === "bar" ? 0 : 2,
        // A handful of readings (a new source, a dead worker) would be invisible as a line.
        pointRadius: set.times.length < 40 ? 3 : 0,
        pointHitRadius: 6,
        tension: 0.25,
        spanGaps: false,
        stack: spec.stacked ? "all" : undefined,
      };
    });
    var grid = css("--border");
    var text = css("--muted");
    var chart = new window.Chart(canvas, {
      type: spec.type || "line",
      data: { datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: true,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: {
            type: "time",
            time: {
              unit: spec.time_unit || undefined,
              tooltipFormat: spec.tooltip_format || "yyyy-MM-dd HH:mm",
              displayFormats: { minute: "HH:mm", hour: "HH:mm", day: "MMM d", month: "MMM yyyy" },
            },
            min: spec.start || undefined,
            max: spec.end || undefined,
            offset: spec.type === "bar",
            stacked: !!spec.stacked,
            grid: { color: grid },
            ticks: { color: text, maxRotation: 0, autoSkipPadding: 16 },
            title: { display: !!spec.x_title, text: spec.x_title, color: text },
          },
          y: {
            beginAtZero: true,
            stacked: !!spec.stacked,
            grid: { color: grid },
            ticks: { color: text, callback: function (v) { return formatNumber(v, spec.tick_decimals || 0); } },
            title: { display: true, text: spec.y_title, color: text },
          },
        },
        plugins: {
          legend: { display: datasets.length > 1, labels: { color: text, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return (ctx.dataset.label ? ctx.dataset.label + ": " : "") +
                  formatNumber(ctx.parsed.y, decimals) + " " + spec.unit;
              },
            },
          },
        },
      },
    });
    charts.set(canvas, chart);
    if (text) describe(figure, spec, canvas.getAttribute("aria-label") || "Chart");
    figure.setAttribute("data-drawn", "true");
  }

  // What the chart is of: its title, with the measure in front when the title is only a
  // name ("Alpha farm" becomes "Hashrate, Alpha farm"), and without a range of its own.
  function subject(title, spec) {
    var plain = title.replace(/,\s*last .*$/i, "");
    var measure = (spec.y_title || "").replace(/\s*\(.*\)\s*$/, "");
    var words = measure.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 3; });
    var named = words.some(function (w) { return plain.toLowerCase().indexOf(w) !== -1; });
    return measure && !named ? measure + ", " + plain : plain;
  }

  // The caption and table of HashwatchChartText (chart-text.js) from the spec this chart drew.
  function describe(figure, spec, title) {
    var divisor = spec.divisor || 1;
    var decimals = spec.decimals === undefined ? 2 : spec.decimals;
    var days = spec.tooltip_format === "yyyy-MM-dd";
    var stacked = !!spec.stacked && spec.datasets.length > 1;
    function scaled(v) { return v === null || v === undefined ? null : v / divisor; }
    function show(v) { return v === null ? "—" : formatNumber(v, decimals) + (spec.unit ? " " + spec.unit : ""); }
    function sentence(s) { return s ? "latest " + show(s.latest) + ", min " + show(s.min) + ", max " + show(s.max) : "no readings"; }

    var byTime = new Map();
    spec.datasets.forEach(function (set, i) {
      set.times.forEach(function (t, j) {
        if (!byTime.has(t)) byTime.set(t, spec.datasets.map(function () { return null; }));
        byTime.get(t)[i] = scaled(set.values[j]);
      });
    });
    var times = Array.from(byTime.keys()).sort(function (a, b) { return a - b; });
    function total(t) {
      var values = byTime.get(t).filter(function (v) { return v !== null; });
      return values.length ? values.reduce(function (a, b) { return a + b; }, 0) : null;
    }

    var said;
    if (stacked) {
      said = "total per " + (days ? "day" : "reading") + ": " + sentence(text.summary(times.map(total)));
    } else if (spec.datasets.length === 1) {
      said = sentence(text.summary(times.map(function (t) { return byTime.get(t)[0]; })));
    } else {
      said = spec.datasets.map(function (set, i) {
        return set.label + ": " + sentence(text.summary(times.map(function (t) { return byTime.get(t)[i]; })));
      }).join("; ");
    }
    var name = subject(title, spec);
    var range = text.rangeText(spec.start, spec.end, days);
    // The unit is said once, in the column headers, not in every cell.
    var unit = spec.unit ? " (" + spec.unit + ")" : "";
    var columns = [{ label: days ? "Day" : "Time", numeric: false }].concat(spec.datasets.map(function (set) {
      var label = spec.datasets.length === 1 && spec.y_title ? spec.y_title : set.label + unit;
      return { label: label, numeric: true };
    }));
    if (stacked) columns.push({ label: "Total" + unit, numeric: true });
    function bare(v) { return v === null ? "—" : formatNumber(v, decimals); }
    var rows = times.map(function (t) {
      var row = [text.formatTime(t, days)].concat(byTime.get(t).map(bare));
      if (stacked) row.push(bare(total(t)));
      return row;
    });
    text.show(figure, name + (range ? ", " + range : "") + ": " + said + ".",
              { title: name, columns: columns, rows: rows });
  }

  // Swapped-in figures have no data-drawn mark yet; a theme change redraws every chart
  // because axis and grid colours come from the stylesheet.
  function drawAll(force) {
    document.querySelectorAll("figure.chart").forEach(function (figure) {
      if (force || !figure.hasAttribute("data-drawn")) build(figure);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(false); });
  document.addEventListener("htmx:load", function () { drawAll(false); });
  document.addEventListener("hashwatch:theme", function () { drawAll(true); });
})();
