// Page behaviour that is not HTMX: theme toggle, auto-submitting selects, pausing live
// panels while the tab is hidden.
(function () {
  "use strict";

  function currentTheme() {
    var set = document.documentElement.getAttribute("data-theme");
    if (set === "light" || set === "dark") return set;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function labelToggles() {
    var next = currentTheme() === "dark" ? "light" : "dark";
    document.querySelectorAll("[data-theme-next]").forEach(function (el) { el.textContent = next; });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("hashwatch-theme", next); } catch (e) { /* private mode */ }
      labelToggles();
      document.dispatchEvent(new CustomEvent("hashwatch:theme"));
    }
    var confirmEl = event.target.closest("[data-confirm]");
    if (confirmEl && !window.confirm(confirmEl.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });

  // Live panels poll with hx-trigger="every 30s [document.visibilityState === 'visible']"
  // would need eval; instead cancel their requests while the tab is hidden, and refresh
  // them at once when it becomes visible again.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.visibilityState === "hidden" && event.detail.elt.hasAttribute("data-live")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && window.htmx) {
      document.querySelectorAll("[data-live]").forEach(function (el) { window.htmx.trigger(el, "refresh"); });
    }
  });

  document.addEventListener("DOMContentLoaded", labelToggles);
})();
