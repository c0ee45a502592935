// Trends charts, drawn from the JSON the page embeds; every number is also in a table.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trends-data").textContent);
  var colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  var config = { displaylogo: false, responsive: true };
  function lines(series) {
    return series.map(function (s) {
      return {
        name: s.name, x: s.x, y: s.y, type: "scatter", mode: "lines",
        customdata: s.ready.map(function (r, i) { return [r, s.repos[i]]; }),
        hovertemplate: "%{x}: %{y}% ready (%{customdata[0]} of %{customdata[1]} repos)<extra>%{fullData.name}</extra>"
      };
    });
  }
  var pctLayout = { margin: { t: 10, r: 10, b: 40, l: 50 }, legend: { orientation: "h", y: -0.15 },
                    yaxis: { title: { text: "% of repos ready" }, range: [0, 100] }, colorway: colours };
  if (document.getElementById("chart-targets")) { Plotly.newPlot("chart-targets", lines(data.targets), pctLayout, config); }
  if (document.getElementById("chart-blockers")) {
    Plotly.newPlot("chart-blockers", [
      { name: "opened", x: data.blockers.x, y: data.blockers.opened, type: "bar", marker: { color: "#D55E00" } },
      { name: "closed", x: data.blockers.x, y: data.blockers.closed, type: "bar", marker: { color: "#0072B2" } }
    ], {
      barmode: "group", margin: { t: 10, r: 10, b: 40, l: 50 }, legend: { orientation: "h", y: -0.15 },
      // Counts are whole numbers: a tick every 1 (or every few) blockers, never "0.5 blockers".
      yaxis: { title: { text: "blockers" }, rangemode: "tozero", tickformat: "d",
               dtick: Math.max(1, Math.ceil(Math.max.apply(null, [1].concat(data.blockers.opened, data.blockers.closed)) / 8)) }
    }, config);
  }
})();
