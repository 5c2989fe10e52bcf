// The dashboard page: polls /api/state once a second and draws it; traces a click on demand.
// Text goes in with textContent only (ids and errors come from the pipeline).
"use strict";

const REFRESH_MS = 1000;
const PLOT_CONFIG = { displaylogo: false, responsive: true };
const PLOT_LAYOUT = { margin: { l: 50, r: 10, t: 10, b: 50 }, legend: { orientation: "h", y: -0.3 }, hovermode: "x" };

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(tbody, rows, render, empty) {
  tbody.replaceChildren();
  if (!rows.length) {
    const td = cell(tbody.insertRow(), empty, "dim");
    td.colSpan = tbody.parentElement.tHead.rows[0].cells.length;
    return;
  }
  for (const item of rows) render(tbody.insertRow(), item);
}

function ms(value) {
  if (value === null || value === undefined) return "—";
  return value >= 1000 ? (value / 1000).toFixed(2) + " s" : Math.round(value) + " ms";
}

function stages(state) {
  fill(document.querySelector("#stages tbody"), state.stages, (row, stage) => {
    row.dataset.stage = stage.key;
    cell(row, stage.label);
    const count = cell(row, stage.count === null ? "—" : stage.count.toLocaleString("en-US"), "num count");
    if (stage.key === "failed_batches" && stage.count) count.classList.add("bad");
    cell(row, stage.rate === null ? "" : stage.rate.toFixed(1) + "/s", "num rate");
    cell(row, stage.note, "dim");
  }, "no data yet");
}

function latency(state) {
  fill(document.querySelector("#latency-table tbody"), state.latency, (row, sink) => {
    row.dataset.sink = sink.sink;
    cell(row, sink.sink);
    cell(row, ms(sink.p50_ms), "num");
    cell(row, ms(sink.p95_ms), "num");
    cell(row, String(sink.samples), "num dim");
    cell(row, sink.measured_as, "dim");
  }, "no data yet");
  const history = state.latency_history;
  const traces = [];
  for (const [sink, series] of Object.entries(history.sinks)) {
    traces.push({ x: history.t, y: series.p50, name: sink + " p50", mode: "lines", type: "scatter" });
    traces.push({ x: history.t, y: series.p95, name: sink + " p95", mode: "lines", type: "scatter", line: { dash: "dot" } });
  }
  Plotly.react("latency-chart", traces, { ...PLOT_LAYOUT, yaxis: { title: { text: "ms" }, rangemode: "tozero" } }, PLOT_CONFIG);
}

function bars(id, clicks, groups) {
  const traces = Object.entries(groups).map(([name, y]) => ({ x: clicks.t, y, name, type: "bar" }));
  const layout = { ...PLOT_LAYOUT, barmode: "stack", yaxis: { title: { text: "clicks / " + clicks.bucket_s + " s" } } };
  Plotly.react(id, traces, layout, PLOT_CONFIG);
}

function problems(state) {
  const errors = document.getElementById("errors");
  errors.replaceChildren();
  const lines = state.errors.length ? state.errors.slice().reverse() : ["none"];
  for (const line of lines) {
    const li = document.createElement("li");
    li.textContent = line;
    if (!state.errors.length) li.className = "dim";
    errors.appendChild(li);
  }
  fill(document.querySelector("#failed tbody"), state.failed_batches, (row, batch) => {
    if (batch.error) {
      const td = cell(row, batch.error, "bad");
      td.colSpan = 4;
      return;
    }
    cell(row, batch.function);
    cell(row, batch.condition);
    cell(row, batch.batch);
    cell(row, batch.first_arrival, "dim");
  }, "none");
}

async function refresh() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    const state = await response.json();
    document.getElementById("header").textContent = state.header;
    document.getElementById("updated").textContent = state.ready
      ? "refreshed " + state.at + " · poll " + state.poll_ms + " ms"
      : "waiting for the first refresh…";
    document.body.dataset.ready = String(state.ready);
    stages(state);
    latency(state);
    document.getElementById("clicks-total").textContent = "(" + state.clicks.total.toLocaleString("en-US") + " clicks)";
    bars("actions-chart", state.clicks, state.clicks.actions);
    bars("pages-chart", state.clicks, state.clicks.pages);
    problems(state);
  } catch (error) {
    document.getElementById("updated").textContent = "dashboard unreachable: " + error;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

async function trace(event) {
  event.preventDefault();
  const click = document.getElementById("trace-input").value.trim();
  const out = document.getElementById("trace-result");
  if (!click) return;
  out.textContent = "tracing " + click + "…";
  out.dataset.state = "running";
  let result;
  try {
    const response = await fetch("/api/trace?click=" + encodeURIComponent(click));
    result = await response.json();
  } catch (error) {
    result = { error: "dashboard unreachable: " + error };
  }
  out.replaceChildren();
  if (result.error) {
    out.textContent = result.error;
    out.className = "bad";
    out.dataset.state = "error";
    return;
  }
  const table = document.createElement("table");
  table.createTHead().innerHTML = "<tr><th>stage</th><th>event</th><th>id</th><th>where / detail</th></tr>";
  const body = table.createTBody();
  for (const stage of result.stages) {
    if (!stage.hits.length) {
      const row = body.insertRow();
      row.dataset.stage = stage.name;
      cell(row, stage.name);
      const td = cell(row, stage.missing, "missing");
      td.colSpan = 3;
      continue;
    }
    stage.hits.forEach((hit, index) => {
      const row = body.insertRow();
      row.dataset.stage = stage.name;
      row.className = "hit";
      cell(row, index ? "" : stage.name);
      cell(row, hit.event);
      cell(row, hit.ident);
      cell(row, hit.detail);
    });
  }
  const summary = document.createElement("p");
  summary.textContent = result.found ? "click " + result.click : "click " + result.click + " is not in any stage";
  out.append(summary, table);
  out.className = "";
  out.dataset.state = result.found ? "found" : "missing";
}

document.getElementById("trace-form").addEventListener("submit", trace);
refresh();
