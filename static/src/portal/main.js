// The portal's charts (Apache ECharts, its built-in Chinese locale) and small
// conveniences. Data comes from the page's <script type="application/json">
// block: no inline script runs (the CSP forbids it).
import * as echarts from "echarts/core";
import { BarChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { initVerifyButtons } from "./verifypage.js";

echarts.use([BarChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

// One colour per catalogue category (14): ECharts' default palette has 9, so
// categories would share colours in the stacked monthly chart.
const CATEGORY_COLOURS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#f2b447",
];

function base(title) {
  return {
    textStyle: { fontFamily: FONT },
    title: { text: title, left: 0, textStyle: { fontSize: 14, fontFamily: FONT } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    animation: false,
  };
}

const BUILDERS = {
  volumes: (d) => ({
    ...base(d.title),
    color: CATEGORY_COLOURS,
    // Every category in view: a plain legend wraps onto as many rows as it needs.
    legend: { type: "plain", bottom: 0, itemGap: 8, itemWidth: 14 },
    grid: { left: 8, right: 16, top: 40, bottom: 96, containLabel: true },
    xAxis: { type: "category", data: d.months },
    yAxis: { type: "value", minInterval: 1 },
    series: d.series.map((s) => ({ ...s, type: "bar", stack: "all" })),
  }),
  savings: (d) => ({
    ...base(d.title),
    color: ["#9cc9ad", "#1f6f43"],
    legend: { top: 22, right: 0 },
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: d.plants, axisLabel: { interval: 0, rotate: d.plants.length > 4 ? 30 : 0 } },
    yAxis: { type: "value" },
    series: d.series.map((s) => ({ ...s, type: "bar", cursor: "pointer" })),
  }),
  anomalies: (d) => ({
    ...base(d.title),
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: d.rules, inverse: true },
    series: [{ type: "bar", data: d.data, cursor: "pointer", itemStyle: { color: "#8a5a00" } }],
  }),
};

function drawCharts() {
  const block = document.getElementById("chart-data");
  if (!block) return;
  const data = JSON.parse(block.textContent);
  const locale = data.lang === "en" ? "EN" : "ZH";
  const charts = [];
  for (const el of document.querySelectorAll("[data-chart]")) {
    const name = el.dataset.chart;
    if (!data[name] || !BUILDERS[name]) continue;
    const chart = echarts.init(el, null, { locale, renderer: "canvas" });
    chart.setOption(BUILDERS[name](data[name]));
    const links = data[name].links;
    if (links) {
      // Each bar leads to the records behind it (the plant's page, the rule's findings).
      chart.on("click", (p) => { if (links[p.dataIndex]) window.location.assign(links[p.dataIndex]); });
      el.dataset.links = String(links.length);
    }
    el.dataset.drawn = "true";
    charts.push(chart);
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

function autoSubmit() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
}

// The 审核核定 table's print button (the page prints as it is: print styles hide the rest).
function printButtons() {
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
}

drawCharts();
autoSubmit();
printButtons();
initVerifyButtons();
