// The moq-stats dashboard: follows /api/v1/watch (Server-Sent Events), keeps
// the latest frame of every (level, tier, role), derives rates from
// successive frames, and renders one page of the busiest levels at most
// twice a second. /api/v1/info gives the relay sessions and the bridge.
'use strict';

const PAGE_ROWS = 50;
const SAMPLE_MS = 1000;     // rates are sampled this often
const HISTORY = 300;        // samples kept per row for its sparkline: 5 minutes
const RENDER_EVERY_MS = 500;

const rows = new Map();     // "level\u0000tier" -> row
const levelOfPath = new Map();
let epoch = 0;              // counts (re)connections: rates never span two
let page = 0;
let renderTimer = null;
// Figures read by the browser test and the README's measurements.
// Times are milliseconds; eventMs and sampleMs add up.
window.dashStats = { frames: 0, renders: 0, firstRenderMs: null, lastRenderMs: 0, maxRenderMs: 0, renderMs: 0, eventMs: 0,
  sampleMs: 0 };

const $ = (id) => document.getElementById(id);

function rowFor(level, tier) {
  const key = level + '\u0000' + tier;
  let row = rows.get(key);
  if (!row) {
    row = { level, tier, publisher: { bps: 0, fps: 0 }, subscriber: { bps: 0, fps: 0 },
      history: new Float32Array(HISTORY), next: 0, samples: 0 };
    rows.set(key, row);
  }
  return row;
}

function onWatch(event) {
  const start = performance.now();
  for (const record of JSON.parse(event.data)) {
    if (record.frame) onFrame(record.frame);
    else if (record.announce) onAnnounce(record.announce);
  }
  window.dashStats.eventMs += performance.now() - start;
  scheduleRender();
}

function onFrame(f) {
  const p = f.payload;
  if (!p || typeof p.level !== 'string') return;
  levelOfPath.set(f.path, p.level);
  const side = rowFor(p.level, p.tier)[p.role];
  if (!side) return;
  side.last = { epoch, ts_ms: p.ts_ms, bytes: p.bytes, frames: p.frames };
  side.open = p.role === 'publisher' ? p.broadcasts - p.broadcasts_closed : p.subscriptions - p.subscriptions_closed;
  window.dashStats.frames++;
}

// Rates of one (level, tier, role) since the previous sample, from the
// frames' own timestamps. A level writes a frame only when its counts
// changed, so no new frame is no traffic; the span is at most one sample
// period (the bytes of a frame after an idle time came in its last tick).
// A reconnection in between, or a counter that went down (the sidecar
// restarted from an older checkpoint), is a reset: rate 0, new baseline.
function sample(side) {
  const last = side.last;
  const base = side.base;
  side.base = last;
  side.bps = 0;
  side.fps = 0;
  if (!last || !base || last === base || base.epoch !== last.epoch) return;
  if (last.bytes < base.bytes || last.frames < base.frames || last.ts_ms <= base.ts_ms) return;
  const dt = Math.min(last.ts_ms - base.ts_ms, SAMPLE_MS) / 1000;
  side.bps = (last.bytes - base.bytes) * 8 / dt;
  side.fps = (last.frames - base.frames) / dt;
}

function sampleAll() {
  const start = performance.now();
  for (const row of rows.values()) {
    sample(row.publisher);
    sample(row.subscriber);
    row.history[row.next] = row.publisher.bps + row.subscriber.bps;
    row.next = (row.next + 1) % HISTORY;
    row.samples = Math.min(row.samples + 1, HISTORY);
  }
  window.dashStats.sampleMs += performance.now() - start;
  scheduleRender();
}

// The samples of a row, oldest first.
function historyOf(row) {
  const out = [];
  for (let i = row.samples; i > 0; i--) out.push(row.history[(row.next - i + HISTORY) % HISTORY]);
  return out;
}

function onAnnounce(a) {
  if (a.active) return;
  const level = levelOfPath.get(a.path);
  levelOfPath.delete(a.path);
  if (level === undefined) return;
  for (const tier of ['external', 'internal']) rows.delete(level + '\u0000' + tier);
}

function scheduleRender() {
  if (renderTimer === null) renderTimer = setTimeout(render, RENDER_EVERY_MS);
}

const bitrate = (bps) =>
  bps >= 1e9 ? (bps / 1e9).toFixed(2) + ' Gb/s' : bps >= 1e6 ? (bps / 1e6).toFixed(2) + ' Mb/s' :
  bps >= 1e3 ? (bps / 1e3).toFixed(1) + ' kb/s' : Math.round(bps) + ' b/s';
const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function sparkline(row) {
  const history = historyOf(row);
  if (history.length < 2) return '<svg width="120" height="24"></svg>';
  const max = Math.max(...history) || 1;
  const step = 120 / (HISTORY - 1);
  const x0 = 120 - (history.length - 1) * step;
  const points = history.map((v, i) => (x0 + i * step).toFixed(1) + ',' + (23 - (v / max) * 22).toFixed(1));
  return '<svg width="120" height="24"><polyline points="' + points.join(' ') + '"/></svg>';
}

function render() {
  renderTimer = null;
  const start = performance.now();
  const prefix = $('prefix').value.trim().replace(/^\/+|\/+$/g, '');
  const sort = $('sort').value;
  const shown = [];
  for (const row of rows.values()) {
    if (!prefix || row.level === prefix || row.level.startsWith(prefix + '/')) shown.push(row);
  }
  const total = (row) => row.publisher.bps + row.subscriber.bps;
  const compare = {
    bitrate: (a, b) => total(b) - total(a) || (a.level < b.level ? -1 : 1),
    viewers: (a, b) => (b.subscriber.open || 0) - (a.subscriber.open || 0) || total(b) - total(a),
    key: (a, b) => (a.level < b.level ? -1 : a.level > b.level ? 1 : a.tier < b.tier ? -1 : 1),
  }[sort];
  shown.sort(compare);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  page = Math.min(page, pages - 1);
  const html = shown.slice(page * PAGE_ROWS, (page + 1) * PAGE_ROWS).map((row) => {
    const depth = row.level === '' ? 0 : row.level.split('/').length;
    return '<tr data-level="' + escape(row.level) + '" data-tier="' + row.tier +
      '" data-history="' + JSON.stringify(historyOf(row).map(Math.round)) + '">' +
      '<td class="key" style="padding-left:' + (0.6 + depth) + 'em">' + (escape(row.level) || '(root)') + '</td>' +
      '<td class="tier">' + row.tier + '</td>' +
      '<td class="broadcasts">' + (row.publisher.open || 0) + '</td>' +
      '<td class="subscriptions">' + (row.subscriber.open || 0) + '</td>' +
      '<td class="in">' + bitrate(row.publisher.bps) + '</td>' +
      '<td class="out">' + bitrate(row.subscriber.bps) + '</td>' +
      '<td class="fps">' + row.publisher.fps.toFixed(1) + '</td>' +
      '<td class="bytes">' + (row.publisher.last ? row.publisher.last.bytes : 0) + '</td>' +
      '<td>' + sparkline(row) + '</td></tr>';
  });
  $('rows').innerHTML = html.join('');
  $('page').textContent = (page + 1) + '/' + pages;
  $('levels').textContent = String(new Set([...rows.values()].map((r) => r.level)).size);
  const s = window.dashStats;
  s.renders++;
  s.lastRenderMs = performance.now() - start;
  s.renderMs += s.lastRenderMs;
  s.maxRenderMs = Math.max(s.maxRenderMs, s.lastRenderMs);
  if (s.firstRenderMs === null && rows.size > 0) s.firstRenderMs = performance.now();
}

async function refreshInfo() {
  try {
    const info = await (await fetch('/api/v1/info')).json();
    $('sessions').textContent = String(info.counters.moq_stats_sessions_open ?? '–');
    const b = info.bridge || {};
    const parts = [];
    if (b.dial && b.dial.enabled) parts.push(b.dial.connected ? 'connected to ' + b.dial.url : 'dialling ' + b.dial.url);
    if (b.serve && b.serve.enabled) parts.push('serving ' + b.serve.listen + ' (' + b.serve.sessions + ' sessions)');
    $('bridge').textContent = parts.length ? parts.join(', ') : 'off';
  } catch (e) {
    $('sessions').textContent = '–';
  }
}

// The level broadcasts only (`<stats prefix>/prefix/...`): a node-format
// broadcast carries every live path in one frame, which the page does not
// show and which can pass what one SSE stream may hold.
async function levelsPrefix() {
  try {
    const info = await (await fetch('/api/v1/info')).json();
    const statsPrefix = (info.config && info.config['stats-prefix']) || '.stats';
    return statsPrefix + '/prefix';
  } catch (e) {
    return '.stats/prefix';
  }
}

async function connect() {
  const prefix = await levelsPrefix();
  const source = new EventSource('/api/v1/watch?prefix=' + encodeURIComponent(prefix));
  source.addEventListener('open', () => {
    epoch++;
    $('conn').textContent = 'live';
    $('conn').className = 'ok';
    refreshInfo();
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (the stream's retry: 2 s).
    $('conn').textContent = 'reconnecting';
    $('conn').className = 'bad';
  });
  source.addEventListener('watch', onWatch);
}

for (const id of ['prefix', 'sort']) $(id).addEventListener('input', () => { page = 0; scheduleRender(); });
$('prev').addEventListener('click', () => { page = Math.max(0, page - 1); scheduleRender(); });
$('next').addEventListener('click', () => { page++; scheduleRender(); });
setInterval(refreshInfo, 2000);
setInterval(sampleAll, SAMPLE_MS);
connect();
