// Draws every <figure class="chart"> on the page from the JSON spec in its data-spec
// attribute (data, not code, so a strict CSP allows it, and it survives HTMX swaps).
// Re-runs when HTMX loads new content, so a range change redraws without a page load.
(function () {
  "use strict";

  var charts = new WeakMap();

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
        data: set.points.map(function (p) { return { x: p[0], y: p[1] === null ? null : p[1] / divisor }; }),
        borderColor: color,
        backgroundColor: spec.type === "bar" ? color : color + "22",
        fill: spec.type !== "bar" && spec.datasets.length === 1,
        borderWidth: spec.type === "bar" ? 0 : 2,
        // A handful of readings (a new source, a dead worker) would be invisible as a line.
        pointRadius: set.points.length < 40 ? 3 : 0,
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
    figure.setAttribute("data-drawn", "true");
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
