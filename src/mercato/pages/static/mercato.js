// Mercato's pages work without JavaScript; this adds the conveniences: htmx requests carry the CSRF token,
// copy buttons copy, and a fragment that arrives with an error moves focus to it.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      // Keep the label's own nodes (a visually hidden "of SEN-…" names which key), not its flattened text,
      // so the button reads as before once "Copied" has been said; a second click meanwhile keeps them too.
      if (!button.copyLabel) button.copyLabel = Array.prototype.slice.call(button.childNodes);
      var label = button.copyLabel;
      clearTimeout(button.copyTimer);
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      button.copyTimer = setTimeout(function () {
        button.replaceChildren.apply(button, label);
        button.copyLabel = null;
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.trim()).then(done, function () { fallbackCopy(source, done); });
    } else {
      fallbackCopy(source, done);
    }
  });
  function fallbackCopy(source, done) {
    var area = document.createElement("textarea");
    area.value = (source.value !== undefined ? source.value : source.textContent).trim();
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    done();
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var summary = event.detail.target.querySelector(".error-summary");
    if (summary) summary.focus();
  });
})();
