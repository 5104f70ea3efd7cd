// The price calculator answers a refusal of the rules with 422 and the form with the sentence next to its
// field: htmx leaves 4xx answers out by default, so let this one in.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.detail.target.id === "calculator") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
