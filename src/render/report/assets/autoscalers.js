"use strict";
// The HorizontalPodAutoscalers of orch's report (D.autoscalers): a panel per
// HPA in the timelines, on the x axis the other timelines use — its target's
// demand (a filled step curve on its own scale, at the right), the HPA's
// desired (dashed) and current (solid) replicas as step lines, its min and
// max (dotted), the slider's step as a cursor and in words below. report.js
// calls orchAutoscalers once the fleet's card is in the grid; nothing is
// added when the run has no HPA.
function orchAutoscalers({ D, frames, grid, el, hidpi, duration, xOf, current }) {
  const list = D.autoscalers || [];
  const DEMAND = "#CC79A7", DESIRED = "#1d2430", CURRENT = "#0072B2", BOUND = "#8a93a1";

  // A milli-value as people write it: cores for cpu, Mi/Gi for memory.
  function quantity(milli, resource) {
    const trim = (v) => String(Math.round(v * 100) / 100);
    if (resource === "memory") {
      const bytes = milli / 1000;
      if (bytes >= 1 << 30) return trim(bytes / (1 << 30)) + "Gi";
      if (bytes >= 1 << 20) return trim(bytes / (1 << 20)) + "Mi";
      return trim(bytes) + "B";
    }
    return trim(milli / 1000);
  }
  const unit = (resource) => (resource === "memory" ? "" : " cores");
  // Per frame: [desired, current], null before the HPA appears.
  function expand(a) {
    const out = new Array(frames.length).fill(null);
    a.counts.forEach(([frame, desired, current], k) => {
      const end = k + 1 < a.counts.length ? a.counts[k + 1][0] : frames.length;
      for (let f = frame; f < end && f < frames.length; f++) out[f] = [desired, current];
    });
    return out;
  }
  // The demand at simulated time t: the last point not after it.
  function demandAt(a, t) {
    let v = null;
    for (const [at, milli] of a.demand) if (at <= t) v = milli; else break;
    return v;
  }
  // Where time t falls on the x axis: between the frames around it, so the
  // demand's changes sit right on either axis (time, or steps evenly).
  function xAt(t, W) {
    if (!frames.length || t <= frames[0].time) return xOf(0, W);
    let lo = 0, hi = frames.length - 1;
    if (t > frames[hi].time) return W;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (frames[mid].time >= t) hi = mid; else lo = mid + 1; }
    const a = frames[lo - 1].time, b = frames[lo].time;
    const x0 = xOf(lo - 1, W), x1 = xOf(lo, W);
    return b === a ? x1 : x0 + ((x1 - x0) * (t - a)) / (b - a);
  }

  const panels = list.map((a, i) => {
    const canvas = el("canvas", { "data-autoscaler": a.name });
    const readout = el("div", { class: "readout" });
    const curve = a.demand.length > 0;
    const key = el("div", { class: "legend" },
      el("span", {}, el("i", { class: "box", style: "background: rgba(204,121,167,.35); border-color: " + DEMAND }),
        curve ? a.resource + " demand (" + (a.resource === "memory" ? "right axis" : "cores, right axis") + ")" : "no " + a.resource + " demand (orch.dev/demand)"),
      el("span", {}, el("i", { style: "border-top: 2px dashed " + DESIRED }), "desired"),
      el("span", {}, el("i", { style: "border-top: 3px solid " + CURRENT }), "current"),
      el("span", {}, el("i", { style: "border-top: 1px dotted " + BOUND }), "min / max"));
    const card = el("div", { class: "timeline autoscaler wide", "data-index": String(i) },
      el("div", { class: "name", title: a.name, text: a.name }),
      el("div", { class: "state", text: "scales " + a.target + " · " + a.min + "–" + a.max + " replicas on " + a.resource }),
      key, canvas, readout);
    grid.append(card);
    return { a, card, canvas, readout, counts: null };
  });

  function draw(p) {
    const { a, canvas } = p;
    if (!p.counts) p.counts = expand(a);
    const width = canvas.clientWidth || 560, height = 150;
    const ctx = hidpi(canvas, width, height);
    const pad = { l: 28, r: 44, t: 8, b: 16 };
    const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
    let max = Math.max(1, a.max);
    for (const c of p.counts) if (c) max = Math.max(max, c[0], c[1]);
    const y = (v) => pad.t + H - (v / max) * H;
    const dMax = Math.max(1, ...a.demand.map((d) => d[1]));
    const yd = (v) => pad.t + H - (v / dMax) * H;
    ctx.clearRect(0, 0, width, height);
    // Demand: from each point to the next (the last to the end), filled.
    if (a.demand.length) {
      const pts = a.demand.map(([t, v]) => [pad.l + xAt(t, W), yd(v)]);
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pad.t + H);
      pts.forEach(([x, v], k) => { if (k > 0) ctx.lineTo(x, pts[k - 1][1]); ctx.lineTo(x, v); });
      ctx.lineTo(pad.l + W, pts[pts.length - 1][1]);
      ctx.lineTo(pad.l + W, pad.t + H);
      ctx.closePath();
      ctx.fillStyle = "rgba(204,121,167,.22)"; ctx.fill();
      ctx.beginPath();
      pts.forEach(([x, v], k) => { if (k === 0) ctx.moveTo(x, v); else { ctx.lineTo(x, pts[k - 1][1]); ctx.lineTo(x, v); } });
      ctx.lineTo(pad.l + W, pts[pts.length - 1][1]);
      ctx.strokeStyle = DEMAND; ctx.lineWidth = 1.5; ctx.setLineDash([]); ctx.stroke();
    }
    // Axes: replicas on the left, the demand's scale on the right.
    ctx.strokeStyle = "#d8dde5"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, pad.t + H); ctx.lineTo(pad.l + W, pad.t + H); ctx.lineTo(pad.l + W, pad.t); ctx.stroke();
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#5b6472"; ctx.textAlign = "right";
    ctx.fillText(String(max), pad.l - 4, pad.t + 8); ctx.fillText("0", pad.l - 4, pad.t + H);
    ctx.textAlign = "left"; ctx.fillText(duration(frames.length ? frames[0].time : 0), pad.l, height - 3);
    ctx.textAlign = "right"; ctx.fillText(duration(frames.length ? frames[frames.length - 1].time : 0), pad.l + W, height - 3);
    // When the demand changes, under the axis where there is room.
    let room = pad.l + 40;
    ctx.fillStyle = "#a3527f"; ctx.textAlign = "center";
    for (const [t] of a.demand.slice(1)) {
      const x = pad.l + xAt(t, W), text = duration(t);
      if (x - 20 < room || x + 20 > pad.l + W - 40) continue;
      ctx.fillText(text, x, height - 3);
      room = x + 20 + ctx.measureText(text).width / 2;
    }
    if (a.demand.length) {
      ctx.fillStyle = "#a3527f"; ctx.textAlign = "left";
      ctx.fillText(quantity(dMax, a.resource), pad.l + W + 4, pad.t + 8); ctx.fillText("0", pad.l + W + 4, pad.t + H);
    }
    // Bounds.
    ctx.strokeStyle = BOUND; ctx.lineWidth = 1; ctx.setLineDash([1, 3]);
    for (const [v, name] of [[a.min, "min"], [a.max, "max"]]) {
      ctx.beginPath(); ctx.moveTo(pad.l, y(v)); ctx.lineTo(pad.l + W, y(v)); ctx.stroke();
      // The max's label under its line (above it would leave the plot).
      ctx.fillStyle = BOUND; ctx.textAlign = "left"; ctx.fillText(name + " " + v, pad.l + 3, name === "max" ? y(v) + 10 : y(v) - 2);
    }
    // Current and desired, as steps, from the frame the HPA appears.
    // Desired last, dashed over current where they agree.
    for (const [k, colour, dash, lineWidth] of [[1, CURRENT, [], 2.5], [0, DESIRED, [5, 3], 2]]) {
      ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = lineWidth;
      ctx.beginPath();
      let last = null;
      p.counts.forEach((c, f) => {
        if (!c) { last = null; return; }
        const x = pad.l + xOf(f, W), v = y(c[k]);
        if (last === null) ctx.moveTo(x, v); else { ctx.lineTo(x, last); ctx.lineTo(x, v); }
        last = v;
      });
      if (last !== null) ctx.lineTo(pad.l + W, last);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    // The slider's step.
    const now = current();
    if (frames.length) {
      const x = pad.l + xOf(now, W);
      ctx.strokeStyle = "rgba(29,36,48,.6)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, pad.t + H); ctx.stroke();
    }
  }
  // In words, at frame `now` (every panel, drawn or not): from the change list.
  function describe(p, now) {
    const { a } = p, f = frames[now];
    if (!f) { p.readout.textContent = ""; return; }
    let c = null;
    for (const row of a.counts) if (row[0] <= now) c = row; else break;
    const d = demandAt(a, f.time);
    p.readout.textContent = "t=" + duration(f.time) + ": " +
      (d === null ? "" : a.resource + " demand " + quantity(d, a.resource) + unit(a.resource) + " · ") +
      (c ? "desired " + c[1] + " · current " + c[2] : "not synced yet");
  }

  const visible = new Set();
  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const i = Number(e.target.dataset.index);
      if (e.isIntersecting) { visible.add(i); draw(panels[i]); } else visible.delete(i);
    }
  }, { rootMargin: "200px" }) : null;
  panels.forEach((p, i) => { if (observer) observer.observe(p.card); else visible.add(i); });
  const redraw = () => {
    const now = current();
    panels.forEach((p) => describe(p, now));
    visible.forEach((i) => draw(panels[i]));
  };
  // The workloads' filter: an HPA shows when its name or its target's matches.
  const filter = (q) => panels.forEach(({ a, card }) => {
    card.style.display = !q || a.name.toLowerCase().includes(q) || a.target.toLowerCase().includes(q) ? "" : "none";
  });
  return {
    count: panels.length,
    redraw,
    filter,
    // What panel i draws, per frame (for checks): counts, and demand at each frame's time.
    series: (i) => {
      const p = panels[i];
      if (!p.counts) p.counts = expand(p.a);
      return {
        name: p.a.name,
        desired: p.counts.map((c) => (c ? c[0] : null)),
        current: p.counts.map((c) => (c ? c[1] : null)),
        demand: frames.map((f) => demandAt(p.a, f.time)),
        points: p.a.demand,
      };
    },
  };
}
