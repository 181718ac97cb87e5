// A chart's text alternative: a caption that says what the chart shows (the latest value,
// the lowest and the highest over its range), and a "Show as table" toggle with the same
// points as rows. Screen readers and keyboards reach both; the canvas is only a picture.
//
// charts.js and market-charts.js call HashwatchChartText.show(figure, caption, table) each
// time they draw; the table is built only while it is open (a chart can hold 1,000 points
// and the market charts redraw every couple of seconds).
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The same wall clock as the chart's axis (the browser's), in one unambiguous format.
  function formatTime(ms, dayOnly) {
    var d = new Date(ms);
    var day = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    return dayOnly ? day : day + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // "last 24 h", "last 30 days"; for a chart of whole days, its first and last day.
  function rangeText(start, end, days) {
    if (!start || !end) return "";
    if (days) {
      // Day bars sit at noon UTC: half a day in from either edge is the same date anywhere.
      var half = 12 * 3600 * 1000;
      return formatTime(start + half, true) + " to " + formatTime(end - half, true);
    }
    var hours = Math.round((end - start) / 3600000);
    return hours <= 48 ? "last " + hours + " h" : "last " + Math.round(hours / 24) + " days";
  }

  // {latest, min, max} of the values that are numbers, or null when there are none.
  function summary(values) {
    var seen = values.filter(function (v) { return v !== null && v !== undefined && !isNaN(v); });
    if (!seen.length) return null;
    return {
      latest: seen[seen.length - 1],
      min: Math.min.apply(null, seen),
      max: Math.max.apply(null, seen),
    };
  }

  function captionFor(figure) {
    var caption = figure.querySelector(":scope > figcaption.chart-text");
    if (caption) return caption;
    caption = document.createElement("figcaption");
    caption.className = "chart-text";
    var text = document.createElement("p");
    text.className = "chart-caption";
    var details = document.createElement("details");
    details.className = "chart-data";
    var toggle = document.createElement("summary");
    toggle.textContent = "Show as table";
    var box = document.createElement("div");
    box.className = "table-wrap";
    details.append(toggle, box);
    caption.append(text, details);
    figure.append(caption);
    details.addEventListener("toggle", function () {
      toggle.textContent = details.open ? "Hide table" : "Show as table";
      render(details);
    });
    return caption;
  }

  function cell(tag, text, numeric) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (numeric) el.className = "num";
    if (tag === "th") el.setAttribute("scope", "col");
    return el;
  }

  function render(details) {
    var box = details.querySelector(".table-wrap");
    var table = details._table;
    if (!details.open || !table) {
      box.replaceChildren();
      return;
    }
    var el = document.createElement("table");
    el.className = "data compact";
    var caption = document.createElement("caption");
    caption.className = "visually-hidden";
    caption.textContent = table.title;
    var head = document.createElement("tr");
    table.columns.forEach(function (c) { head.append(cell("th", c.label, c.numeric)); });
    var thead = document.createElement("thead");
    thead.append(head);
    var tbody = document.createElement("tbody");
    table.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (text, i) { tr.append(cell("td", text, table.columns[i].numeric)); });
      tbody.append(tr);
    });
    el.append(caption, thead, tbody);
    box.replaceChildren(el);
  }

  // caption: the sentence; table: {title, columns: [{label, numeric}], rows: [[text, ...]]}.
  function show(figure, caption, table) {
    var holder = captionFor(figure);
    holder.querySelector(".chart-caption").textContent = caption;
    var details = holder.querySelector("details");
    details._table = table;
    details.hidden = !table.rows.length;
    render(details);
  }

  window.HashwatchChartText = { show: show, summary: summary, formatTime: formatTime, rangeText: rangeText };
})();
