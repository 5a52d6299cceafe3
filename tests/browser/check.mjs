// Opens orch's HTML report (or renders a Markdown summary's Mermaid blocks)
// in headless Chromium and prints one JSON line with what it found; the
// Rust test (tests/browser.rs) asserts on it. Usage:
//   node check.mjs report FILE.html SCREENSHOT.png
//   node check.mjs mermaid FILE.md
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function withPage(body) {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    const requests = [];
    page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
    try {
      const result = await body(page);
      return { ...result, errors, requests };
    } catch (e) {
      // What the page said is the likeliest cause.
      throw new Error(String(e && e.message ? e.message : e) + "\npage errors: " + JSON.stringify(errors));
    }
  } finally {
    await browser.close();
  }
}

// Distinct colours in a PNG, counted by the browser itself (no image library).
async function distinctColours(page, png) {
  const url = "data:image/png;base64," + png.toString("base64");
  return page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width; c.height = img.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  }, url);
}

async function report(file, screenshot) {
  return withPage(async (page) => {
    const started = Date.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => window.orchReport && window.orchReport.ready, null, { timeout: 60000 });
    const loadMs = Date.now() - started;
    const info = await page.evaluate(() => ({
      ...window.orchReport,
      timelines: document.querySelectorAll(".timeline canvas[data-workload]").length,
      fleetTimelines: document.querySelectorAll(".timeline.fleet canvas").length,
      autoscalerPanels: document.querySelectorAll(".timeline.autoscaler canvas[data-autoscaler]").length,
      cells: Number(document.getElementById("map").dataset.cells),
      pendingList: !!document.getElementById("pending"),
      pendingItems: document.querySelectorAll("#pending li.pending-item").length,
      verdictRows: document.querySelectorAll("#verdict-nodes tbody tr").length,
      whatIf: !!document.getElementById("what-if"),
      events: document.querySelectorAll("#events tbody tr").length,
      outcome: document.getElementById("outcome").textContent,
      label: document.getElementById("step-label").textContent,
    }));
    // The HPAs' panels (the first ten): what each draws per frame, its
    // colours' pixels once on screen, and its words at the slider's step.
    const autoscalers = [];
    for (let i = 0; i < Math.min(10, info.autoscalers || 0); i++) {
      await page.$eval(".timeline.autoscaler[data-index=\"" + i + "\"]", (c) => c.scrollIntoView({ block: "center" }));
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      autoscalers.push(await page.evaluate((i) => {
        const series = window.orchReport.autoscalerSeries(i);
        const canvas = document.querySelector(".timeline.autoscaler[data-index=\"" + i + "\"] canvas");
        const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        const near = (rgb, within = 24) => {
          let n = 0;
          for (let p = 0; p < d.length; p += 4) {
            if (d[p + 3] > 200 && Math.abs(d[p] - rgb[0]) < within && Math.abs(d[p + 1] - rgb[1]) < within && Math.abs(d[p + 2] - rgb[2]) < within) n++;
          }
          return n;
        };
        const pixels = { demand: near([204, 121, 167]), desired: near([29, 36, 48], 40), current: near([0, 114, 178]) };
        return { ...series, canvas: canvas.dataset.autoscaler, pixels };
      }, i));
    }
    // The slider: to the first step and back to the last.
    const labels = [];
    const readouts = [];
    for (const value of [0, info.frames - 1]) {
      await page.$eval("#step", (s, v) => { s.value = String(v); s.dispatchEvent(new Event("input")); }, value);
      labels.push(await page.$eval("#step-label", (e) => e.textContent));
      readouts.push(await page.$$eval(".timeline.autoscaler .readout", (r) => r.map((e) => e.textContent)));
    }
    // Hover the first node's cell: its tooltip names it.
    const box = await page.$eval("#map", (m) => { const r = m.getBoundingClientRect(); return { x: r.left, y: r.top }; });
    await page.$eval("#map", (m) => m.scrollIntoView({ block: "center" }));
    const box2 = await page.$eval("#map", (m) => { const r = m.getBoundingClientRect(); return { x: r.left, y: r.top }; });
    await page.mouse.move(box2.x + 4, box2.y + 24);
    const tip = await page.$eval("#tip", (t) => (t.style.display === "block" ? t.textContent : ""));
    await page.evaluate(() => window.scrollTo(0, 0));
    const png = await page.screenshot({ path: screenshot, fullPage: false });
    const colours = await distinctColours(page, png);
    const bytes = readFileSync(file).length;
    return { ok: true, info, labels, tip, colours, bytes, loadMs, mapTop: box.y, autoscalers, readouts };
  });
}

async function mermaid(file) {
  const text = readFileSync(file, "utf8");
  const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  return withPage(async (page) => {
    await page.setContent("<!DOCTYPE html><html><body><div id=\"out\"></div></body></html>");
    await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
    const rendered = await page.evaluate(async (blocks) => {
      window.mermaid.initialize({ startOnLoad: false });
      const out = [];
      for (const [i, code] of blocks.entries()) {
        try {
          const { svg } = await window.mermaid.render("chart" + i, code);
          document.getElementById("out").insertAdjacentHTML("beforeend", svg);
          out.push({ ok: true, svg: svg.length, error: svg.includes("Syntax error") ? "syntax error drawn" : null });
        } catch (e) {
          out.push({ ok: false, error: String(e && e.message ? e.message : e) });
        }
      }
      return out;
    }, blocks);
    const bars = await page.evaluate(() => document.querySelectorAll("#out rect.task").length);
    return { ok: true, blocks: blocks.length, rendered, bars };
  });
}

const [mode, file, screenshot] = process.argv.slice(2);
try {
  const result = mode === "report" ? await report(file, screenshot) : await mermaid(file);
  console.log(JSON.stringify(result));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack ? e.stack : e) }));
  process.exitCode = 1;
}
