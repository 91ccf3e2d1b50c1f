// The playbook draft editor: add and remove repeating rows, and keep every field named by its path in the
// playbook document (`scoring.fit_rules.2.when.0.value`), so the server reads the rows back in their order and
// its errors, named by the same paths, land beside their fields. No framework; the preview is HTMX.
(function () {
  "use strict";

  function ownedBy(el, row) {
    return el.closest(".pb-row") === row;
  }

  function renumber(group, prefix) {
    var list = group.querySelector(":scope > .pb-rows");
    if (!list) { return; }
    Array.prototype.forEach.call(list.children, function (row, i) {
      var rowPath = prefix + "." + i;
      row.querySelectorAll("[data-f]").forEach(function (el) {
        if (ownedBy(el, row)) { el.name = rowPath + "." + el.getAttribute("data-f"); }
      });
      row.querySelectorAll("[data-rows]").forEach(function (inner) {
        if (ownedBy(inner, row)) { renumber(inner, rowPath + "." + inner.getAttribute("data-rows")); }
      });
    });
  }

  function renumberAll(form) {
    form.querySelectorAll("[data-rows]").forEach(function (group) {
      if (!group.parentElement.closest(".pb-row")) { renumber(group, group.getAttribute("data-rows")); }
    });
  }

  function changed(form) {
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var form = target.closest("#pb-form");
    if (!form) { return; }
    var add = target.closest("[data-add-row]");
    if (add) {
      var group = add.closest("[data-rows]");
      var template = group.querySelector(":scope > template");
      var list = group.querySelector(":scope > .pb-rows");
      list.appendChild(template.content.cloneNode(true));
      renumberAll(form);
      var first = list.lastElementChild && list.lastElementChild.querySelector("input, select, textarea");
      if (first) { first.focus(); }
      changed(form);
      return;
    }
    var remove = target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest(".pb-row");
      var next = row.nextElementSibling || row.previousElementSibling;
      var owner = row.parentElement.closest("[data-rows]");
      row.remove();
      renumberAll(form);
      var focus = (next && next.querySelector("input, select, textarea")) || owner.querySelector("[data-add-row]");
      if (focus) { focus.focus(); }
      changed(form);
    }
  });

  // Each preview carries the form's problems by field path: mark those fields as they are typed, before any save.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = document.getElementById("impact");
    var form = document.getElementById("pb-form");
    if (!box || !form || event.detail.target !== box) { return; }
    form.querySelectorAll(".pb-live-err").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[data-live-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("data-live-invalid");
    });
    var found = box.querySelector("[data-problems]");
    if (!found) { return; }
    JSON.parse(found.getAttribute("data-problems")).forEach(function (problem) {
      var field = form.querySelector('[name="' + CSS.escape(problem.field) + '"]');
      var holder = field && field.closest(".pb-f");
      if (!holder) { return; }
      if (field.getAttribute("aria-invalid") !== "true") {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("data-live-invalid", "");
      }
      var message = document.createElement("span");
      message.className = "pb-err pb-live-err";
      message.textContent = problem.message;
      holder.appendChild(message);
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.id === "pb-form") { renumberAll(form); }
  }, true);
})();
