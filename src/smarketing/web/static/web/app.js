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

// The phone menu: below 560 px (app.css) the navigation folds behind the Menu button, which says whether it is open
// (aria-expanded); Escape closes it and gives focus back to the button. Without this script the navigation wraps.
(function () {
  var button = document.getElementById("menu-toggle");
  var nav = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!button || !nav) { return; }
  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  }
  button.hidden = false;
  button.parentElement.classList.add("menu-ready");
  button.addEventListener("click", function () { setOpen(button.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    var inside = nav.contains(document.activeElement) || document.activeElement === button;
    if (event.key === "Escape" && inside && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();

// A box that scrolls sideways (a wide table or diff on a phone) takes keyboard focus, so the arrow keys can scroll
// it (WCAG 2.1.1); it gives the focus up again when it no longer scrolls (the window grew).
(function () {
  var SCROLLERS = "#main .card, #main .table-wrap, #main pre, #main [data-scrolls]";
  function mark() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "hidden"
        && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && el.hasAttribute("data-scroll-focus")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }
  var pending = false;
  function later() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; mark(); });
  }
  mark();
  window.addEventListener("load", later);
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
  document.addEventListener("toggle", later, true);  // a <details> opened shows its table
})();
