/* Draws every <figure data-chart> with Apache ECharts (vendor/echarts), on load and after HTMX swaps.
 *
 * The server (web/charts.py) writes the chart's option as JSON with every shown number already formatted: data
 * items carry `text` (the table's format), `exact` (the unrounded amount, for compact money), `full` (the whole
 * label) and `href` (the records behind the item). This script only adds what JSON cannot hold: the tooltip and
 * label functions, tick labels looked up by position, label widths that fit the screen, and clicks that open records.
 */
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;
  var echarts = window.echarts;
  var esc = function (s) { return echarts.format.encodeHTML(String(s == null ? "" : s)); };

  function tooltip(params) {
    var list = Array.isArray(params) ? params : [params];
    var first = list[0] || {};
    var d0 = first.data || {};
    var head = d0.full || first.name || first.axisValueLabel || "";
    var rows = list.filter(function (p) { return p.data && p.data.text != null; }).map(function (p) {
      var name = (list.length > 1 || p.seriesType === "line") && p.seriesName ? esc(p.seriesName) + ": " : "";
      var exact = p.data.exact && p.data.exact !== p.data.text ? " <span class=\"chart-exact\">(" + esc(p.data.exact) + ")</span>" : "";
      return p.marker + name + "<strong>" + esc(p.data.text) + "</strong>" + exact;
    });
    var more = list.some(function (p) { return p.data && p.data.href; }) ? "<div class=\"chart-hint\">Click to open the records</div>" : "";
    return "<div class=\"chart-tip\"><div>" + esc(head) + "</div>" + rows.join("<br>") + more + "</div>";
  }

  function ticks(axis) {
    if (!axis || !axis.axisLabel || !axis.axisLabel.smkTicks) return;
    var labels = axis.axisLabel.smkTicks, min = axis.min || 0, step = axis.interval || 1;
    axis.axisLabel.formatter = function (v) {
      var t = labels[Math.round((v - min) / step)];
      return t == null ? "" : t;
    };
  }

  function fit(axis, width) {
    // Category labels get a share of the chart's width (a phone gets short labels, ellipsis; full text on hover).
    if (!axis || !axis.axisLabel) return;
    var al = axis.axisLabel;
    if (al.smkShare) al.width = Math.max(60, Math.min(al.smkMax || al.width || 200, Math.round(width * al.smkShare)));
    if (al.smkSlot && axis.data) {
      var slot = (width - 60) / axis.data.length;
      if (slot < 64) { al.rotate = 35; al.overflow = "truncate"; al.width = 70; } else { al.rotate = 0; al.overflow = "break"; al.width = Math.round(slot - 8); }
    }
  }

  function prepare(spec, width) {
    var o = JSON.parse(JSON.stringify(spec));
    [].concat(o.xAxis || [], o.yAxis || []).forEach(function (axis) {
      if (axis.axisLabel && axis.axisLabel.smkShare && !axis.axisLabel.smkMax) axis.axisLabel.smkMax = axis.axisLabel.width;
      ticks(axis); fit(axis, width);
    });
    if (o.grid && o.grid.smkLabelAxis === "y" && o.yAxis && o.yAxis.axisLabel) o.grid.left = o.yAxis.axisLabel.width + 12;
    if (o.tooltip) o.tooltip.formatter = tooltip;
    // People who ask for less motion get the chart drawn at once (bars do not grow in).
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) o.animation = false;
    [].concat(o.xAxis || []).forEach(function (axis) {
      if (axis.axisLabel && axis.axisLabel.rotate && o.grid) o.grid.bottom = Math.max(o.grid.bottom || 0, 72);
    });
    (o.series || []).forEach(function (s) {
      if (s.type === "sankey") {
        if (s.label && s.label.smkShare) s.label.width = Math.max(60, Math.round(width * s.label.smkShare));
        s.right = Math.min(s.right || 120, Math.round(width * 0.25));
        s.label = Object.assign({}, s.label, { formatter: function (p) { return (p.data && p.data.full) || p.name; } });
        return;
      }
      if (s.label && s.label.show && !s.label.formatter) {
        s.label.formatter = function (p) { return p.data && p.data.text != null && p.value != null ? p.data.text : ""; };
      }
    });
    return o;
  }

  function draw(fig) {
    var canvas = fig.querySelector(".chart-canvas");
    var source = fig.querySelector("script[type='application/json']");
    if (!canvas || !source) return;
    var spec = JSON.parse(source.textContent);
    var chart = echarts.getInstanceByDom(canvas) || echarts.init(canvas, null, { renderer: "svg" });
    chart.setOption(prepare(spec, canvas.clientWidth), true);
    fig.smkSpec = spec;
    fig.smkWidth = canvas.clientWidth;
    if (!fig.dataset.chartReady) {
      // On a touch screen the first tap shows the value (there is no hover); a second tap on it opens the records.
      var touch = window.matchMedia && window.matchMedia("(hover: none)").matches;
      var armed = null;
      chart.on("click", function (p) {
        var href = p.data && p.data.href;
        if (!href) return;
        var key = p.seriesIndex + ":" + p.dataIndex;
        if (touch && armed !== key) { armed = key; return; }
        window.location.assign(href);
      });
      fig.dataset.chartReady = "1";
    }
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var figs = scope.matches && scope.matches("figure[data-chart]") ? [scope] : scope.querySelectorAll("figure[data-chart]");
    Array.prototype.forEach.call(figs, function (fig) { if (!fig.dataset.chartReady) draw(fig); });
  }

  var pending = null;
  function resizeAll() {
    Array.prototype.forEach.call(document.querySelectorAll("figure[data-chart][data-chart-ready]"), function (fig) {
      var canvas = fig.querySelector(".chart-canvas");
      var chart = canvas && echarts.getInstanceByDom(canvas);
      if (!chart) return;
      if (canvas.clientWidth !== fig.smkWidth) {
        fig.smkWidth = canvas.clientWidth;
        chart.setOption(prepare(fig.smkSpec, canvas.clientWidth), true);
      }
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
  document.addEventListener("htmx:beforeCleanupElement", function (e) {
    var el = e.target;
    if (el && el.classList && el.classList.contains("chart-canvas")) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    }
  });
  window.addEventListener("resize", function () {
    if (pending) window.clearTimeout(pending);
    pending = window.setTimeout(resizeAll, 120);
  });
  window.smkCharts = { drawAll: drawAll };
})();
