// Overview trend chart: % of repos ready per target. The same numbers are in the table below it,
// so the page stays readable without JavaScript.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trend-data").textContent);
  var traces = data.map(function (s) {
    return {
      name: s.name, x: s.x, y: s.y, type: "scatter", mode: "lines",
      customdata: s.ready.map(function (r, i) { return [r, s.repos[i]]; }),
      hovertemplate: "%{x}: %{y}% ready (%{customdata[0]} of %{customdata[1]} repos)<extra>%{fullData.name}</extra>"
    };
  });
  Plotly.newPlot("trend-chart", traces, {
    margin: { t: 10, r: 10, b: 40, l: 50 },
    legend: { orientation: "h", y: -0.15 },
    yaxis: { title: { text: "% of repos ready" }, range: [0, 100] },
    colorway: ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
  }, { displaylogo: false, responsive: true });
})();
