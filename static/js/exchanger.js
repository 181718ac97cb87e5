// The Exchanger page: copy buttons for referral links, and tidy addresses for its HTMX
// requests. Everything here only adds to links and forms that work without it.
(function () {
  "use strict";

  function status(text) {
    var region = document.querySelector("[data-copy-status]");
    if (region) region.textContent = text;
  }

  // navigator.clipboard exists only on https (or localhost); a self-hosted dashboard is
  // often reached over plain http on the LAN, where the older selection copy still works.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var buffer = document.createElement("textarea");
      buffer.value = text;
      buffer.setAttribute("readonly", "");
      buffer.className = "copy-buffer";
      document.body.appendChild(buffer);
      buffer.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      buffer.remove();
      if (copied) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function flash(button, text) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = text;
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () {
      button.textContent = button.dataset.label;
    }, 1600);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    copyText(text).then(function () {
      flash(button, "Copied");
      status("Link copied: " + text);
    }, function () {
      flash(button, "Copy failed");
      status("The browser refused to copy; select the link and copy it by hand.");
    });
  });

  // Copy buttons do nothing without this file, so they are shown only once it runs.
  function reveal(root) {
    (root || document).querySelectorAll("[data-copy][hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });

  // Controls send the page's whole form; leave its empty fields out of the address that
  // is pushed to the history, so it reads ?source=3&sort=-reserve rather than q=&cur_from=.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest || !event.detail.elt.closest("[data-exchanger]")) return;
    var data = event.detail.formData;
    if (!data || typeof data.keys !== "function") return;
    var empty = [];
    Array.from(data.keys()).forEach(function (name) {
      if (data.getAll(name).every(function (value) { return value === ""; })) empty.push(name);
    });
    empty.forEach(function (name) { data.delete(name); });
  });
})();
