// A table wider than its box on a phone scrolls sideways; say so above it, and shade the edge
// that hides columns (the shading itself is CSS: .table-wrap in static/css/layout.css).
(function () {
  "use strict";

  function mark(wrap) {
    var wide = wrap.scrollWidth > wrap.clientWidth + 1;
    var hint = wrap.previousElementSibling;
    var has = hint && hint.classList.contains("scroll-hint");
    if (wide && !has) {
      hint = document.createElement("p");
      hint.className = "scroll-hint small muted";
      hint.textContent = "More columns to the right: swipe the table sideways →";
      wrap.parentNode.insertBefore(hint, wrap);
      if (!wrap.hasAttribute("tabindex")) wrap.setAttribute("tabindex", "0");
    } else if (!wide && has) {
      hint.remove();
    }
    wrap.classList.toggle("is-wide", wide);
  }

  function markAll() {
    document.querySelectorAll(".table-wrap").forEach(mark);
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(markAll, 150);
  });
  document.addEventListener("DOMContentLoaded", markAll);
  document.addEventListener("htmx:afterSettle", markAll);
})();
