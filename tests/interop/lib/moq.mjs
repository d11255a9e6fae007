// The @moq/net side of the interop tests: a relay-role WebSocket server the
// daemon dials (--origin-url), a client that dials the daemon
// (--moq-listen), announcement and track readers, and the check of the
// sidecar's JSON frames.
import "./polyfill.mjs";

import http from "node:http";

import * as Moq from "@moq/net";
import Session, { selectSubprotocol } from "@moq/qmux";
import WebSocket, { WebSocketServer } from "ws";

import { AsyncQueue, check, fail, STATS_NODE, STATS_PREFIX, TestFailure, within } from "./harness.mjs";

export { Moq };

// moq-lite versions by the names the tests take on their command line.
export const LITE_ALPNS = {
  "lite-05": "moq-lite-05",
  "lite-04": "moq-lite-04",
  "lite-03": "moq-lite-03",
};

// The four tracks of a level's broadcast and the (tier, role) each carries.
export const TRACKS = [
  { name: "publisher.json", tier: "external", role: "publisher" },
  { name: "subscriber.json", tier: "external", role: "subscriber" },
  { name: "internal/publisher.json", tier: "internal", role: "publisher" },
  { name: "internal/subscriber.json", tier: "internal", role: "subscriber" },
];

// The path the level `level` of this test's sidecar is advertised at.
export function levelBroadcast(level) {
  return Moq.Path.from(STATS_PREFIX, "prefix", level, STATS_NODE);
}

// A relay-role server: accepts the daemon's WebSocket, negotiates one of
// `alpns` on QMux (qmux-01 preferred, qmux-00 accepted) and runs the server
// half of moq-lite over it. Each accepted session is queued for next().
export class RelayServer {
  constructor(alpns) {
    this.alpns = alpns;
    this.versions = Object.fromEntries(alpns.map((alpn) => [alpn, ["qmux-01", "qmux-00"]]));
    this.sessions = new AsyncQueue();
    this.refused = [];  // offers no protocol of ours matched
    this.sockets = new Set();
    this.port = undefined;
  }

  async listen(port = 0) {
    this.http = http.createServer((req, res) => {
      res.writeHead(426, { "content-type": "text/plain" });
      res.end("WebSocket only\n");
    });
    this.wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => this.#select([...offered]) });
    this.http.on("upgrade", (req, socket, head) => {
      const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim()).filter(Boolean);
      if (!this.#select(offered)) {
        this.refused.push(offered);
        socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req, offered));
    });
    await new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, "127.0.0.1", resolve);
    });
    this.port = this.http.address().port;
    return this.port;
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/`;
  }

  #select(offered) {
    return selectSubprotocol(offered, { protocols: this.alpns, versions: this.versions, requireProtocol: true });
  }

  async #accept(ws, req, offered) {
    this.sockets.add(ws);
    ws.on("close", () => this.sockets.delete(ws));
    const wire = ws.protocol;
    try {
      const session = Session.accept(ws, {});
      await within(10000, "the QMux session to open", session.ready);
      const url = new URL(`ws://127.0.0.1:${this.port}${req.url}`);
      const conn = await within(10000, "the moq-lite session to start", Moq.Connection.accept(session, url));
      this.sessions.push({ ws, session, conn, wire, offered, acceptedAt: Date.now() });
    } catch (err) {
      this.sessions.push({ ws, wire, offered, error: err });
    }
  }

  // The next session the daemon opened, failing if its set-up failed.
  async next(ms, what = "the sidecar to dial the relay") {
    const s = await this.sessions.next(ms, what);
    if (s.error) fail(`session over ${s.wire} failed to start: ${s.error.message ?? s.error}`);
    return s;
  }

  // Stops listening and drops every connection (no close handshake).
  async close() {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    if (this.wss) this.wss.close();
    if (this.http) {
      this.http.closeAllConnections?.();
      await new Promise((resolve) => this.http.close(() => resolve()));
    }
  }
}

// Dials `url` as a moq-lite client over QMux, offering `alpn` only (on
// qmux-01, then qmux-00).
export async function connectClient(url, alpn, ms) {
  const ws = new WebSocket(url, [`qmux-01.${alpn}`, `qmux-00.${alpn}`]);
  const session = new Session(ws, {});
  await within(ms, `the WebSocket to ${url} to open`, session.ready);
  const conn = await within(ms, "the moq-lite session to start", Moq.Connection.connect(new URL(url), { transport: session }));
  return { session, conn };
}

// Follows announcements under the stats prefix; paths are full paths.
export class Announcements {
  constructor(conn, prefix = STATS_PREFIX) {
    this.prefix = Moq.Path.from(prefix);
    this.consumer = conn.announced(this.prefix);
    this.seen = [];
  }

  // Waits for `path` (or each path of an array, in any order) to be
  // announced (active) or unannounced (!active); other announcements are
  // recorded and skipped.
  async waitFor(path, active, ms) {
    const waiting = new Set([path].flat().map(String));
    const what = `${[...waiting].join(" and ")} to be ${active ? "announced" : "unannounced"}`;
    const wanted = async () => {
      for (;;) {
        const event = await this.consumer.next();
        if (event === undefined) fail(`the announcement stream ended while waiting for ${what} (seen: ${this.#seenText()})`);
        const full = Moq.Path.join(this.prefix, event.path);
        this.seen.push(`${event.active ? "+" : "-"}${full}`);
        if (event.active === active) waiting.delete(String(full));
        if (waiting.size === 0) return;
      }
    };
    try {
      await within(ms, what, wanted());
    } catch (err) {
      if (err instanceof TestFailure) throw new TestFailure(`${err.message} (seen: ${this.#seenText()})`);
      throw err;
    }
  }

  #seenText() {
    return this.seen.length ? this.seen.join(" ") : "nothing";
  }

  close() {
    this.consumer.close();
  }
}

const FRAME_KEYS = [
  "v", "level", "tier", "role", "node", "ts_ms",
  "broadcasts", "broadcasts_closed", "subscriptions", "subscriptions_closed", "bytes", "frames", "groups",
];
export const COUNTER_KEYS = FRAME_KEYS.slice(6);

// Parses one frame of a level's track and checks it is the sidecar's JSON:
// the fields in order, the level, tier, role and node it was published for,
// a plausible wall-clock timestamp and non-negative integer counters.
export function parseFrame(text, { level, tier, role }) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch (err) {
    fail(`frame is not JSON (${err.message}): ${JSON.stringify(text)}`);
  }
  const keys = Object.keys(frame).join(",");
  check(keys === FRAME_KEYS.join(","), `frame fields ${keys}, want ${FRAME_KEYS.join(",")}: ${text}`);
  check(frame.v === 1, `frame "v" is ${frame.v}, want 1: ${text}`);
  check(frame.level === level, `frame "level" is ${JSON.stringify(frame.level)}, want ${JSON.stringify(level)}`);
  check(frame.tier === tier && frame.role === role, `frame is ${frame.tier}/${frame.role}, want ${tier}/${role}`);
  check(frame.node === STATS_NODE, `frame "node" is ${JSON.stringify(frame.node)}, want ${STATS_NODE}`);
  check(
    Number.isInteger(frame.ts_ms) && Math.abs(frame.ts_ms - Date.now()) < 10 * 60 * 1000,
    `frame "ts_ms" ${frame.ts_ms} is not the wall clock (now ${Date.now()})`,
  );
  for (const key of COUNTER_KEYS) {
    check(Number.isInteger(frame[key]) && frame[key] >= 0, `frame "${key}" is not a count: ${text}`);
  }
  return frame;
}

// Whether `frame`'s counters include every value in `want`.
export function countersAre(frame, want) {
  return Object.entries(want).every(([key, value]) => frame[key] === value);
}

export function countersText(frame) {
  return COUNTER_KEYS.map((key) => `${key}=${frame[key]}`).join(" ");
}

// One subscription to one track of a level's broadcast: groups in order,
// each one JSON frame, read with @moq/net alone. Fails when a group has no
// frame or its sequence does not increase.
export class TrackReader {
  constructor(conn, level, track) {
    this.level = level;
    this.track = track;
    this.broadcast = levelBroadcast(level);
    this.consumer = conn.consume(this.broadcast);
    this.subscriber = this.consumer.subscribe(track.name);
    this.lastSequence = undefined;
    this.received = [];  // {sequence, frame}
  }

  get what() {
    return `${this.broadcast} ${this.track.name}`;
  }

  // The next group's frame; undefined when the track ended.
  async next(ms) {
    const group = await within(ms, `a group on ${this.what}`, this.subscriber.recvGroup());
    if (group === undefined) return undefined;
    const text = await within(ms, `the frame of group ${group.sequence} on ${this.what}`, group.readString());
    if (text === undefined) {
      const closed = group.closed.peek();
      fail(`group ${group.sequence} on ${this.what} has no frame (the group ended ${closed ? `with an error: ${closed.message ?? closed}` : "cleanly"})`);
    }
    check(
      this.lastSequence === undefined || group.sequence > this.lastSequence,
      `group ${group.sequence} on ${this.what} after group ${this.lastSequence}: sequences must increase`,
    );
    this.lastSequence = group.sequence;
    const frame = parseFrame(text, { level: this.level, tier: this.track.tier, role: this.track.role });
    this.received.push({ sequence: group.sequence, frame });
    return { sequence: group.sequence, frame };
  }

  // Reads groups until one's counters include `want`; checks that counts
  // never go down on the way.
  async until(want, ms, what = "") {
    const deadline = Date.now() + ms;
    let previous = this.received.at(-1)?.frame;
    for (;;) {
      const left = deadline - Date.now();
      let got;
      try {
        got = left > 0 ? await this.next(left) : fail(`no time left`);
      } catch (err) {
        if (!(err instanceof TestFailure)) throw err;
        const last = this.received.at(-1);
        fail(
          `${this.what}: no frame with ${JSON.stringify(want)}${what ? ` (${what})` : ""} within ${ms / 1000} s; ` +
            `last frame: ${last ? `group ${last.sequence}: ${countersText(last.frame)}` : "none"} (${err.message})`,
        );
      }
      if (got === undefined) fail(`${this.what} ended before a frame with ${JSON.stringify(want)}`);
      if (previous) {
        for (const key of COUNTER_KEYS) {
          check(got.frame[key] >= previous[key], `${this.what}: "${key}" went down from ${previous[key]} to ${got.frame[key]}`);
        }
      }
      previous = got.frame;
      if (countersAre(got.frame, want)) return got;
    }
  }

  close() {
    this.subscriber.close();
    this.consumer.close();
  }
}
