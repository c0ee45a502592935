// The campaign's burndown, drawn from the JSON the page embeds; every number is also in a table.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("campaign-data").textContent);
  var traces = [
    { name: "blocked repos", x: data.actual.x, y: data.actual.y, type: "scatter", mode: "lines+markers",
      line: { color: "#D55E00", width: 3 }, hovertemplate: "%{x}: %{y} blocked<extra></extra>" },
    { name: "ideal", x: data.ideal.x, y: data.ideal.y, type: "scatter", mode: "lines",
      line: { color: "#0072B2", dash: "dash" }, hoverinfo: "skip" }
  ];
  if (data.projected) {
    traces.push({ name: "projected", x: data.projected.x, y: data.projected.y, type: "scatter", mode: "lines",
                  line: { color: "#999999", dash: "dot" }, hovertemplate: "%{x}: projected %{y}<extra></extra>" });
  }
  var top = Math.max.apply(null, [1].concat(data.actual.y, data.ideal.y));
  Plotly.newPlot("chart-burndown", traces, {
    margin: { t: 10, r: 10, b: 40, l: 50 }, legend: { orientation: "h", y: -0.15 },
    yaxis: { title: { text: "blocked repos" }, rangemode: "tozero", tickformat: "d", dtick: Math.max(1, Math.ceil(top / 8)) },
    shapes: [{ type: "line", x0: data.due, x1: data.due, yref: "paper", y0: 0, y1: 1, line: { color: "#000000", width: 1 } }],
    annotations: [{ x: data.due, yref: "paper", y: 1, text: "due", showarrow: false, xanchor: "left" }]
  }, { displaylogo: false, responsive: true });
})();
