/* The sensor overview map: one marker per Thing, its latest values in the popup. */
"use strict";
(function () {
  var D = window.Datenschatz, M = window.DatenschatzMaps;
  var form = document.getElementById("stream-form");
  if (form && window.uPlot) {
    var chart = document.getElementById("stream-chart");
    var status = document.getElementById("stream-status");
    var plot = null;
    var draw = function () {
      var select = document.getElementById("stream-id");
      var metric = document.getElementById("stream-metric").value;
      var interval = document.getElementById("stream-interval").value;
      var unit = select.options[select.selectedIndex].dataset.unit || "";
      var url = "/api/v1/sensors/datastreams/" + encodeURIComponent(select.value) + "/aggregate?interval=" + interval;
      D.getJson(url).then(function (body) {
        var xs = body.buckets.map(function (b) { return D.seconds(b.start); });
        var ys = body.buckets.map(function (b) { return b[metric]; });
        if (plot) plot.destroy();
        chart.textContent = "";
        plot = new uPlot({
          width: Math.max(280, chart.clientWidth || 600), height: 260,
          series: [{}, { label: metric + (unit ? " (" + unit + ")" : ""), stroke: "#0b5394", width: 2 }],
        }, [xs, ys], chart);
        chart.dataset.points = String(xs.length);
        status.textContent = D.t("js.points", { n: xs.length });
      }).catch(function (error) {
        chart.dataset.points = "0";
        status.textContent = D.t("js.error", { message: error.message });
      });
    };
    form.addEventListener("change", draw);
    draw();
  }

  var element = document.getElementById("map");
  if (!element || !window.L) return;
  var collection = JSON.parse(element.dataset.features);
  collection.features.forEach(function (f) {
    var props = { name: f.properties.name };
    f.properties.values.forEach(function (v) {
      props[v.name] = v.result === null ? "–" : D.cell(v.result) + " " + v.unit;
    });
    f.properties = props;
  });
  var map = M.createMap(element);
  var n = M.addFeatures(map, collection, element);
  document.getElementById("map-status").textContent = D.t("js.features", { n: n });
})();
