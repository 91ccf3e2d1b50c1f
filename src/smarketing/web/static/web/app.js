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

// "/" focuses the header search (unless typing somewhere already); Escape closes its live results.
document.addEventListener("keydown", function (event) {
  var box = document.getElementById("site-search");
  if (!box) { return; }
  var el = document.activeElement;
  var typing = el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    box.focus();
    box.select();
  } else if (event.key === "Escape" && el === box) {
    var live = document.getElementById("search-live");
    if (live) { live.innerHTML = ""; }
  }
});
