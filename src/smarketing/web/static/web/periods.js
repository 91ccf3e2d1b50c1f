// The period picker and the funnel's filters.
// - A checkbox with data-autosubmit (the "compare with previous period" toggle) submits its form when changed.
// - A <select multiple data-multiselect> becomes a searchable multi-select showing the chosen values as chips
//   (Tom Select, vendored under vendor/tom-select/); without scripts it stays a plain multi-select.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.type === "checkbox" && target.hasAttribute("data-autosubmit")
        && target.form) {
      // The hidden "off" beside the box only speaks when the box is cleared, so the address says it once.
      var off = target.form.querySelector("input[type=hidden][name='" + target.name + "']");
      if (off) {
        off.disabled = target.checked;
      }
      target.form.submit();
    }
  });

  function enhance(root) {
    if (typeof window.TomSelect !== "function") {
      return;
    }
    root.querySelectorAll("select[multiple][data-multiselect]").forEach(function (select) {
      if (select.tomselect) {
        return;
      }
      // A page restored from htmx's history holds the old widget's markup without its behaviour: drop it.
      var stale = select.parentNode.querySelector(".ts-wrapper");
      if (stale) {
        stale.remove();
        select.classList.remove("tomselected", "ts-hidden-accessible");
        select.removeAttribute("tabindex");
        select.removeAttribute("hidden");
        select.removeAttribute("aria-hidden");
      }
      new window.TomSelect(select, {
        plugins: ["remove_button"],
        maxOptions: null,
        placeholder: select.getAttribute("data-placeholder") || "Any",
        hidePlaceholder: true,
        closeAfterSelect: false
      });
      // The label now names Tom Select's box; the original select stays only to submit the form (axe: select-name).
      select.setAttribute("aria-hidden", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:historyRestore", function () { enhance(document); });
})();
