/* The dataset page: preview table (rows API), map (features), time-series chart (aggregate API). */
"use strict";
(function () {
  var D = window.Datenschatz;

  /* --- preview table: sort by a header, filter per column, page with the API's cursor --- */
  var preview = document.querySelector(".preview");
  if (preview) {
    var table = document.getElementById("preview-table");
    var body = table.querySelector("tbody");
    var status = document.getElementById("preview-status");
    var prev = document.getElementById("preview-prev");
    var next = document.getElementById("preview-next");
    var fields = JSON.parse(preview.dataset.fields);
    var state = { sort: null, desc: false, filters: {}, pages: [], nextUrl: null };
    var PAGE = 20;

    var firstUrl = function () {
      var params = new URLSearchParams();
      params.set("_limit", String(PAGE));
      params.set("_fields", fields.map(function (f) { return f.name; }).join(","));
      Object.keys(state.filters).forEach(function (column) {
        var input = state.filters[column];
        if (input.type === "string") params.append(column + "__contains", input.value);
        else params.append(column, input.value);
      });
      if (state.sort) params.set(state.desc ? "_sort_desc" : "_sort", state.sort);
      return preview.dataset.rowsUrl + "?" + params.toString();
    };

    var render = function (page) {
      body.textContent = "";
      page.rows.forEach(function (row) {
        var tr = body.insertRow();
        fields.forEach(function (f) { tr.insertCell().textContent = D.cell(row[f.name]); });
      });
      var count = page.count && page.count.value !== null ? page.count.value : "?";
      status.textContent = D.t("js.rows_status", { shown: page.rows.length, total: count, page: state.pages.length });
      table.dataset.rows = String(page.rows.length);
    };

    var load = function (url) {
      status.textContent = D.t("js.loading");
      table.setAttribute("aria-busy", "true");
      return D.getJson(url).then(function (page) {
        state.pages.push(url);
        state.nextUrl = page.next;
        render(page);
      }).catch(function (error) {
        body.textContent = "";
        table.dataset.rows = "0";
        status.textContent = D.t("js.error", { message: error.message });
      }).finally(function () {
        table.removeAttribute("aria-busy");
        prev.disabled = state.pages.length < 2;
        next.disabled = !state.nextUrl;
      });
    };

    var restart = function () { state.pages = []; state.nextUrl = null; return load(firstUrl()); };

    next.addEventListener("click", function () { if (state.nextUrl) load(state.nextUrl); });
    prev.addEventListener("click", function () {
      if (state.pages.length < 2) return;
      state.pages.pop();
      load(state.pages.pop());
    });
    table.querySelectorAll("button.sort").forEach(function (button) {
      button.addEventListener("click", function () {
        var column = button.dataset.column;
        if (state.sort !== column) { state.sort = column; state.desc = false; }
        else if (!state.desc) { state.desc = true; }
        else { state.sort = null; state.desc = false; }
        table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
        if (state.sort) {
          button.parentElement.setAttribute("aria-sort", state.desc ? "descending" : "ascending");
        }
        restart();
      });
    });
    var timer = null;
    table.querySelectorAll("input.filter").forEach(function (input) {
      var apply = function () {
        var value = input.value.trim();
        if (value) state.filters[input.dataset.column] = { value: value, type: input.dataset.type };
        else delete state.filters[input.dataset.column];
        restart();
      };
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 350); });
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") { clearTimeout(timer); apply(); } });
    });
    restart();
  }

  /* --- map --- */
  var mapElement = document.getElementById("map");
  if (mapElement && window.L && window.DatenschatzMaps) {
    var M = window.DatenschatzMaps;
    var map = M.createMap(mapElement);
    var mapStatus = document.getElementById("map-status");
    var geometry = mapElement.dataset.geometry;
    var context = mapElement.dataset.contextUrl ? M.addContext(map, mapElement.dataset.contextUrl) : Promise.resolve();
    context.then(function () { return D.getJson(mapElement.dataset.rowsUrl); }).then(function (page) {
      var features = page.rows.filter(function (r) { return r[geometry]; }).map(function (r) {
        var properties = {};
        Object.keys(r).forEach(function (k) { if (k !== geometry) properties[k] = r[k]; });
        return { type: "Feature", geometry: r[geometry], properties: properties };
      });
      var n = M.addFeatures(map, { type: "FeatureCollection", features: features }, mapElement);
      mapStatus.textContent = page.next ? D.t("js.features_first", { n: n }) : D.t("js.features", { n: n });
    }).catch(function (error) {
      mapStatus.textContent = D.t("js.error", { message: error.message });
    });
  }

  /* --- time-series chart --- */
  var form = document.getElementById("chart-form");
  if (form && window.uPlot) {
    var chartElement = document.getElementById("chart");
    var chartStatus = document.getElementById("chart-status");
    var plot = null;
    var draw = function () {
      var time = document.getElementById("chart-time").value;
      var value = document.getElementById("chart-value").value;
      var metric = document.getElementById("chart-metric").value;
      var bucket = document.getElementById("chart-bucket").value;
      var key = time + ":" + bucket, metricKey = metric + ":" + value;
      var params = new URLSearchParams({ group_by: key, metrics: metricKey, _limit: "10000" });
      chartStatus.textContent = D.t("js.loading");
      D.getJson(form.dataset.aggregateUrl + "?" + params.toString()).then(function (result) {
        var rows = result.rows.filter(function (r) { return r[key] !== null; });
        var xs = rows.map(function (r) { return D.seconds(r[key]); });
        var ys = rows.map(function (r) { return r[metricKey]; });
        if (plot) plot.destroy();
        chartElement.textContent = "";
        plot = new uPlot({
          width: Math.max(280, chartElement.clientWidth || 600),
          height: 300,
          series: [{}, { label: metricKey, stroke: "#0b5394", width: 2, points: { show: rows.length < 200 } }],
          axes: [{}, { label: value }],
        }, [xs, ys], chartElement);
        chartElement.dataset.points = String(rows.length);
        chartStatus.textContent = D.t("js.points", { n: rows.length }) + (result.truncated ? " " + D.t("js.truncated") : "");
      }).catch(function (error) {
        chartElement.dataset.points = "0";
        chartStatus.textContent = D.t("js.error", { message: error.message });
      });
    };
    form.addEventListener("change", draw);
    form.addEventListener("submit", function (e) { e.preventDefault(); draw(); });
    draw();
  }
})();
