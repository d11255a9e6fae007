// Interop, relay role across a broken session: the sidecar must dial again
// and publish current counts on the new session.
//
// Like relay_role_test.mjs (moq-lite-05 on qmux-01): the daemon dials a
// @moq/net relay, a `moq-stats bump` (frames=3) holds a level live, and
// publisher.json shows frames=3. Then, by --mode:
//  close         the relay closes the session (QMux CONNECTION_CLOSE);
//  restart       the relay's server goes away (sockets dropped, no close
//                handshake) and listens again on the same port;
//  garbage-qmux  the relay sends a WebSocket message holding an unknown QMux
//                frame type (0x21), which QMux makes a connection error: the
//                daemon must close the session (the code it sends, if any,
//                is reported);
//  garbage-lite  the relay opens a moq-lite ANNOUNCE request stream whose
//                message is malformed (a prefix longer than the message).
//                moq-lite answers bad bytes on a request stream with a stream
//                reset (the Rust implementation does) or may close the whole
//                session; either is accepted, silence is not, and the daemon
//                must keep serving (over this session or a new one).
// The sidecar must reconnect (its backoff starts at 250 ms; the delay seen
// is reported) and, after a second bump (frames=4) made once the new
// session is up, the new subscriber must see publisher.json with frames=7,
// broadcasts=2: counts that reflect a bump made after the reconnect. Ending
// both holds must unannounce the level.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/reconnect_test.mjs --mode close \
//     --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// MOQ_INTEROP_VERBOSE=1 echoes the children's output. Exits 0 on success,
// 1 on failure, 77 (skipped) when the daemon has no --origin-url flag.
import { endBump, fail, log, makeTempDir, Processes, runTest, skipUnlessFlags, startBump, startSidecar, within } from "./lib/harness.mjs";
import { parseTestOptions } from "./lib/held_level.mjs";
import { Announcements, countersText, levelBroadcast, RelayServer, TrackReader, TRACKS } from "./lib/moq.mjs";

const MODES = ["close", "restart", "garbage-qmux", "garbage-lite"];
const USAGE = `usage: reconnect_test.mjs --sidecar PATH --cli PATH --mode ${MODES.join("|")}\n`;
const options = parseTestOptions(process.argv.slice(2), USAGE, (o) => MODES.includes(o.mode ?? "close"));
const mode = options.mode ?? "close";
const ALPN = "moq-lite-05";

// How a QMux session ended, as @moq/qmux reports it: `closed` fulfils for
// an APPLICATION_CLOSE and rejects for a CONNECTION_CLOSE or a dropped socket.
function describeClose(outcome) {
  if (outcome.status === "fulfilled") return `closed by the peer: code ${outcome.value?.closeCode} "${outcome.value?.reason ?? ""}"`;
  const err = outcome.reason;
  return `ended with ${err?.name ?? "error"}: ${err?.message ?? err}`;
}

async function settle(promise) {
  try {
    return { status: "fulfilled", value: await promise };
  } catch (reason) {
    return { status: "rejected", reason };
  }
}

// Sends a malformed ANNOUNCE request and reports what became of it: the
// session closed, or the stream reset / finished with the session alive.
async function sendMalformedAnnounce(s) {
  const bidi = await s.session.createBidirectionalStream();
  const writer = bidi.writable.getWriter();
  // Stream type 1 (Announce); message length 3 holding a string length of 5.
  await writer.write(new Uint8Array([0x01, 0x03, 0x05, 0x61, 0x62]));
  const reader = bidi.readable.getReader();
  const streamOutcome = settle(reader.read());
  const sessionOutcome = settle(s.session.closed);
  const first = await within(10000, "the sidecar to answer a malformed ANNOUNCE request (stream reset or session close)",
    Promise.race([streamOutcome.then((o) => ({ kind: "stream", o })), sessionOutcome.then((o) => ({ kind: "session", o }))]));
  if (first.kind === "session") return { sessionClosed: true, text: `session ${describeClose(first.o)}` };
  if (first.o.status === "fulfilled" && !first.o.value.done) {
    fail(`the sidecar answered a malformed ANNOUNCE request with data: ${Buffer.from(first.o.value.value).toString("hex")}`);
  }
  const text = first.o.status === "fulfilled" ? "stream finished" : `stream reset: ${first.o.reason?.message ?? first.o.reason}`;
  return { sessionClosed: false, text };
}

const procs = new Processes();
await runTest(`reconnect ${mode}`, procs, async () => {
  skipUnlessFlags(options.sidecar, ["--origin-url", "--moq-listen"]);
  let relay = new RelayServer([ALPN]);
  const port = await relay.listen(0);
  const dir = makeTempDir(`reconnect-${mode}`);
  const bumps = [];
  try {
    const sidecar = await startSidecar(procs, options.sidecar, { dir, originUrl: relay.url });
    const first = await relay.next(15000);
    log(`sidecar dialed, negotiated ${first.wire}`);

    const level = `interop-reconnect-${mode}`;
    const path = levelBroadcast(level);
    const announcements = new Announcements(first.conn);
    bumps.push(startBump(procs, options.cli, sidecar.sock, { path: `${level}/bbb`, frames: 3 }));
    await announcements.waitFor(path, true, 15000);
    const before = await new TrackReader(first.conn, level, TRACKS[0]).until({ frames: 3, broadcasts: 1 }, 15000, "the first bump");
    log(`before: publisher.json group ${before.sequence}: ${countersText(before.frame)}`);

    const broken = Date.now();
    let current = first;
    switch (mode) {
      case "close":
        first.conn.close();
        break;
      case "restart":
        await relay.close();
        relay = new RelayServer([ALPN]);
        await relay.listen(port);
        log(`relay restarted on port ${port}`);
        break;
      case "garbage-qmux": {
        const closed = settle(first.session.closed);
        first.ws.send(new Uint8Array([0x21, 0x00, 0x00, 0x00]));
        log(`sent an unknown QMux frame type; session ${describeClose(await within(10000, "the sidecar to close the session after bad QMux bytes", closed))}`);
        break;
      }
      case "garbage-lite": {
        const answer = await sendMalformedAnnounce(first);
        log(`malformed ANNOUNCE request: ${answer.text}`);
        if (!answer.sessionClosed) current = undefined;  // the same session must keep serving
        break;
      }
    }

    if (current !== undefined) {
      current = await relay.next(15000, "the sidecar to dial the relay again");
      log(`sidecar dialed again after ${Date.now() - broken} ms, negotiated ${current.wire}`);
    } else {
      current = first;
      log("the session survived; checking it still serves");
    }

    const again = new Announcements(current.conn);
    await again.waitFor(path, true, 15000);
    bumps.push(startBump(procs, options.cli, sidecar.sock, { path: `${level}/bbb`, frames: 4 }));
    const after = await new TrackReader(current.conn, level, TRACKS[0]).until(
      { frames: 7, broadcasts: 2, subscriptions: 2 }, 15000, "the second bump, made after the reconnect");
    log(`after: publisher.json group ${after.sequence}: ${countersText(after.frame)}`);

    for (const bump of bumps) await endBump(bump);
    await again.waitFor(path, false, 15000);
    log(`unannounced ${path}`);
    if (!sidecar.child.running) fail(`the sidecar exited during the test\n${sidecar.child.tail()}`);
  } finally {
    await relay.close();
  }
});
