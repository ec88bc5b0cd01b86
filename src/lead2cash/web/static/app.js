/* lead2cash dashboard: charts (ECharts, SVG renderer), chart and table downloads. */
"use strict";
window.L2C = window.L2C || {};
(function (L2C) {
  const PALETTE = ["#3157d5", "#0f9d8a", "#c0392b", "#c77700", "#7b4fd1", "#2a9bd6", "#8a96ad"];
  L2C.charts = {};

  L2C.download = function (name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  };

  /* An SVG string as a PNG blob (drawn on a canvas at twice the size). */
  L2C.svgToPng = function (svg, width, height, done) {
    const img = new Image();
    img.onload = function () {
      const canvas = document.createElement("canvas");
      canvas.width = width * 2; canvas.height = height * 2;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(done, "image/png");
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  };

  const pct = (v) => (v == null ? "-" : (v * 100).toFixed(1) + "%");
  const num = (v) => (v == null ? "-" : Number(v).toLocaleString("en-US", { maximumFractionDigits: 1 }));

  function option(spec) {
    const base = { color: PALETTE, animation: false, textStyle: { fontFamily: "Inter, Segoe UI, Arial, sans-serif" },
      tooltip: { trigger: "axis" }, legend: { top: 0, icon: "roundRect" },
      grid: { left: 16, right: 24, top: 40, bottom: 28, containLabel: true } };
    if (spec.type === "weekly") {
      return Object.assign(base, {
        xAxis: { type: "category", data: spec.categories, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", name: "cases", splitLine: { lineStyle: { color: "#eef1f6" } } },
        dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 6 }],
        grid: Object.assign(base.grid, { bottom: 56 }),
        series: spec.series.map((s, i) => ({ name: s.name, type: s.kind, data: s.data, stack: s.stack,
          smooth: 0.3, showSymbol: false, lineStyle: { width: 1.6 }, areaStyle: s.kind === "line" ? { opacity: 0.08 } : undefined,
          barCategoryGap: "20%",
          itemStyle: { color: [PALETTE[0], "#188a4a", "#c0392b"][i] } })),
      });
    }
    if (spec.type === "funnel" || spec.type === "hbar") {
      const cats = spec.categories.slice().reverse();
      return Object.assign(base, {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", splitLine: { lineStyle: { color: "#eef1f6" } } },
        yAxis: { type: "category", data: cats },
        series: spec.series.map((s, i) => ({ name: s.name, type: "bar", data: s.data.slice().reverse(),
          barMaxWidth: 26, label: { show: true, position: "right", formatter: (p) => num(p.value) },
          itemStyle: { borderRadius: [0, 4, 4, 0], color: PALETTE[i] } })),
      });
    }
    /* bands: bars per category, optional percent axis and second (line) axis */
    const hasSecond = spec.series.some((s) => s.axis === 1);
    const firstPercent = spec.series.some((s) => s.percent);
    return Object.assign(base, {
      tooltip: { trigger: "axis", valueFormatter: (v) => (firstPercent && v != null && v <= 1 ? pct(v) : num(v)) },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: [{ type: "value", axisLabel: { formatter: firstPercent ? (v) => Math.round(v * 100) + "%" : undefined },
                splitLine: { lineStyle: { color: "#eef1f6" } } }].concat(hasSecond ? [{ type: "value", splitLine: { show: false } }] : []),
      series: spec.series.map((s, i) => ({ name: s.name, type: s.kind || "bar", data: s.data, yAxisIndex: s.axis || 0,
        barMaxWidth: 38, smooth: true, itemStyle: { borderRadius: s.kind === "line" ? 0 : [4, 4, 0, 0], color: PALETTE[i] },
        label: s.kind === "line" ? undefined : { show: true, position: "top", formatter: (p) => (s.percent ? pct(p.value) : num(p.value)) } })),
    });
  }

  L2C.initCharts = function (root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll(".chart[data-chart]").forEach((el) => {
      if (L2C.charts[el.id]) return;
      const chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(JSON.parse(el.dataset.chart)));
      L2C.charts[el.id] = chart;
      el.dataset.ready = "1";
    });
    window.addEventListener("resize", () => Object.values(L2C.charts).forEach((c) => c.resize()));
  };

  function exportChart(id, format) {
    const chart = L2C.charts[id];
    if (!chart) return;
    const svg = chart.renderToSVGString();
    const name = id + "." + format;
    if (format === "svg") {
      L2C.download(name, new Blob([svg], { type: "image/svg+xml" }));
    } else {
      L2C.svgToPng(svg, chart.getWidth(), chart.getHeight(), (blob) => L2C.download(name, blob));
    }
  }

  function csvCell(text) {
    const t = String(text).replace(/\s+/g, " ").trim();
    return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }

  L2C.tableCsv = function (table) {
    return Array.from(table.rows).map((row) => Array.from(row.cells)
      .map((c) => csvCell(c.dataset.csv != null ? c.dataset.csv : c.textContent)).join(",")).join("\n") + "\n";
  };

  document.addEventListener("click", (ev) => {
    const chartBtn = ev.target.closest("[data-export-chart]");
    if (chartBtn) exportChart(chartBtn.dataset.exportChart, chartBtn.dataset.format);
    const tableBtn = ev.target.closest("[data-export-table]");
    if (tableBtn) {
      const table = document.getElementById(tableBtn.dataset.exportTable);
      if (table) L2C.download(tableBtn.dataset.exportTable.replace(/^t-/, "") + ".csv",
                              new Blob([L2C.tableCsv(table)], { type: "text/csv" }));
    }
  });

  document.addEventListener("DOMContentLoaded", () => L2C.initCharts(document));
})(window.L2C);
