/* Maps with Leaflet: a plain background (or configured tiles), context outlines, features.
   Every feature is also a button in a list below the map ("features as a list"): Tab reaches
   it, Enter or Space opens its popup on the map and moves the focus there, Escape closes the
   popup and returns to the button. A screen reader reads the list and the popup's table. */
"use strict";
(function () {
  var D = window.Datenschatz;
  var NAMES = ["name", "title", "titel", "bezeichnung", "bezirk", "station"];
  var HIGHLIGHT = { color: "#b45309", weight: 4 };
  var lists = 0;

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

  /* A feature's name: a name-like property, else the first text property, else its number. */
  function label(properties, number) {
    var keys = Object.keys(properties);
    var named = NAMES.map(function (wanted) {
      return keys.filter(function (k) { return k.toLowerCase() === wanted; })[0];
    }).filter(function (k) { return k && properties[k] !== null && properties[k] !== ""; })[0];
    var text = keys.filter(function (k) { return typeof properties[k] === "string" && properties[k]; })[0];
    var chosen = named || text;
    return chosen ? D.cell(properties[chosen]) : D.t("js.a11y_map_feature", { n: number });
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

  /* The popup of a feature opened from its button: focus into it, Escape and closing return. */
  function keyboardPopups(map) {
    var opener = null;
    map.on("popupopen", function (event) {
      var container = event.popup.getElement();
      var close = container.querySelector(".leaflet-popup-close-button");
      if (close) close.setAttribute("aria-label", D.t("js.a11y_map_close"));
      container.setAttribute("role", "dialog");
      container.setAttribute("aria-label", event.popup.options.title || "");
      container.addEventListener("keydown", function (e) {
        if (e.key === "Escape") {
          e.preventDefault();
          map.closePopup();
        }
      });
      opener = event.popup.options.opener || null;
      if (opener) {
        var content = container.querySelector(".leaflet-popup-content");
        content.tabIndex = -1;
        content.focus({ preventScroll: true });
      }
    });
    map.on("popupclose", function (event) {
      var back = event.popup.options.opener;
      if (back && back === opener && (document.activeElement === document.body
          || event.popup.getElement().contains(document.activeElement))) {
        back.focus();
      }
      event.popup.options.opener = null;
      opener = null;
    });
  }

  function featureList(map, entries, element) {
    var details = document.createElement("details");
    details.className = "map-list";
    lists += 1;
    details.id = "map-list-" + lists;
    var summary = document.createElement("summary");
    summary.textContent = D.t("js.a11y_map_list", { n: entries.length });
    details.appendChild(summary);
    var list = document.createElement("ul");
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = entry.label;
      button.setAttribute("aria-controls", element.id);
      var original = { color: entry.layer.options.color, weight: entry.layer.options.weight };
      var plain = function () {
        if (!entry.layer.isPopupOpen() && document.activeElement !== button) {
          entry.layer.setStyle(original);
        }
      };
      button.addEventListener("focus", function () { entry.layer.setStyle(HIGHLIGHT); });
      button.addEventListener("blur", plain);
      entry.layer.on("popupclose", function () { setTimeout(plain, 0); });
      button.addEventListener("click", function () {
        var popup = entry.layer.getPopup();
        popup.options.opener = button;
        popup.options.title = entry.label;
        entry.layer.openPopup();
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    details.appendChild(list);
    var status = element.nextElementSibling;
    var anchor = status && status.classList.contains("status") ? status : element;
    anchor.insertAdjacentElement("afterend", details);
    return details;
  }

  function addFeatures(map, collection, element) {
    var entries = [];
    var layer = L.geoJSON(collection, {
      pointToLayer: function (_feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#0b5394", weight: 2, fillOpacity: 0.7 });
      },
      style: { color: "#0b5394", weight: 2, fillOpacity: 0.25 },
      onEachFeature: function (feature, featureLayer) {
        var properties = feature.properties || {};
        var name = label(properties, entries.length + 1);
        featureLayer.bindPopup(popupContent(properties), { title: name });
        entries.push({ label: name, layer: featureLayer });
      },
    }).addTo(map);
    var count = entries.length;
    element.dataset.featureCount = String(count);
    if (count) {
      map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 16, animate: false });
      keyboardPopups(map);
      featureList(map, entries, element);
    }
    return count;
  }

  window.DatenschatzMaps = { createMap: createMap, addContext: addContext, addFeatures: addFeatures };
})();
