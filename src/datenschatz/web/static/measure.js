/* A measure's chart: the daily mean of the treated and the control stations, start marked. */
"use strict";
(function () {
  var D = window.Datenschatz;
  var element = document.getElementById("measure-chart");
  if (!element || !window.uPlot) return;
  var config = JSON.parse(element.dataset.config);
  var status = document.getElementById("chart-status");
  var params = new URLSearchParams();
  config.params.forEach(function (p) { params.append(p[0], p[1]); });
  D.getJson(config.url + "?" + params.toString()).then(function (result) {
    var sums = {};
    result.rows.forEach(function (r) {
      var day = String(r[config.time]).slice(0, 10);
      var group = config.treated.indexOf(String(r[config.group])) >= 0 ? 0 : 1;
      if (r[config.value] === null) return;
      sums[day] = sums[day] || [[0, 0], [0, 0]];
      sums[day][group][0] += r[config.value];
      sums[day][group][1] += 1;
    });
    var days = Object.keys(sums).sort();
    var mean = function (pair) { return pair[1] ? pair[0] / pair[1] : null; };
    var data = [
      days.map(function (d) { return D.seconds(d); }),
      days.map(function (d) { return mean(sums[d][0]); }),
      days.map(function (d) { return mean(sums[d][1]); }),
    ];
    var start = D.seconds(config.start);
    new uPlot({
      width: Math.max(280, element.clientWidth || 600),
      height: 320,
      series: [{}, { label: D.t("js.treated"), stroke: "#b45309", width: 2 }, { label: D.t("js.control"), stroke: "#0b5394", width: 2 }],
      hooks: { draw: [function (u) {
        var x = u.valToPos(start, "x", true);
        u.ctx.save(); u.ctx.strokeStyle = "#444"; u.ctx.setLineDash([4, 4]);
        u.ctx.beginPath(); u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke();
        u.ctx.restore();
      }] },
    }, data, element);
    element.dataset.points = String(days.length);
    status.textContent = D.t("js.measure_status", { n: days.length, start: config.start });
  }).catch(function (error) {
    status.textContent = D.t("js.error", { message: error.message });
  });
})();
