/* Sort and filter every data table (web/_table.html) in place, on load and after HTMX swaps.
 *
 * A header is a button: the first click sorts ascending, the next descending (aria-sort says which). Numbers sort by
 * the raw value the server writes in data-sort ("$9.7k" before "$120.0k"), text by its words with digits as numbers;
 * empty cells ("—") stay last either way. The filter box keeps the rows whose text contains every word typed.
 */
(function () {
  "use strict";

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return { empty: true };
    if (cell.hasAttribute("data-sort")) return { num: parseFloat(cell.getAttribute("data-sort")) };
    var text = cell.textContent.trim();
    if (text === "" || text === "—") return { empty: true };
    return { text: text };
  }

  function compare(a, b) {
    if (a.empty || b.empty) return a.empty === b.empty ? 0 : (a.empty ? 1 : -1);
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    if (a.num !== undefined) return -1;
    if (b.num !== undefined) return 1;
    return a.text.localeCompare(b.text, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, th, index) {
    var descending = th.getAttribute("aria-sort") === "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.hasAttribute("data-empty"); });
    var keyed = rows.map(function (r, i) { return { row: r, key: cellKey(r, index), i: i }; });
    keyed.sort(function (x, y) {
      var c = compare(x.key, y.key);
      if (descending && !x.key.empty && !y.key.empty) c = -c;
      return c || x.i - y.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
  }

  function filterRows(table, query, counter) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hasAttribute("data-empty"); });
    var shown = 0;
    rows.forEach(function (r) {
      var text = r.textContent.toLowerCase();
      var keep = words.every(function (w) { return text.indexOf(w) !== -1; });
      r.hidden = !keep;
      if (keep) shown += 1;
    });
    if (counter) {
      counter.textContent = words.length ? shown + " of " + rows.length + " rows" : rows.length + (rows.length === 1 ? " row" : " rows");
    }
  }

  function enhance(table) {
    if (table.dataset.tableReady || !table.tHead || !table.tBodies.length) return;
    table.dataset.tableReady = "1";
    var caption = table.caption ? table.caption.textContent.trim() : "the table";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "th-sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th, index); });
    });
    var bar = table.closest("details") && table.closest("details").querySelector(".tablebar");
    var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hasAttribute("data-empty"); });
    if (bar && rows.length > 1) {
      var input = document.createElement("input");
      input.type = "search";
      input.className = "table-filter";
      input.placeholder = "Filter rows";
      input.setAttribute("aria-label", "Filter the rows of " + caption);
      var counter = bar.querySelector("[data-table-count]");
      input.addEventListener("input", function () { filterRows(table, input.value, counter); });
      bar.insertBefore(input, bar.firstChild.nextSibling);
    }
  }

  function enhanceAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    Array.prototype.forEach.call(scope.querySelectorAll("table[data-table]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  } else {
    enhanceAll(document);
  }
  document.addEventListener("htmx:afterSettle", function (e) { enhanceAll(e.target); });
})();
