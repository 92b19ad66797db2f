/* The customer 360 page's score history: CLV and probability alive across scoring runs, with the
   actual and recommended relationship level as steps below. Data comes from the page through
   json_script ("score-history-data"); plotly.js is served locally (vendor/plotly.min.js). */
(function () {
  "use strict";

  function draw() {
    var target = document.getElementById("score-history");
    var source = document.getElementById("score-history-data");
    if (!target || !source || typeof Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.labels;
    // On a phone the legend names the lines; axis titles would only crowd the plot.
    var narrow = target.clientWidth < 560;
    function title(text) { return narrow ? {} : { text: text }; }
    var levelTicks = data.levels.map(function (_, i) { return i; });
    var traces = [
      {
        x: data.dates, y: data.clv, name: labels.clv, type: "scatter", mode: "lines+markers",
        line: { color: "#b3261e" }, yaxis: "y", hovertemplate: "%{y:,.2f}<extra>" + labels.clv + "</extra>"
      },
      {
        x: data.dates, y: data.p_alive, name: labels.p_alive, type: "scatter", mode: "lines+markers",
        line: { color: "#2563eb", dash: "dot" }, yaxis: "y2",
        hovertemplate: "%{y:.0%}<extra>" + labels.p_alive + "</extra>"
      },
      {
        x: data.dates, y: data.actual, name: labels.actual, type: "scatter", mode: "lines+markers",
        line: { shape: "hv", color: "#1e7a46" }, yaxis: "y3",
        text: data.actual.map(function (i) { return i === null ? "" : data.levels[i]; }),
        hovertemplate: "%{text}<extra>" + labels.actual + "</extra>"
      },
      {
        x: data.dates, y: data.recommended, name: labels.recommended, type: "scatter", mode: "lines",
        line: { shape: "hv", color: "#9a5b00", dash: "dash" }, yaxis: "y3",
        text: data.recommended.map(function (i) { return i === null ? "" : data.levels[i]; }),
        hovertemplate: "%{text}<extra>" + labels.recommended + "</extra>"
      }
    ];
    var layout = {
      margin: { l: 10, r: 10, t: 10, b: 10 },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.2, yanchor: "top" },
      // One time axis under both panels: the level steps share the dates of the values above.
      xaxis: { title: title(labels.run), type: "date", anchor: "y3", automargin: true },
      yaxis: { domain: [0.45, 1], title: title(labels.clv), rangemode: "tozero", automargin: true },
      yaxis2: {
        domain: [0.45, 1], overlaying: "y", side: "right", range: [0, 1], tickformat: ".0%",
        dtick: 0.25, title: title(labels.p_alive), automargin: true
      },
      yaxis3: {
        domain: [0, 0.35], range: [-0.5, data.levels.length - 0.5], tickvals: levelTicks,
        ticktext: data.levels, automargin: true
      },
      font: { family: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif" }
    };
    Plotly.newPlot(target, traces, layout, { responsive: true, displaylogo: false, displayModeBar: false });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
