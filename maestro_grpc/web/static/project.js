// A project's metric charts (uPlot), kept live by the page's event stream
// (/projects/<id>/live: WatchMetrics as server-sent events). No inline
// script anywhere: the data comes in each chart's data-series attribute.
(function () {
  "use strict";
  var charts = new Map();

  function draw(el) {
    var data = JSON.parse(el.dataset.series);
    var options = {
      width: Math.max(el.clientWidth, 300),
      height: 220,
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false, setScale: true } },
      series: [{}, { label: data.name, stroke: "#1f4f8f", width: 2, points: { show: data.t.length < 80 } }]
    };
    var plot = new uPlot(options, [data.t, data.v], el);
    charts.set(data.name, { plot: plot, t: data.t, v: data.v, el: el });
  }

  function add(point) {
    var chart = charts.get(point.name);
    if (!chart) { return; }
    // Points arrive in write order; keep the series in time order.
    var i = chart.t.length;
    while (i > 0 && chart.t[i - 1] > point.t) { i -= 1; }
    chart.t.splice(i, 0, point.t);
    chart.v.splice(i, 0, point.v);
    chart.plot.setData([chart.t, chart.v]);
    var counts = document.querySelectorAll(".live-count");
    counts.forEach(function (count) {
      if (count.dataset.metric === point.name) {
        count.textContent = String(Number(count.textContent) + 1);
      }
    });
  }

  function status(text) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; }
  }

  function start() {
    document.querySelectorAll(".chart[data-series]").forEach(draw);
    document.querySelectorAll(".reset-zoom").forEach(function (button) {
      button.addEventListener("click", function () {
        charts.forEach(function (chart) {
          if (chart.el.id === button.dataset.chart && chart.t.length) {
            chart.plot.setScale("x", { min: chart.t[0], max: chart.t[chart.t.length - 1] });
          }
        });
      });
    });
    var page = document.querySelector("[data-live]");
    if (!page || !window.EventSource) { return; }
    var source = new EventSource(page.dataset.live);
    source.addEventListener("ready", function () { status("(live)"); });
    source.addEventListener("points", function (event) {
      JSON.parse(event.data).points.forEach(add);
    });
    source.onerror = function () { status("(reconnecting…)"); };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
