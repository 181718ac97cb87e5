// The main navigation on a phone: a button names the current page and opens the full list of
// destinations. Without this script the button stays hidden and the links wrap instead.
// Listeners sit on the document, so menus in content that htmx swaps in keep working.
(function () {
  "use strict";

  function menuOf(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  function setOpen(button, open) {
    var menu = menuOf(button);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) menu.classList.toggle("open", open);
  }

  function prepare(root) {
    (root || document).querySelectorAll("[data-menu-toggle]").forEach(function (button) {
      var menu = menuOf(button);
      if (!menu) return;
      var current = menu.querySelector('[aria-current="page"]');
      var label = button.querySelector("[data-menu-current]");
      if (label) label.textContent = current ? current.textContent.trim() : "Menu";
      button.hidden = false;
      setOpen(button, false);
    });
    document.documentElement.classList.add("js-menu");
  }

  function openButtons() {
    return document.querySelectorAll('[data-menu-toggle][aria-expanded="true"]');
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-menu-toggle]");
    if (button) {
      var open = button.getAttribute("aria-expanded") !== "true";
      setOpen(button, open);
      if (open) {
        var first = menuOf(button).querySelector('[aria-current="page"]') || menuOf(button).querySelector("a");
        if (first) first.focus();
      }
      return;
    }
    openButtons().forEach(function (other) {
      if (!menuOf(other).contains(event.target)) setOpen(other, false);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openButtons().forEach(function (button) {
      setOpen(button, false);
      button.focus();
    });
  });

  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
  document.addEventListener("htmx:afterSettle", function (event) { prepare(event.detail.elt); });
})();
