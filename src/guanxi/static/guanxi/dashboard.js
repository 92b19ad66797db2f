/* Draws the dashboard's charts.
 *
 * Each chart is an element `<div class="chart" data-figure="ID">` next to a
 * `<script type="application/json" id="ID">` written by Django's json_script: a Plotly figure
 * ({data, layout}) whose numbers and labels — already translated — come from the server
 * (guanxi/hierarchy/charts.py). This file only adds the look shared by every chart.
 * Charts are drawn when the page loads and whenever htmx puts new content in the page; charts
 * about to be replaced are purged first, so Plotly does not keep resizing removed elements.
 */
(function () {
  "use strict";

  var BASE_LAYOUT = {
    autosize: true,
    margin: { l: 48, r: 16, t: 48, b: 48 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: {
      family: 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif',
      size: 12,
      color: "#1d2433"
    },
    legend: { orientation: "h", x: 0, y: 1.12 },
    hoverlabel: { align: "left" }
  };
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function merge(base, extra) {
    var out = {};
    Object.keys(base).forEach(function (k) { out[k] = base[k]; });
    Object.keys(extra || {}).forEach(function (k) {
      var b = base[k];
      var e = extra[k];
      var plain = b && e && typeof b === "object" && typeof e === "object" &&
        !Array.isArray(b) && !Array.isArray(e);
      out[k] = plain ? merge(b, e) : e;
    });
    return out;
  }

  function charts(root) {
    if (!root || !root.querySelectorAll) { return []; }
    var found = Array.prototype.slice.call(root.querySelectorAll(".chart[data-figure]"));
    if (root.matches && root.matches(".chart[data-figure]")) { found.push(root); }
    return found;
  }

  function draw(root) {
    if (!window.Plotly) { return; }
    charts(root).forEach(function (el) {
      if (el.dataset.drawn === "yes") { return; }
      var source = document.getElementById(el.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      el.dataset.drawn = "yes";
      window.Plotly.newPlot(el, figure.data, merge(BASE_LAYOUT, figure.layout), CONFIG);
    });
  }

  function purge(root) {
    if (!window.Plotly) { return; }
    charts(root).forEach(function (el) {
      if (el.dataset.drawn === "yes") { window.Plotly.purge(el); }
    });
  }

  document.addEventListener("htmx:load", function (event) { draw(event.detail.elt); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !event.detail.shouldSwap) { return; }
    // innerHTML replaces the children, outerHTML the target itself: purge what goes away.
    purge(target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
})();
