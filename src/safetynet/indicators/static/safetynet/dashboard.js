/* The dashboard's charts: children against the target line, and the monthly trend (fetched from the API). */
(function () {
  "use strict";
  var dataNode = document.getElementById("dashboard-data");
  if (!dataNode) { document.addEventListener("DOMContentLoaded", sortableTable); }
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var pct = function (v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + " %"; };
  var palette = { met: "#2e7d32", behind: "#e0a100", far: "#c62828", none: "#5b7db1" };
  function colourFor(rate, target) {
    if (rate === null || target === null) return palette.none;
    if (rate >= target) return palette.met;
    return target - rate > 0.05 ? palette.far : palette.behind;
  }

  function childrenChart() {
    var node = document.getElementById("chart-children");
    if (!node || !window.echarts) return;
    if (!data.children.length) { node.innerHTML = '<p class="muted">没有下级单位。</p>'; return; }
    var chart = echarts.init(node);
    var series = {
      type: "bar",
      data: data.children.map(function (c) {
        return { value: c.rate === null ? null : +(c.rate * 100).toFixed(1),
                 itemStyle: { color: colourFor(c.rate, c.target === null ? data.target : c.target) } };
      }),
      label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "" : p.value + "%"; } }
    };
    if (data.target !== null) {
      series.markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#c62828" },
        label: { formatter: "目标 " + (data.target * 100).toFixed(1) + "%" },
        data: [{ yAxis: +(data.target * 100).toFixed(1) }] };
    }
    chart.setOption({
      grid: { left: 40, right: 72, top: 30, bottom: 60 },
      tooltip: { trigger: "axis", formatter: function (items) {
        var c = data.children[items[0].dataIndex];
        return c.name + "<br>" + data.label + "：" + pct(c.rate) + "（" + c.numerator + " / " + c.denominator + "）" +
          (c.target !== null ? "<br>目标：" + pct(c.target) : "");
      } },
      xAxis: { type: "category", data: data.children.map(function (c) { return c.name; }),
               axisLabel: { interval: 0, rotate: data.children.length > 8 ? 35 : 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [series]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function trendChart() {
    var node = document.getElementById("chart-trend");
    if (!node) return;
    var params = new URLSearchParams({ unit: data.unit.code, start: data.start, end: data.as_of, interval: "month",
                                       hierarchy: data.hierarchy });
    fetch(data.series_url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (rows) {
        var rows = rows.results || rows;
        // Change since the start of the year, for every card: the first point is the last day of last year.
        var start = {}, end = {};
        rows.forEach(function (r) {
          if (r.unit !== data.unit.code) return;
          if (r.as_of === data.start) start[r.indicator] = r.rate;
          if (r.as_of === data.as_of) end[r.indicator] = r.rate;
        });
        document.querySelectorAll("[data-delta-for]").forEach(function (el) {
          var code = el.getAttribute("data-delta-for");
          if (start[code] === undefined || start[code] === null || end[code] === null || end[code] === undefined) {
            el.textContent = "—"; return;
          }
          var d = (end[code] - start[code]) * 100;
          el.textContent = (d >= 0 ? "+" : "") + d.toFixed(1) + " 个百分点";
          el.className = "delta " + (d > 0 ? "up" : d < 0 ? "down" : "");
        });
        if (!window.echarts) return;
        var days = Array.from(new Set(rows.map(function (r) { return r.as_of; }))).sort();
        var units = [];
        rows.forEach(function (r) { if (r.indicator === data.chosen && units.indexOf(r.unit_name) < 0) units.push(r.unit_name); });
        var series = units.map(function (name) {
          return { name: name, type: "line", smooth: false, symbolSize: 4,
                   lineStyle: { width: name === data.unit.name ? 3 : 1.2 },
                   data: days.map(function (d) {
                     var row = rows.find(function (r) { return r.as_of === d && r.unit_name === name && r.indicator === data.chosen; });
                     return row && row.rate !== null ? +(row.rate * 100).toFixed(1) : null;
                   }) };
        });
        node.innerHTML = "";
        var chart = echarts.init(node);
        chart.setOption({
          grid: { left: 40, right: 20, top: 40, bottom: 30 },
          legend: { type: "scroll", top: 0 },
          tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
          xAxis: { type: "category", data: days.map(function (d) { return d.slice(0, 7); }) },
          yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
          series: series
        });
        window.addEventListener("resize", function () { chart.resize(); });
      })
      .catch(function () { node.innerHTML = '<p class="muted">趋势暂时无法计算，请稍后刷新。</p>'; });
  }

  function sortableTable() {
    var table = document.getElementById("units-table");
    if (!table) return;
    table.querySelectorAll("th a.sort").forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var asc = !link.classList.contains("sort-asc");
        table.querySelectorAll("th a.sort").forEach(function (l) { l.classList.remove("sort-asc", "sort-desc"); });
        link.classList.add(asc ? "sort-asc" : "sort-desc");
        var numeric = link.getAttribute("data-sort") === "number";
        var body = table.tBodies[0];
        var rows = Array.from(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index].getAttribute("data-value"), y = b.cells[index].getAttribute("data-value");
          var cmp = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "zh-CN");
          return asc ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  if (data) document.addEventListener("DOMContentLoaded", function () { childrenChart(); trendChart(); sortableTable(); });
})();
