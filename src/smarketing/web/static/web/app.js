// The pages' only script besides HTMX (the Content-Security-Policy allows no inline scripts).
// A <select data-autosubmit> submits its form as soon as it changes (the period picker).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});

// A refused action (403) answers with a partial that says why; htmx leaves error responses out unless told.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status === 403 && xhr.getResponseHeader("X-Swap-Refusal") === "true") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
