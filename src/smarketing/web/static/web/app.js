// The pages' only script besides HTMX (the Content-Security-Policy allows no inline scripts).
// A <select data-autosubmit> submits its form as soon as it changes (the period picker).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
