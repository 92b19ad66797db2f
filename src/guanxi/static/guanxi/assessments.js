// The dimension chart of one relationship: company raters' mean score beside the customer's.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dimension-data");
    var target = document.getElementById("dimension-chart");
    if (!source || !target || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var traces = [
      { type: "bar", name: data.names.company, x: data.labels, y: data.company, marker: { color: "#b3261e" } },
      { type: "bar", name: data.names.customer, x: data.labels, y: data.customer, marker: { color: "#3b6ea5" } }
    ];
    var layout = {
      barmode: "group",
      yaxis: { title: { text: data.axis }, range: [0, 5], dtick: 1 },
      margin: { t: 10, r: 10, b: 80, l: 50 },
      legend: { orientation: "h", y: -0.3 },
      height: 320
    };
    window.Plotly.newPlot(target, traces, layout, { responsive: true, displaylogo: false });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
