// The dashboard page in a real browser (Debian's chromium driven by
// puppeteer-core) against the real daemon: a level bumped through the CLI
// shows its numbers, changes live on the next bump, and the page recovers
// when the daemon restarts, with no rate spike across the restart. Then the
// page's cost with 10,000 levels, fed by a synthetic event stream.
//
//   node page_test.mjs --sidecar BIN --cli BIN --out DIR [--doc-screenshot FILE]
//
// Every wait is on a condition raced against a deadline; every child
// process is killed on every exit path.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
for (const required of ["sidecar", "cli", "out"]) {
  if (!args[required]) throw new Error(`--${required} is required`);
}
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is not installed (scripts/install-deps.sh installs chromium)`);
  process.exit(77);
}

const children = new Set();
function run(binary, argv, name) {
  const child = spawn(binary, argv, { stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  child.stderr.on("data", (d) => (child.output += d));
  child.exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", (e) => {
      child.output += `spawn ${binary}: ${e.message}\n`;
      resolve({ code: -1, signal: null });
    });
  });
  child.exited.then(() => children.delete(child));
  child.name = name;
  children.add(child);
  return child;
}
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what, ms, condition) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function healthy(port) {
  return new Promise((resolve) => {
    http.get({ host: "127.0.0.1", port, path: "/healthz" }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on("error", () => resolve(false));
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moq-stats-page-"));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
const sock = path.join(dir, "s.sock");
const port = await freePort();
const daemonArgs = [
  `--listen=unix:${sock}`, `--admin-listen=127.0.0.1:${port}`, "--moq-listen=off",
  `--checkpoint-path=${path.join(dir, "checkpoint")}`, "--checkpoint-interval=100ms", "--stats-interval=200ms", "--stats-levels=2",
  "--grace=30s",
];
let daemon;
async function startDaemon() {
  daemon = run(args.sidecar, daemonArgs, "daemon");
  await until("the daemon's /healthz", 10000, async () => {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited:\n${daemon.output}`);
    return healthy(port);
  });
}
// A `moq-stats bump` that holds its guards open (a broadcast and a track)
// until killed.
function bump(bytes, frames) {
  return run(args.cli, [`--target=unix:${sock}`, "bump", "--path=anon/bbb", `--bytes=${bytes}`,
    `--frames=${frames}`, "--hold=100s"], "bump");
}

// The external row of anon/bbb as the page shows it.
const rowOf = (level) => {
  const row = document.querySelector(`tr[data-level="${level}"][data-tier="external"]`);
  if (!row) return null;
  const cell = (name) => row.querySelector(`td.${name}`).textContent;
  return { broadcasts: cell("broadcasts"), bytes: cell("bytes"), in: cell("in"), fps: cell("fps"),
    history: JSON.parse(row.dataset.history) };
};

// Waits in the page for `condition`, naming `what` on timeout.
async function waitIn(page, what, condition, ms = 15000) {
  try {
    await page.waitForFunction(condition, { timeout: ms });
  } catch (e) {
    const row = await page.evaluate(() => window.rowOf && window.rowOf("anon/bbb")).catch(() => null);
    throw new Error(`${what}: ${e.message}; anon/bbb shows ${JSON.stringify(row)}`);
  }
}

let browser;
const timings = {};
try {
  await startDaemon();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: profile,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 360 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "domcontentloaded" });
  await waitIn(page, "the page to connect", () => document.getElementById("conn").textContent === "live");
  await page.evaluate(`window.rowOf = ${rowOf}`);

  // A bump shows its exact counts: one broadcast open, its bytes.
  const first = bump(36000, 30);
  await waitIn(page, "the first bump's counts",
    () => { const r = window.rowOf("anon/bbb"); return r && r.broadcasts === "1" && r.bytes === "36000"; });
  // The root level counts it too, and the relay session is listed.
  await waitIn(page, "the root level's counts", () => { const r = window.rowOf(""); return r && r.bytes === "36000"; });
  await waitIn(page, "one relay session", () => document.getElementById("sessions").textContent === "1");

  // A second bump changes them live, with a bitrate from successive frames.
  const second = bump(64000, 60);
  await waitIn(page, "the second bump's counts and bitrate", () => {
    const r = window.rowOf("anon/bbb");
    return r && r.broadcasts === "2" && r.bytes === "100000" && Math.max(...r.history) > 0;
  });
  const before = await page.evaluate(rowOf, "anon/bbb");
  const peak = Math.max(...before.history);
  // 64,000 bytes in at most a few 200 ms frames: between 0.5 and 3 Mb/s
  // at the peak sample, never more than all the bytes in one frame.
  if (!(peak >= 64000 * 8 / 1.0 && peak <= 100000 * 8 / 0.15)) throw new Error(`peak bitrate ${peak} b/s`);
  fs.mkdirSync(args.out, { recursive: true });
  await page.screenshot({ path: path.join(args.out, "dashboard.png") });
  if (args["doc-screenshot"]) await page.screenshot({ path: args["doc-screenshot"] });

  // The daemon restarts (its checkpoint keeps the counts): the page
  // reconnects, shows the same totals, and no rate sample spikes.
  daemon.kill("SIGTERM");
  const exit = await daemon.exited;
  if (exit.code !== 0) throw new Error(`the daemon exited with ${JSON.stringify(exit)}:\n${daemon.output}`);
  await waitIn(page, "the page to notice", () => document.getElementById("conn").textContent === "reconnecting");
  const samplesBefore = before.history.length;
  await startDaemon();
  await waitIn(page, "the page to reconnect", () => document.getElementById("conn").textContent === "live");
  await waitIn(page, "the counts after the restart",
    () => { const r = window.rowOf("anon/bbb"); return r && r.bytes === "100000" && r.broadcasts === "2"; }, 20000);
  // And it follows new traffic after the restart.
  const third = run(args.cli, [`--target=unix:${sock}`, "bump", "--path=anon/bbb", "--bytes=1000", "--frames=1"],
    "bump");
  await waitIn(page, "a bump after the restart", () => { const r = window.rowOf("anon/bbb"); return r && r.bytes === "101000"; });
  const after = await page.evaluate(rowOf, "anon/bbb");
  const restartSamples = after.history.slice(Math.min(samplesBefore, after.history.length));
  if (Math.max(0, ...restartSamples) > 1000 * 8 / 0.1) {
    throw new Error(`a rate spiked across the restart: ${restartSamples.join(", ")}`);
  }
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  for (const child of [first, second, third]) child.kill("SIGTERM");
  console.log(`ok: counts, live change and restart recovery; peak ${Math.round(peak)} b/s; ` +
    `${restartSamples.length} samples after the restart, max ${Math.max(0, ...restartSamples)} b/s`);

  // 10,000 levels: a synthetic stream (the daemon's page, its events from
  // here) measures the first render and each update.
  timings.levels = await measureTenThousand(browser, port);
  console.log(`[ measure  ] 10000 levels: ${JSON.stringify(timings.levels)}`);
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  if (daemon) console.error(`--- daemon output (tail) ---\n${daemon.output.split("\n").slice(-40).join("\n")}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const child of children) child.kill("SIGKILL");
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
}

// Serves the page's files (fetched from the daemon) and an event stream of
// 10,000 levels, each with four tracks, then one frame per track every
// second; returns what the page measured.
async function measureTenThousand(browser, daemonPort) {
  const LEVELS = 10000;
  const files = {};
  for (const file of ["/", "/app.js", "/style.css"]) {
    files[file] = await (await fetch(`http://127.0.0.1:${daemonPort}${file}`)).text();
  }
  let tick = 0;
  const streams = new Set();
  const frame = (i, track, role, tier) => {
    const level = `l${String(i).padStart(5, "0")}`;
    const bytes = (tick + 1) * (i + 1) * 100;
    return { frame: { path: `.stats/prefix/${level}/n`, track, sequence: tick,
      payload: { v: 1, level, tier, role, ts_ms: 1e12 + tick * 1000, broadcasts: 1, broadcasts_closed: 0,
        subscriptions: i % 7, subscriptions_closed: 0, bytes, frames: tick * 30, groups: tick } } };
  };
  // Every level changes every second (the worst case): as the daemon
  // writes them, events of at most about 256 KiB.
  const all = () => {
    let out = "";
    let records = [];
    for (let i = 0; i < LEVELS; i++) {
      records.push(frame(i, "publisher.json", "publisher", "external"),
        frame(i, "subscriber.json", "subscriber", "external"));
      if (records.length === 800 || i === LEVELS - 1) {
        out += `event: watch\ndata: ${JSON.stringify(records)}\n\n`;
        records = [];
      }
    }
    return out;
  };
  const watchPrefixes = new Set();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://page.test");
    if (url.pathname === "/api/v1/watch") {
      // The page follows the level broadcasts only: node-format frames hold
      // every live path and are not for it.
      watchPrefixes.add(url.searchParams.get("prefix"));
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(all());
      streams.add(res);
      req.on("close", () => streams.delete(res));
    } else if (req.url === "/api/v1/info") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ counters: { moq_stats_sessions_open: 1 }, bridge: {} }));
    } else if (files[req.url] !== undefined) {
      res.writeHead(200, { "Content-Type": req.url.endsWith(".js") ? "text/javascript" : req.url.endsWith(".css") ? "text/css" : "text/html" });
      res.end(files[req.url]);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const timer = setInterval(() => {
    tick++;
    const chunk = all();
    for (const res of streams) res.write(chunk);
  }, 1000);
  const page = await browser.newPage();
  try {
    const start = Date.now();
    await page.goto(`http://127.0.0.1:${server.address().port}/`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction((n) => document.getElementById("levels").textContent === String(n),
      { timeout: 30000 }, LEVELS + 1 - 1);
    const firstShown = Date.now() - start;
    if (watchPrefixes.size !== 1 || !watchPrefixes.has(".stats/prefix")) {
      throw new Error(`the page followed ${JSON.stringify([...watchPrefixes])}, want only the level broadcasts (.stats/prefix)`);
    }
    // Ten seconds of updates: the page's own time per second of them.
    const from = await page.evaluate(() => ({ ...window.dashStats, at: performance.now() }));
    await page.waitForFunction((at) => performance.now() - at >= 10000, { timeout: 30000, polling: 500 }, from.at);
    const to = await page.evaluate(() => ({ ...window.dashStats, at: performance.now() }));
    const seconds = (to.at - from.at) / 1000;
    const metrics = await page.metrics();
    const ms = (x) => +x.toFixed(1);
    return { firstShownMs: firstShown, renderMsMean: ms((to.renderMs - from.renderMs) / (to.renders - from.renders)),
      renderMsMax: ms(to.maxRenderMs), eventMsPerSecond: ms((to.eventMs - from.eventMs) / seconds),
      sampleMsPerSecond: ms((to.sampleMs - from.sampleMs) / seconds), heapMiB: ms(metrics.JSHeapUsedSize / 1048576),
      rowsShown: await page.evaluate(() => document.querySelectorAll("#rows tr").length) };
  } finally {
    clearInterval(timer);
    await page.close();
    for (const res of streams) res.end();
    server.close();
  }
}
