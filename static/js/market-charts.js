// The Markets page's charts: the order book depth (stepped areas) and price candles.
// Chart.js has no candlestick type, so a candle is two floating bars: the body from open to
// close, coloured by direction, over a thin wick from low to high.
//
// A figure.market-chart reads its JSON spec from its data-spec attribute, or from the element
// named by data-spec-from: the live panel swaps that element every couple of seconds and the
// chart redraws in place from it, keeping its canvas (no flicker, no leaked chart objects).
(function () {
  "use strict";

  var states = new Map(); // figure -> {chart, kind, text}
  var LOCALE = "en-US"; // the server writes numbers as 350,123.45; the charts match it

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function translucent(color, alpha) {
    var hex = /^#([0-9a-f]{6})$/i.exec(color);
    if (!hex) return color;
    var n = parseInt(hex[1], 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + alpha + ")";
  }

  function palette() {
    return { up: css("--ok"), down: css("--err"), grid: css("--border"), text: css("--muted") };
  }

  function number(value, places) {
    return Number(value).toLocaleString(LOCALE, { minimumFractionDigits: places, maximumFractionDigits: places });
  }

  function price(spec, value) {
    var text = number(value, spec.price_places);
    return spec.prefix ? spec.prefix + " " + text : text + " " + spec.quote;
  }

  function axis(colors, title) {
    return {
      grid: { color: colors.grid },
      ticks: { color: colors.text, maxRotation: 0, autoSkipPadding: 14 },
      title: { display: true, text: title, color: colors.text },
    };
  }

  // Both charts: drawn at once (they redraw every couple of seconds), the tooltip follows x.
  function options(scales, plugins) {
    return {
      locale: LOCALE,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: scales,
      plugins: plugins,
    };
  }

  function depthConfig(spec, colors) {
    function side(label, points, color, stepped) {
      return {
        label: label,
        data: points.map(function (p) { return { x: p[0], y: p[1] }; }),
        stepped: stepped,
        borderColor: color,
        backgroundColor: translucent(color, 0.16),
        fill: "origin",
        borderWidth: 2,
        pointRadius: 0,
        pointHitRadius: 6,
      };
    }
    var x = axis(colors, spec.x_title);
    x.type = "linear";
    x.min = spec.min;
    x.max = spec.max;
    x.ticks.includeBounds = false; // the edges are not round prices
    var y = axis(colors, spec.y_title);
    y.beginAtZero = true;
    return {
      type: "line",
      data: {
        // A bid level holds from its price down to the next one, an ask level up to the next.
        datasets: [side("Bids", spec.bids, colors.up, "after"), side("Asks", spec.asks, colors.down, "before")],
      },
      options: options({ x: x, y: y }, {
        legend: { labels: { color: colors.text, boxWidth: 12 } },
        tooltip: {
          callbacks: {
            title: function (items) { return items.length ? price(spec, items[0].parsed.x) : ""; },
            label: function (ctx) {
              var where = ctx.datasetIndex === 0 ? "bid at or above this price" : "asked at or below this price";
              return number(ctx.parsed.y, spec.quantity_places) + " " + spec.base + " " + where;
            },
          },
        },
      }),
    };
  }

  // Bar widths follow the candle's time width in pixels, worked out once the axes are laid
  // out: Chart.js would otherwise size a lone candle to the whole chart.
  var candleSizer = {
    id: "hashwatchCandleSize",
    afterLayout: function (chart) {
      var spec = chart.$marketSpec;
      if (!spec || spec.kind !== "candles" || !chart.scales.x) return;
      var x = chart.scales.x;
      var px = Math.abs(x.getPixelForValue(spec.start + spec.width) - x.getPixelForValue(spec.start));
      var body = Math.max(1, Math.min(28, px * 0.7));
      chart.data.datasets[0].barThickness = body;
      chart.data.datasets[1].barThickness = Math.max(1, Math.min(2, body / 3));
      chart.data.datasets[2].barThickness = body;
    },
  };

  function candleConfig(spec, colors) {
    var half = spec.width / 2;
    var rows = spec.candles.map(function (r) {
      return { x: r[0] + half, o: r[1], h: r[2], l: r[3], c: r[4], v: r[5] };
    });
    function tint(ctx, alpha) {
      var raw = ctx.raw;
      var color = raw && raw.c < raw.o ? colors.down : colors.up;
      return alpha ? translucent(color, alpha) : color;
    }
    var maxVolume = rows.reduce(function (m, r) { return Math.max(m, r.v); }, 0);
    var x = axis(colors, "Time");
    x.type = "time";
    x.min = spec.start;
    x.max = spec.end;
    x.offset = false;
    x.time = {
      unit: spec.time_unit || undefined,
      tooltipFormat: spec.tooltip_format,
      displayFormats: { minute: "HH:mm", hour: "HH:mm", day: "MMM d", month: "MMM yyyy" },
    };
    var y = axis(colors, spec.y_title);
    y.beginAtZero = false;
    y.grace = "4%";
    // Prices and volume are two stacked axes on the left: the candles own the upper four
    // fifths, volume its own band below, so a tall volume bar never covers a candle.
    y.stack = "candles";
    y.stackWeight = 4;
    var volumeAxis = axis(colors, "Vol. " + spec.base);
    volumeAxis.type = "linear";
    volumeAxis.axis = "y";
    volumeAxis.position = "left";
    y.position = "left";
    volumeAxis.stack = "candles";
    volumeAxis.stackWeight = 1;
    y.weight = 1;
    volumeAxis.offset = true;
    volumeAxis.beginAtZero = true;
    volumeAxis.suggestedMax = maxVolume || 1;
    volumeAxis.ticks.maxTicksLimit = 2;
    volumeAxis.grid.drawOnChartArea = true;
    return {
      type: "bar",
      data: {
        datasets: [
          {
            label: "Candle", order: 1, grouped: false, minBarLength: 1,
            data: rows.map(function (r) { return { x: r.x, y: [r.o, r.c], o: r.o, h: r.h, l: r.l, c: r.c, v: r.v }; }),
            backgroundColor: function (ctx) { return tint(ctx); },
            borderColor: function (ctx) { return tint(ctx); },
            borderWidth: 0,
          },
          {
            label: "Range", order: 2, grouped: false, minBarLength: 1,
            data: rows.map(function (r) { return { x: r.x, y: [r.l, r.h], o: r.o, c: r.c }; }),
            backgroundColor: function (ctx) { return tint(ctx); },
            borderWidth: 0,
          },
          {
            label: "Volume", order: 3, grouped: false, yAxisID: "volume",
            data: rows.map(function (r) { return { x: r.x, y: r.v, o: r.o, c: r.c }; }),
            backgroundColor: function (ctx) { return tint(ctx, 0.22); },
            borderWidth: 0,
          },
        ],
      },
      options: options({
        x: x,
        y: y,
        volume: volumeAxis,
      }, {
        legend: { display: false },
        tooltip: {
          filter: function (item) { return item.datasetIndex === 0; },
          callbacks: {
            label: function (ctx) {
              var r = ctx.raw;
              return [
                "Open " + price(spec, r.o), "High " + price(spec, r.h), "Low " + price(spec, r.l),
                "Close " + price(spec, r.c), "Volume " + number(r.v, 4) + " " + spec.base,
              ];
            },
          },
        },
      }),
      plugins: [candleSizer],
    };
  }

  // The caption and table of HashwatchChartText (chart-text.js), from the spec just drawn.
  function describe(figure, spec) {
    var text = window.HashwatchChartText;
    if (!text) return;
    var title = (figure.querySelector("canvas").getAttribute("aria-label") || "").replace(/,.*$/, "");
    if (spec.kind === "depth") {
      // The first and last point of each side only carry the curve to the chart's edges.
      var bids = spec.bids.slice(1, -1).reverse(), asks = spec.asks.slice(1, -1);
      var said = [
        bids.length ? "best bid " + price(spec, bids[0][0]) : "no bids",
        asks.length ? "best ask " + price(spec, asks[0][0]) : "no asks",
      ];
      if (bids.length) said.push(number(bids[bids.length - 1][1], spec.quantity_places) + " " + spec.base + " bid within the view");
      if (asks.length) said.push(number(asks[asks.length - 1][1], spec.quantity_places) + " " + spec.base + " asked within the view");
      var level = function (side) {
        return function (p) { return [side, price(spec, p[0]), number(p[1], spec.quantity_places)]; };
      };
      text.show(figure, title + ": " + said.join(", ") + ".", {
        title: title,
        columns: [{ label: "Side", numeric: false }, { label: "Price", numeric: true },
                  { label: "Cumulative quantity (" + spec.base + ")", numeric: true }],
        rows: bids.map(level("Bid")).concat(asks.map(level("Ask"))),
      });
      return;
    }
    var candles = spec.candles;
    var days = spec.width >= 86400000;
    var range = text.rangeText(spec.start, spec.end, false);
    var lows = text.summary(candles.map(function (r) { return r[3]; }));
    var highs = text.summary(candles.map(function (r) { return r[2]; }));
    var volume = candles.reduce(function (sum, r) { return sum + r[5]; }, 0);
    var said = candles.length
      ? "latest close " + price(spec, candles[candles.length - 1][4]) + ", low " + price(spec, lows.min) +
        ", high " + price(spec, highs.max) + ", volume " + number(volume, 4) + " " + spec.base +
        " over " + candles.length + " candle" + (candles.length === 1 ? "" : "s")
      : "no trades";
    text.show(figure, title + (range ? ", " + range : "") + ": " + said + ".", {
      title: title,
      columns: [{ label: days ? "Day" : "Time", numeric: false }, { label: "Open", numeric: true },
                { label: "High", numeric: true }, { label: "Low", numeric: true },
                { label: "Close", numeric: true }, { label: "Volume (" + spec.base + ")", numeric: true }],
      rows: candles.map(function (r) {
        return [text.formatTime(r[0], days), price(spec, r[1]), price(spec, r[2]), price(spec, r[3]),
                price(spec, r[4]), number(r[5], 4)];
      }),
    });
  }

  function specText(figure) {
    if (figure.dataset.specFrom) {
      var source = document.getElementById(figure.dataset.specFrom);
      return source ? source.getAttribute("data-spec") : null;
    }
    return figure.getAttribute("data-spec");
  }

  function configFor(spec) {
    return spec.kind === "depth" ? depthConfig(spec, palette()) : candleConfig(spec, palette());
  }

  function sync(force) {
    if (!window.Chart) return;
    states.forEach(function (state, figure) {
      if (!figure.isConnected) {
        state.chart.destroy();
        states.delete(figure);
      }
    });
    document.querySelectorAll("figure.market-chart").forEach(function (figure) {
      var text = specText(figure);
      var state = states.get(figure);
      if (state && !force && state.text === text) return;
      var spec = text ? JSON.parse(text) : null;
      if (!spec) {
        if (state) state.chart.destroy();
        states.delete(figure);
        figure.hidden = true;
        figure.removeAttribute("data-drawn");
        return;
      }
      figure.hidden = false;
      var config = configFor(spec);
      if (state && !force && state.kind === spec.kind) {
        state.chart.$marketSpec = spec;
        state.chart.data = config.data;
        state.chart.options = config.options;
        state.chart.update("none");
      } else {
        if (state) state.chart.destroy();
        var canvas = figure.querySelector("canvas");
        var chart = new window.Chart(canvas, config);
        chart.$marketSpec = spec;
        chart.update("none"); // once more, now that the sizer knows the spec
        state = { chart: chart, kind: spec.kind };
        states.set(figure, state);
      }
      state.text = text;
      describe(figure, spec);
      figure.setAttribute("data-drawn", String(Number(figure.getAttribute("data-drawn") || 0) + 1));
    });
  }

  document.addEventListener("DOMContentLoaded", function () { sync(false); });
  document.addEventListener("htmx:load", function () { sync(false); });
  document.addEventListener("htmx:oobAfterSwap", function () { sync(false); });
  document.addEventListener("htmx:historyRestore", function () { sync(false); });
  document.addEventListener("hashwatch:theme", function () { sync(true); });
})();
