/* Maps with Leaflet: a plain background (or configured tiles), context outlines, features. */
"use strict";
(function () {
  var D = window.Datenschatz;

  function popupContent(properties) {
    var table = document.createElement("table");
    table.className = "popup";
    Object.keys(properties).forEach(function (name) {
      var row = table.insertRow();
      var key = document.createElement("th");
      key.scope = "row";
      key.textContent = name;
      row.appendChild(key);
      row.insertCell().textContent = D.cell(properties[name]);
    });
    return table;
  }

  function createMap(element) {
    var map = L.map(element, { attributionControl: Boolean(element.dataset.tileUrl) });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    map.setView([51.54, 7.22], 11);
    return map;
  }

  function addContext(map, url) {
    return D.getJson(url).then(function (body) {
      var features = body.rows.filter(function (r) { return r.geometry; }).map(function (r) {
        return { type: "Feature", geometry: r.geometry, properties: {} };
      });
      L.geoJSON({ type: "FeatureCollection", features: features }, {
        interactive: false,
        style: { color: "#8a94a6", weight: 1, fill: true, fillColor: "#eef1f5", fillOpacity: 0.6 },
      }).addTo(map);
    }).catch(function () { /* context is optional */ });
  }

  function addFeatures(map, collection, element) {
    var count = 0;
    var layer = L.geoJSON(collection, {
      pointToLayer: function (_feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#0b5394", weight: 2, fillOpacity: 0.7 });
      },
      style: { color: "#0b5394", weight: 2, fillOpacity: 0.25 },
      onEachFeature: function (feature, featureLayer) {
        count += 1;
        featureLayer.bindPopup(popupContent(feature.properties || {}));
      },
    }).addTo(map);
    element.dataset.featureCount = String(count);
    if (count) map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 16, animate: false });
    return count;
  }

  window.DatenschatzMaps = { createMap: createMap, addContext: addContext, addFeatures: addFeatures };
})();
