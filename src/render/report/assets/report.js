"use strict";
// orch's report: everything is drawn from the JSON in #orch-data, on
// canvases, so thousands of nodes and workloads stay light. Colours are the
// Okabe-Ito palette (safe for colour-blind readers), always with labels,
// dash patterns or hatching beside them.
(function () {
  const D = JSON.parse(document.getElementById("orch-data").textContent);
  const app = document.getElementById("app");
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];
  const OTHER = "#b8bec8";
  const SERIES = [
    { key: 0, label: "current", color: "#0072B2", dash: [] },
    { key: 1, label: "ready", color: "#56B4E9", dash: [2, 2] },
    { key: 2, label: "available", color: "#009E73", dash: [] },
    { key: 3, label: "updated", color: "#E69F00", dash: [6, 3] },
  ];
  const frames = D.frames || [];
  const nodes = D.nodes || { name: [] };
  const workloads = D.workloads || [];
  const nodeCount = nodes.name.length;
  let current = Math.max(0, frames.length - 1);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }
  function duration(s) {
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60 ? (s % 60) + "s" : "");
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h + "h" + (m ? m + "m" : "");
  }
  function pct(used, total) { return total > 0 ? Math.round((100 * used) / total) + "%" : "-"; }
  function table(headers, rows, numeric) {
    const t = el("table");
    const head = el("tr");
    headers.forEach((h, i) => head.append(el("th", { class: numeric && numeric[i] ? "num" : "", text: h })));
    t.append(el("thead", {}, head));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      row.forEach((c, i) => tr.append(el("td", { class: numeric && numeric[i] ? "num" : "", text: String(c) })));
      body.append(tr);
    }
    t.append(body);
    return t;
  }
  function hidpi(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = height + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return ctx;
  }

  // Workload colours: the seven with most replicas at the end, the rest grey.
  const totals = workloads.map((_, w) => {
    const last = frames.length ? frames[frames.length - 1].counts[w] : null;
    return last ? last[0] : 0;
  });
  const ranked = workloads.map((_, w) => w).sort((a, b) => totals[b] - totals[a] || a - b);
  const colour = new Array(workloads.length).fill(OTHER);
  ranked.slice(0, PALETTE.length).forEach((w, i) => { colour[w] = PALETTE[i]; });

  // ---- header
  const outcome = D.outcome || "";
  app.append(
    el("header", { class: "top" },
      el("h1", { text: D.title || "orch" }),
      el("span", { class: "badge " + outcome, id: "outcome", text: outcome })),
    el("p", { class: "summary", id: "summary", text: D.summary || "" }));

  // ---- the step slider (drives the map, the pending counts and the cursors)
  const slider = el("input", { type: "range", id: "step", min: "0", max: String(Math.max(0, frames.length - 1)), value: String(current), "aria-label": "step" });
  const label = el("output", { id: "step-label" });
  const controls = el("div", { class: "controls" }, el("strong", { text: "Step" }), slider, label);

  // ---- workloads and their timelines
  const wlSection = el("section", { id: "workloads" }, el("h2", { text: "Workloads (" + workloads.length + ")" }));
  // Those that did not converge first; the rest in the run's order.
  const order = workloads.map((_, i) => i);
  const settled = (w) => (w.status === "Converged" ? 1 : 0);
  order.sort((a, b) => settled(workloads[a]) - settled(workloads[b]) || a - b);
  wlSection.append(el("div", { class: "scroll" }, table(["workload", "desired", "status", "blocked"],
    order.map((i) => workloads[i]).map((w) => [w.name, w.desired, w.status || "", w.reason ? w.reason + ": " + (w.message || "") : ""]),
    [false, true, false, false])));
  const legend = el("div", { class: "legend" },
    el("span", {}, el("i", { style: "border-top: 2px dashed #1d2430" }), "desired"));
  for (const s of SERIES) legend.append(el("span", {}, el("i", { style: "border-top: 3px " + (s.dash.length ? "dashed" : "solid") + " " + s.color }), s.label));
  legend.append(el("span", {}, el("i", { class: "box", style: "background: rgba(86,180,233,.25)" }), "rolling out"));
  legend.append(el("span", {}, el("i", { class: "box", style: "background: repeating-linear-gradient(45deg, rgba(213,94,0,.45) 0 3px, transparent 3px 6px)" }), "replicas pending (blocked)"));
  const grid = el("div", { class: "timelines", id: "timelines" });
  const wlFilter = el("input", { class: "filter", placeholder: "filter workloads by name or status", "aria-label": "filter workloads" });
  wlSection.append(el("h2", { text: "Convergence over simulated time" }), legend,
    workloads.length > 12 ? wlFilter : "",
    el("div", { class: workloads.length > 12 ? "scroll tall" : "" }, grid));
  wlFilter.addEventListener("input", () => {
    const q = wlFilter.value.toLowerCase();
    cards.forEach(({ card }, i) => {
      const w = workloads[i];
      card.style.display = !q || w.name.toLowerCase().includes(q) || (w.status || "").toLowerCase().includes(q) ? "" : "none";
    });
    autoscaling.filter(q);
  });

  const t0 = frames.length ? frames[0].time : 0;
  const t1 = frames.length ? frames[frames.length - 1].time : 0;
  const axis = el("select", { id: "axis", "aria-label": "x axis" },
    el("option", { value: "time", text: "x: simulated time" }),
    el("option", { value: "step", text: "x: steps, evenly" }));
  axis.addEventListener("change", () => visible.forEach(drawTimeline));
  legend.append(axis);
  function xOf(f, width) {
    const n = Math.max(1, frames.length - 1);
    const byIndex = t1 === t0 || axis.value === "step";
    return byIndex ? (f / n) * width : ((frames[f].time - t0) / (t1 - t0)) * width;
  }
  const visible = new Set();
  const cards = [];
  // Node groups in play: the ready nodes over the same time axis.
  const fleet = frames.some((f) => f.nodes !== undefined);
  let drawFleet = () => {};
  if (fleet) {
    const canvas = el("canvas", { "data-series": "nodes" });
    const card = el("div", { class: "timeline fleet" },
      el("div", { class: "name", text: "Nodes" }),
      el("div", { class: "state", text: "ready nodes (node groups scale the fleet)" }),
      canvas);
    grid.append(card);
    drawFleet = () => {
      const width = canvas.clientWidth || 280, height = 96;
      const ctx = hidpi(canvas, width, height);
      // Beside HPA panels, the same plot width (theirs keeps a right axis).
      const pad = { l: 28, r: autoscaling.count ? 44 : 6, t: 6, b: 16 };
      const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
      const max = Math.max(1, ...frames.map((f) => f.nodes || 0));
      const y = (v) => pad.t + H - (v / max) * H;
      ctx.clearRect(0, 0, width, height);
      ctx.strokeStyle = "#d8dde5"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, pad.t + H); ctx.lineTo(pad.l + W, pad.t + H); ctx.stroke();
      ctx.fillStyle = "#5b6472"; ctx.font = "10px system-ui, sans-serif";
      ctx.textAlign = "right"; ctx.fillText(String(max), pad.l - 4, pad.t + 8); ctx.fillText("0", pad.l - 4, pad.t + H);
      ctx.textAlign = "left"; ctx.fillText(duration(t0), pad.l, height - 3);
      ctx.textAlign = "right"; ctx.fillText(duration(t1), pad.l + W, height - 3);
      ctx.strokeStyle = "#009E73"; ctx.lineWidth = 2;
      ctx.beginPath();
      frames.forEach((f, k) => {
        const x = pad.l + xOf(k, W), v = y(f.nodes || 0);
        if (k === 0) ctx.moveTo(x, v); else { ctx.lineTo(x, y(frames[k - 1].nodes || 0)); ctx.lineTo(x, v); }
      });
      ctx.stroke();
      // Where the slider is, as on the other timelines.
      const x = pad.l + xOf(current, W);
      ctx.strokeStyle = "rgba(29,36,48,.6)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, pad.t + H); ctx.stroke();
    };
    axis.addEventListener("change", drawFleet);
    requestAnimationFrame(drawFleet);
  }
  // HPAs: demand, desired and current replicas, beside the nodes (autoscalers.js).
  const autoscaling = orchAutoscalers({ D, frames, grid, el, hidpi, duration, xOf, current: () => current });
  if (autoscaling.count && fleet) grid.querySelector(".timeline.fleet").classList.add("wide");
  axis.addEventListener("change", autoscaling.redraw);
  order.forEach((i) => {
    const w = workloads[i];
    const canvas = el("canvas", { "data-workload": w.name });
    const card = el("div", { class: "timeline", "data-index": String(i) },
      el("div", { class: "name", title: w.name, text: w.name }),
      el("div", { class: "state" + (w.reason ? " blocked" : ""), title: w.message || "", text: (w.status || "") + " · desired " + w.desired }),
      canvas);
    grid.append(card);
    cards[i] = { card, canvas };
  });
  function drawTimeline(i) {
    const { canvas } = cards[i];
    const width = canvas.clientWidth || 280, height = 96;
    const ctx = hidpi(canvas, width, height);
    const pad = { l: 28, r: 6, t: 6, b: 16 };
    const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
    let max = workloads[i].desired;
    for (const f of frames) max = Math.max(max, f.counts[i][0], f.counts[i][4]);
    max = Math.max(1, max);
    const y = (v) => pad.t + H - (v / max) * H;
    ctx.clearRect(0, 0, width, height);
    // Bands: rolling out (updated < desired or old replicas left), pending.
    for (let f = 0; f + 1 < frames.length; f++) {
      const c = frames[f + 1].counts[i];
      const x0 = pad.l + xOf(f, W), x1 = Math.max(x0 + 2, pad.l + xOf(f + 1, W));
      if (c[3] < workloads[i].desired || c[0] > c[3]) {
        ctx.fillStyle = "rgba(86,180,233,.22)";
        ctx.fillRect(x0, pad.t, x1 - x0, H);
      }
      if (c[4] > 0) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(x0, pad.t, x1 - x0, H);
        ctx.clip();
        ctx.strokeStyle = "rgba(213,94,0,.55)";
        ctx.lineWidth = 1.5;
        for (let x = x0 - H; x < x1; x += 6) {
          ctx.beginPath(); ctx.moveTo(x, pad.t + H); ctx.lineTo(x + H, pad.t); ctx.stroke();
        }
        ctx.restore();
      }
    }
    // A workload blocked at the end: from its last change on, marked and named.
    if (workloads[i].reason && frames.length > 1) {
      let last = 0;
      for (let f = 1; f < frames.length; f++) if (frames[f].counts[i].some((v, k) => v !== frames[f - 1].counts[i][k])) last = f;
      const x0 = pad.l + xOf(last, W), x1 = pad.l + W;
      ctx.fillStyle = "rgba(213,94,0,.12)"; ctx.fillRect(x0, pad.t, Math.max(2, x1 - x0), H);
      ctx.strokeStyle = "#D55E00"; ctx.lineWidth = 2; ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x0, pad.t); ctx.lineTo(x0, pad.t + H); ctx.stroke();
      ctx.fillStyle = "#a8410a"; ctx.font = "600 10px system-ui, sans-serif"; ctx.textAlign = x0 > pad.l + W / 2 ? "right" : "left";
      ctx.fillText("blocked: " + workloads[i].reason, x0 > pad.l + W / 2 ? x0 - 3 : x0 + 3, pad.t + H / 2);
    }
    // Axes.
    ctx.strokeStyle = "#d8dde5"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, pad.t + H); ctx.lineTo(pad.l + W, pad.t + H); ctx.stroke();
    ctx.fillStyle = "#5b6472"; ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "right"; ctx.fillText(String(max), pad.l - 4, pad.t + 8); ctx.fillText("0", pad.l - 4, pad.t + H);
    ctx.textAlign = "left"; ctx.fillText(duration(t0), pad.l, height - 3);
    ctx.textAlign = "right"; ctx.fillText(duration(t1), pad.l + W, height - 3);
    // Desired.
    ctx.setLineDash([4, 3]); ctx.strokeStyle = "#1d2430"; ctx.lineWidth = 1.2;
    ctx.beginPath(); ctx.moveTo(pad.l, y(workloads[i].desired)); ctx.lineTo(pad.l + W, y(workloads[i].desired)); ctx.stroke();
    // Counts, as steps.
    for (const s of SERIES) {
      ctx.setLineDash(s.dash); ctx.strokeStyle = s.color; ctx.lineWidth = 2;
      ctx.beginPath();
      frames.forEach((f, k) => {
        const x = pad.l + xOf(k, W), v = y(f.counts[i][s.key]);
        if (k === 0) ctx.moveTo(x, v); else { ctx.lineTo(x, y(frames[k - 1].counts[i][s.key])); ctx.lineTo(x, v); }
      });
      ctx.stroke();
    }
    ctx.setLineDash([]);
    // Where the slider is.
    if (frames.length) {
      const x = pad.l + xOf(current, W);
      ctx.strokeStyle = "rgba(29,36,48,.6)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, pad.t + H); ctx.stroke();
    }
  }
  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const i = Number(e.target.dataset.index);
      if (e.isIntersecting) { visible.add(i); drawTimeline(i); } else visible.delete(i);
    }
  }, { rootMargin: "200px" }) : null;
  cards.forEach((c, i) => { if (observer) observer.observe(c.card); else { visible.add(i); } });

  // ---- the fleet map
  const mapSection = el("section", { id: "fleet" }, el("h2", { text: "Fleet: " + nodeCount + " nodes in " + (D.zones || []).length + " zones" }));
  const mapLegend = el("div", { class: "legend", id: "map-legend" });
  // Namespaces, for colouring a fleet of many workloads by team.
  const namespaces = [];
  const nsOf = workloads.map((w) => {
    const parts = w.name.split("/");
    const ns = parts.length > 2 ? parts[1] : "(cluster)";
    let i = namespaces.indexOf(ns);
    if (i < 0) { namespaces.push(ns); i = namespaces.length - 1; }
    return i;
  });
  const nsTotals = namespaces.map(() => 0);
  workloads.forEach((_, w) => { nsTotals[nsOf[w]] += totals[w]; });
  const nsRanked = namespaces.map((_, i) => i).sort((a, b) => nsTotals[b] - nsTotals[a] || a - b);
  const nsColour = new Array(namespaces.length).fill(OTHER);
  nsRanked.slice(0, PALETTE.length).forEach((g, i) => { nsColour[g] = PALETTE[i]; });
  const GROUPS = {
    workloads: { of: (w) => w, colour: colour, ranked: ranked, name: (w) => workloads[w].name, count: workloads.length, noun: "workloads" },
    namespaces: { of: (w) => nsOf[w], colour: nsColour, ranked: nsRanked, name: (g) => "namespace " + namespaces[g], count: namespaces.length, noun: "namespaces" },
  };
  function legendFor(groups) {
    mapLegend.replaceChildren();
    if (groups) {
      groups.ranked.slice(0, PALETTE.length).forEach((g) => mapLegend.append(el("span", {}, el("i", { class: "box", style: "background:" + groups.colour[g] }), groups.name(g))));
      if (groups.count > PALETTE.length) mapLegend.append(el("span", {}, el("i", { class: "box", style: "background:" + OTHER }), (groups.count - PALETTE.length) + " other " + groups.noun));
    } else {
      [0, 0.25, 0.5, 0.75, 1].forEach((t) => mapLegend.append(el("span", {}, el("i", { class: "box", style: "background:" + shade(t) }), Math.round(t * 100) + "%")));
    }
    mapLegend.append(el("span", {}, el("i", { class: "box", style: "background: repeating-linear-gradient(45deg, #D55E00 0 2px, #fff 2px 5px)" }), "node not ready / failed"));
  }
  const mode = el("select", { id: "map-mode", "aria-label": "colour nodes by" },
    el("option", { value: "workloads", text: "replicas by workload" }),
    el("option", { value: "namespaces", text: "replicas by namespace" }),
    el("option", { value: "cpu", text: "CPU requested / allocatable" }),
    el("option", { value: "memory", text: "memory requested / allocatable" }));
  // Many workloads cannot each have a colour: then namespaces, or CPU.
  mode.value = workloads.length <= PALETTE.length + 1 ? "workloads" : namespaces.length <= PALETTE.length ? "namespaces" : "cpu";
  mode.addEventListener("change", () => drawMap());
  const NOTES = {
    workloads: "Each cell is a node. Height: its replicas (a full cell holds as many as 90% of the nodes hold or more); colours: their workloads. Hover a node for its numbers.",
    namespaces: "Each cell is a node. Height: its replicas (a full cell holds as many as 90% of the nodes hold or more); colours: their workloads' namespaces. Hover a node for its numbers.",
    cpu: "Each cell is a node. Height and shade: CPU requested over allocatable (light = little, dark = full). Hover a node for its numbers.",
    memory: "Each cell is a node. Height and shade: memory requested over allocatable (light = little, dark = full). Hover a node for its numbers.",
  };
  const mapNote = el("div", { class: "legend", id: "map-note" });
  const modeRow = el("div", { class: "legend" }, el("label", {}, "Show: ", mode));
  const map = el("canvas", { id: "map", "data-nodes": String(nodeCount) });
  const tip = el("div", { id: "tip" });
  mapSection.append(modeRow, mapLegend, mapNote, el("div", { id: "map-wrap" }, map, tip));

  // Placement at a frame, rebuilt from the deltas (fast: one pass over them).
  let placed = [], usedCpu = [], usedMem = [];
  function rebuild(k) {
    placed = Array.from({ length: nodeCount }, () => new Map());
    usedCpu = new Float64Array(nodeCount); usedMem = new Float64Array(nodeCount);
    for (let f = 0; f <= k && f < frames.length; f++) {
      const p = frames[f].place, u = frames[f].used;
      for (let j = 0; j + 2 < p.length; j += 3) {
        const m = placed[p[j]]; if (!m) continue;
        const v = (m.get(p[j + 1]) || 0) + p[j + 2];
        if (v) m.set(p[j + 1], v); else m.delete(p[j + 1]);
      }
      for (let j = 0; j + 2 < u.length; j += 3) { usedCpu[u[j]] += u[j + 1]; usedMem[u[j]] += u[j + 2]; }
    }
  }
  let layout = { cells: [], size: 0 };
  let fullest = 1;
  // A sequential ramp readable without hue (light → dark blue).
  function shade(share) {
    const t = Math.max(0, Math.min(1, share));
    const from = [222, 235, 247], to = [8, 48, 107];
    return "rgb(" + from.map((f, i) => Math.round(f + (to[i] - f) * t)).join(",") + ")";
  }
  function drawMap() {
    const width = map.clientWidth || 1000;
    const zones = D.zones || [];
    // Zones and their nodes by name, whenever each was first seen.
    const zoneOrder = zones.map((_, z) => z).sort((a, b) => (zones[a] < zones[b] ? -1 : zones[a] > zones[b] ? 1 : 0));
    const byZone = zones.map(() => []);
    for (let n = 0; n < nodeCount; n++) byZone[nodes.zone[n]].push(n);
    for (const list of byZone) list.sort((a, b) => (nodes.name[a] < nodes.name[b] ? -1 : nodes.name[a] > nodes.name[b] ? 1 : 0));
    const area = 520 * width;
    let size = Math.floor(Math.sqrt(area / Math.max(1, nodeCount)));
    size = Math.max(9, Math.min(132, size));
    const gap = size >= 40 ? 6 : 1, header = 20;
    const perRow = Math.max(1, Math.floor((width + gap) / (size + gap)));
    let height = 0;
    for (const list of byZone) height += header + Math.ceil(list.length / perRow) * (size + gap) + 8;
    const ctx = hidpi(map, width, Math.max(40, height));
    ctx.clearRect(0, 0, width, height);
    mapNote.textContent = NOTES[mode.value];
    legendFor(GROUPS[mode.value]);
    // Heights are relative to a busy node (the 90th percentile), so one
    // crowded node does not flatten all the others.
    const perNode = new Array(nodeCount);
    for (let n = 0; n < nodeCount; n++) { let c = 0; placed[n].forEach((v) => { c += v; }); perNode[n] = c; }
    perNode.sort((a, b) => a - b);
    fullest = Math.max(1, perNode[Math.floor(0.9 * (nodeCount - 1))] || 1);
    const cells = [];
    let top = 0;
    zoneOrder.forEach((z) => {
      const list = byZone[z];
      const cpu = list.reduce((s, n) => s + usedCpu[n], 0), alloc = list.reduce((s, n) => s + nodes.cpu[n], 0);
      ctx.fillStyle = "#1d2430"; ctx.font = "600 13px system-ui, sans-serif"; ctx.textAlign = "left";
      ctx.fillText(zones[z] + " — " + list.length + (list.length === 1 ? " node" : " nodes") + ", CPU " + pct(cpu, alloc) + " requested", 0, top + 14);
      top += header;
      list.forEach((n, j) => {
        const x = (j % perRow) * (size + gap), y = top + Math.floor(j / perRow) * (size + gap);
        cells.push([x, y, n]);
        drawCell(ctx, n, x, y, size);
      });
      top += Math.ceil(list.length / perRow) * (size + gap) + 8;
    });
    layout = { cells, size, perRow };
    map.dataset.cells = String(cells.length);
  }
  function drawCell(ctx, n, x, y, size) {
    ctx.fillStyle = size >= 14 ? "#eef1f5" : "#e3e7ee"; ctx.fillRect(x, y, size, size);
    const m = placed[n];
    let count = 0;
    m.forEach((c) => { count += c; });
    const groups = GROUPS[mode.value];
    if (groups) {
      const filled = Math.min(size, (size * count) / fullest);
      const byGroup = new Map();
      m.forEach((c, w) => { const g = groups.of(w); byGroup.set(g, (byGroup.get(g) || 0) + c); });
      let yy = y + size;
      const parts = [...byGroup.entries()].sort((a, b) => a[0] - b[0]);
      for (const [g, c] of parts) {
        const h = (filled * c) / count;
        ctx.fillStyle = groups.colour[g]; ctx.fillRect(x, yy - h, size, h); yy -= h;
      }
    } else {
      const [used, alloc] = mode.value === "cpu" ? [usedCpu[n], nodes.cpu[n]] : [usedMem[n], nodes.mem[n]];
      const share = alloc > 0 ? Math.min(1, used / alloc) : 0;
      ctx.fillStyle = shade(share);
      const h = Math.max(share > 0 ? 2 : 0, share * size);
      ctx.fillRect(x, y + size - h, size, h);
    }
    if (nodes.down[n]) {
      ctx.save(); ctx.beginPath(); ctx.rect(x, y, size, size); ctx.clip();
      ctx.strokeStyle = "#D55E00"; ctx.lineWidth = size >= 20 ? 2 : 1;
      for (let d = -size; d < size; d += Math.max(4, size / 5)) { ctx.beginPath(); ctx.moveTo(x + d, y + size); ctx.lineTo(x + d + size, y); ctx.stroke(); }
      ctx.restore();
    }
    if (size >= 14) { ctx.strokeStyle = nodes.down[n] ? "#D55E00" : "rgba(29,36,48,.25)"; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1); }
    if (size >= 60) {
      ctx.fillStyle = "rgba(255,255,255,.85)"; ctx.fillRect(x + 1, y + 1, size - 2, nodes.down[n] ? 42 : 30);
      ctx.fillStyle = "#1d2430"; ctx.font = "600 11px system-ui, sans-serif"; ctx.textAlign = "left";
      const name = nodes.name[n];
      ctx.fillText(name.length > 16 ? name.slice(0, 15) + "…" : name, x + 4, y + 13);
      ctx.font = "10px system-ui, sans-serif";
      ctx.fillText("cpu " + pct(usedCpu[n], nodes.cpu[n]) + " · " + count + " pods", x + 4, y + 26);
      if (nodes.down[n]) ctx.fillText("NOT READY", x + 4, y + 38);
    }
  }
  function nodeAt(px, py) {
    const s = layout.size;
    for (const [x, y, n] of layout.cells) if (px >= x && px < x + s && py >= y && py < y + s) return n;
    return -1;
  }
  map.addEventListener("mousemove", (e) => {
    const r = map.getBoundingClientRect();
    const n = nodeAt(e.clientX - r.left, e.clientY - r.top);
    if (n < 0) { tip.style.display = "none"; return; }
    const lines = [nodes.name[n] + "  (" + (D.zones || [])[nodes.zone[n]] + ")" + (nodes.down[n] ? "  NOT READY" : ""),
      "cpu " + (usedCpu[n] / 1000).toFixed(2) + " / " + (nodes.cpu[n] / 1000).toFixed(2) + " cores (" + pct(usedCpu[n], nodes.cpu[n]) + ")",
      "memory " + usedMem[n] + " / " + nodes.mem[n] + " MiB (" + pct(usedMem[n], nodes.mem[n]) + ")"];
    const parts = [...placed[n].entries()].sort((a, b) => b[1] - a[1]);
    lines.push(parts.reduce((s, [, c]) => s + c, 0) + " / " + nodes.pods[n] + " pods");
    parts.slice(0, 8).forEach(([w, c]) => lines.push("  " + c + " × " + workloads[w].name));
    if (parts.length > 8) lines.push("  … and " + (parts.length - 8) + " more workloads");
    tip.textContent = lines.join("\n");
    tip.style.display = "block";
    tip.style.left = Math.min(e.clientX - r.left + 14, r.width - 300) + "px";
    tip.style.top = (e.clientY - r.top + 14) + "px";
  });
  map.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  // ---- pending replicas and every node's verdict
  const pendSection = el("section", { id: "pending-section" }, el("h2", { text: "Pending replicas" }));
  const pendNow = el("div", { class: "legend", id: "pending-now" });
  const pendList = el("ul", { class: "pending", id: "pending" });
  const verdicts = el("div", { id: "verdicts" });
  pendSection.append(pendNow);
  const pending = D.pending || [];
  if (!pending.length) pendList.append(el("li", { class: "empty", text: "No replica is pending at the end of the run." }));
  pending.forEach((p, i) => {
    const li = el("li", { class: "pending-item", "data-index": String(i) },
      el("span", { class: "count", text: p.count + " ×" }), workloads[p.workload].name,
      el("span", { class: "msg", text: p.message }));
    li.addEventListener("click", () => showVerdicts(i));
    pendList.append(li);
  });
  pendSection.append(el("div", { class: "cols" }, pendList, verdicts));
  function showVerdicts(i) {
    pendList.querySelectorAll("li").forEach((li) => li.classList.toggle("selected", li.dataset.index === String(i)));
    const p = pending[i];
    verdicts.replaceChildren();
    if (!p.verdict || !p.verdict.length) { verdicts.append(el("p", { class: "empty", text: "No per-node verdicts recorded for this workload." })); return; }
    verdicts.append(el("h3", { text: "Filters of " + p.replica + " on every node" }));
    const counts = p.reasons.map(() => 0); let fits = 0;
    p.verdict.forEach((v) => { if (v < 0) fits++; else counts[v]++; });
    const rows = p.reasons.map((r, k) => [counts[k], r]).sort((a, b) => b[0] - a[0]);
    if (fits) rows.push([fits, "fits (no filter rejects it)"]);
    verdicts.append(table(["nodes", "verdict"], rows, [true, false]));
    const filter = el("input", { class: "filter", placeholder: "filter nodes by name or verdict", "aria-label": "filter nodes" });
    const holder = el("div", { class: "scroll" });
    verdicts.append(filter, holder);
    const render = () => {
      const q = filter.value.toLowerCase();
      const rows = [];
      let total = 0;
      p.verdict.forEach((v, n) => {
        const text = v < 0 ? "fits" : p.reasons[v];
        if (q && !(nodes.name[n].toLowerCase().includes(q) || text.toLowerCase().includes(q))) return;
        total++;
        if (rows.length < 300) rows.push([nodes.name[n], (D.zones || [])[nodes.zone[n]], text]);
      });
      const t = table(["node", "zone", "filter verdict"], rows);
      t.id = "verdict-nodes";
      holder.replaceChildren(t);
      if (total > rows.length) holder.append(el("div", { class: "more", text: "… and " + (total - rows.length) + " more nodes (filter to find one)" }));
    };
    filter.addEventListener("input", render);
    render();
  }

  // ---- what-if: before/after and blast radius
  let whatIfSection = null;
  if (D.what_if) {
    const w = D.what_if;
    whatIfSection = el("section", { id: "what-if" }, el("h2", { text: "What if: blast radius" }));
    whatIfSection.append(el("p", { text: w.headline || "" }));
    if (w.failures) {
      whatIfSection.append(el("p", { class: "summary", text: "Each row is one failure, simulated on its own copy of the state; the map shows the fleet before any failure." }));
      whatIfSection.append(table(["failure", "nodes", "replicas lost", "pending", "workloads hurt", "budgets violated", "result"],
        w.failures.map((f) => [f.failure, f.nodes.length, f.lost, f.pending,
          f.workloads.filter((x) => x.status !== "Available").length,
          f.disruptionBudgets.filter((b) => !b.holds).length, f.outcome]),
        [false, true, true, true, true, true, false]));
    } else {
      whatIfSection.append(el("p", { class: "summary", text: (w.failedNodes || []).length + " node(s) failed at t=" + duration(w.failedAt || 0) + " (hatched on the map). Step 0 of the slider is before the failure; the last step is where the loop settled." }));
      const hurt = (w.workloads || []).filter((x) => x.status !== "Available");
      whatIfSection.append(el("p", { text: hurt.length + " of " + (w.workloads || []).length + " workloads lose availability; " + (w.workloads || []).reduce((s, x) => s + x.lost, 0) + " replicas lost." }));
      const rows = [...(w.workloads || [])].sort((a, b) => (a.status === "Available") - (b.status === "Available"));
      whatIfSection.append(el("div", { class: "scroll" }, table(["workload", "desired", "lost", "placed", "pending", "available before → after", "lowest", "status"],
        rows.map((x) => [x.object, x.desired, x.lost, x.placed, x.pending, x.availableBefore + " → " + x.availableAfter, x.availableLowest, x.status]),
        [false, true, true, true, true, false, true, false])));
      if ((w.disruptionBudgets || []).length) {
        whatIfSection.append(el("h3", { text: "Disruption budgets" }));
        whatIfSection.append(table(["budget", "rule", "healthy before → after", "needed", "status"],
          w.disruptionBudgets.map((b) => [b.object, b.rule, b.healthyBefore + " → " + b.healthyAfter, b.desiredHealthy, b.holds ? "Holds" : "Violated"])));
      }
    }
  }

  // ---- events
  const evSection = el("section", { id: "events" }, el("h2", { text: "Events" }));
  const events = D.events || [];
  const evFilter = el("input", { class: "filter", placeholder: "filter events", "aria-label": "filter events" });
  const evHolder = el("div", { class: "scroll" });
  evSection.append(evFilter, evHolder);
  function renderEvents() {
    const q = evFilter.value.toLowerCase();
    const match = events.filter((e) => !q || e.join(" ").toLowerCase().includes(q));
    const shown = match.slice(-300);
    const t = table(["time", "type", "reason", "object", "message"], shown.map((e) => [duration(e[0]), e[1], e[2], e[3], e[4]]));
    t.querySelectorAll("tbody tr").forEach((tr, i) => { if (shown[i][1] === "Warning") tr.children[1].className = "Warning"; });
    evHolder.replaceChildren(t);
    if (match.length > shown.length) evHolder.prepend(el("div", { class: "more", text: (match.length - shown.length) + " earlier events not shown (filter to find them)" }));
    if (!events.length) evHolder.replaceChildren(el("p", { class: "empty", text: "No events." }));
  }
  evFilter.addEventListener("input", renderEvents);

  app.append(controls);
  if (whatIfSection) app.append(whatIfSection);
  app.append(wlSection, mapSection, pendSection, evSection);

  function showFrame(k) {
    current = k;
    const f = frames[k];
    label.textContent = f ? "step " + k + " of " + (frames.length - 1) + " · t=" + duration(f.time) + " · " + f.actions + " actions" : "no steps";
    rebuild(k);
    drawMap();
    let p = 0;
    if (f) for (const c of f.counts) p += c[4];
    pendNow.textContent = "Pending at this step: " + p + " replica(s).";
    visible.forEach(drawTimeline);
    drawFleet();
    autoscaling.redraw();
  }
  slider.addEventListener("input", () => showFrame(Number(slider.value)));
  window.addEventListener("resize", () => showFrame(current));
  renderEvents();
  if (!observer) cards.forEach((_, i) => drawTimeline(i));
  showFrame(current);
  if (pending.length) showVerdicts(0);
  window.orchReport = { ready: true, frames: frames.length, workloads: workloads.length, nodes: nodeCount, autoscalers: autoscaling.count, autoscalerSeries: autoscaling.series };
})();
