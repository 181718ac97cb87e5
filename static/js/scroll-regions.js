// A box that scrolls (a long table, the trades list, a wide table on a phone) must be
// reachable from the keyboard, or its hidden rows and columns are out of reach without a
// mouse. Every such box that actually overflows becomes a focusable, named region; one that
// stops overflowing (a wider window, fewer rows) gives its tab stop back.
(function () {
  "use strict";

  var SCROLLERS = ".table-wrap, .scroll-y, .trades-scroll, [data-scroll-region]";
  var MARK = "data-scroll-focus";

  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  // The name a screen reader announces on entering the box: its table's caption, or the
  // heading of the section it sits in.
  function nameOf(el) {
    var caption = el.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    for (var box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      var heading = box.querySelector("h1, h2, h3");
      if (heading && heading.textContent.trim()) return heading.textContent.trim().replace(/\s+/g, " ");
    }
    return "Scrolling table";
  }

  function mark(el) {
    if (el.hasAttribute(MARK)) return;
    if (el.hasAttribute("tabindex")) return; // the template already made it focusable
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "region");
    if (!el.hasAttribute("aria-label") && !el.hasAttribute("aria-labelledby")) {
      el.setAttribute("aria-label", nameOf(el));
      el.setAttribute(MARK, "label");
    } else {
      el.setAttribute(MARK, "");
    }
  }

  function unmark(el) {
    if (!el.hasAttribute(MARK)) return;
    if (el.getAttribute(MARK) === "label") el.removeAttribute("aria-label");
    el.removeAttribute("tabindex");
    el.removeAttribute("role");
    el.removeAttribute(MARK);
  }

  function update() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      if (overflows(el)) { mark(el); } else { unmark(el); }
    });
  }

  var pending = 0;
  function soon() {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(update);
  }

  document.addEventListener("DOMContentLoaded", update);
  document.addEventListener("htmx:afterSettle", soon);
  document.addEventListener("toggle", soon, true); // a <details> opening shows a new table
  window.addEventListener("resize", soon);
})();
