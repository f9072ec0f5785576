/* The sensor overview map: one marker per Thing, its latest values in the popup. */
"use strict";
(function () {
  var D = window.Datenschatz, M = window.DatenschatzMaps;
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
