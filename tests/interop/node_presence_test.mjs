// Interop, node format: session presence and a named tier, read with
// @moq/net from the real daemon.
//
// The daemon runs with --stats-format=node. The `moq-stats` CLI (the C++
// relay library) holds, in the named tier `edge`, a session guard of auth
// root `acme` and a broadcast of `acme/cam` with 3 frames; a second one
// holds a default-tier session guard of the same root. The @moq/net client
// reads `sessions.json` (`{}` while idle, then `{"acme":{"sessions":1,
// "sessions_closed":0}}`), and `edge/sessions.json` and
// `edge/publisher.json`, tracks that appear with the tier's first entries:
// each holds exactly what the CLI holds open. When the CLIs end, the final
// counts show once and `sessions.json` is `{}` again.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/node_presence_test.mjs --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// Exits 0 on success, 1 on failure, 77 (skipped) when the daemon has no
// --max-session-roots flag.
import { check, fail, freePort, log, makeTempDir, parseArgs, Processes, runTest, skipUnlessFlags, startSidecar, STATS_NODE, STATS_PREFIX, within } from "./lib/harness.mjs";
import { connectWhenListening, readUntil } from "./lib/node_format.mjs";

const { options } = parseArgs(process.argv.slice(2), "node_presence_test.mjs --sidecar PATH --cli PATH");

// A subscription to `track` of `broadcast` that has delivered its first
// frame, and that frame: a named tier's tracks exist only from the tick that
// first has an entry of the tier, so a subscription made before is refused
// or ended, and is made again (at most `ms` in all).
async function subscribeOnceItExists(conn, broadcast, track, ms) {
  const deadline = Date.now() + ms;
  let last = "no attempt";
  while (Date.now() < deadline) {
    const subscriber = conn.consume(broadcast).subscribe(track);
    try {
      const group = await within(Math.max(1, deadline - Date.now()), `${track}'s first frame`, subscriber.recvGroup());
      if (group !== undefined) {
        const text = await group.readString();
        if (text !== undefined) return { subscriber, first: text };
      }
      last = "the track ended";
    } catch (err) {
      last = err.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(`${broadcast} ${track} never delivered a frame (${last})`);
}

const procs = new Processes();
await runTest("node_presence", procs, async () => {
  skipUnlessFlags(options.sidecar, ["--stats-format", "--max-session-roots"]);
  const dir = makeTempDir("node-presence");
  const port = await freePort();
  const sidecar = await startSidecar(procs, options.sidecar, {
    dir, moqListen: `127.0.0.1:${port}`, extraArgs: ["--stats-format=node"],
  });
  const { conn } = await connectWhenListening(port);
  try {
    const broadcastPath = `${STATS_PREFIX}/node/${STATS_NODE}`;
    const { subscriber: sessions, first } = await subscribeOnceItExists(conn, broadcastPath, "sessions.json", 15000);
    if (first !== "{}") await readUntil(sessions, (text) => text === "{}", 15000, "the idle sessions frame {}");
    log("sessions.json is {}");

    const cli = (name, args) => procs.start(name, options.cli,
      ["--target", `unix:${sidecar.sock}`, "--json", "bump", "--hold=100s", ...args]);
    const edge = cli("moq-stats bump --tier edge", ["--tier=edge", "--session=acme", "--path=acme/cam", "--frames=3",
      "--bytes=30"]);
    const plain = cli("moq-stats bump --session", ["--session=acme", "--path=acme/plain"]);

    const held = await readUntil(sessions, (_, v) => v.acme !== undefined, 15000, "acme in sessions.json");
    check(held === '{"acme":{"sessions":1,"sessions_closed":0}}', `sessions.json: ${held}`);
    log(`sessions.json: ${held}`);

    const edgeSessions = await subscribeOnceItExists(conn, broadcastPath, "edge/sessions.json", 15000);
    const edgeHeld = edgeSessions.first.includes("acme") ? edgeSessions.first
      : await readUntil(edgeSessions.subscriber, (_, v) => v.acme !== undefined, 15000, "acme in edge/sessions.json");
    check(edgeHeld === '{"acme":{"sessions":1,"sessions_closed":0}}', `edge/sessions.json: ${edgeHeld}`);
    log(`edge/sessions.json: ${edgeHeld}`);

    const edgeTraffic = await subscribeOnceItExists(conn, broadcastPath, "edge/publisher.json", 15000);
    const wantTraffic = '{"acme/cam":{"announced":0,"announced_closed":0,"announced_bytes":0,"broadcasts":1,' +
      '"broadcasts_closed":0,"subscriptions":1,"subscriptions_closed":0,"fetches":0,"bytes":30,"frames":3,' +
      '"groups":0,"datagrams":0}}';
    const traffic = edgeTraffic.first === wantTraffic ? edgeTraffic.first
      : await readUntil(edgeTraffic.subscriber, (text) => text === wantTraffic, 15000, "acme/cam in edge/publisher.json");
    log(`edge/publisher.json: ${traffic}`);

    // The default tier's publisher.json has the default tier's path only.
    const { first: plainTraffic } = await subscribeOnceItExists(conn, broadcastPath, "publisher.json", 15000);
    check(!plainTraffic.includes("acme/cam"), `publisher.json shows the edge tier's path: ${plainTraffic}`);

    for (const proc of [edge, plain]) {
      proc.expectExit();
      proc.signal("SIGTERM");
    }
    const closed = await readUntil(sessions, (_, v) => v.acme?.sessions_closed === 1, 15000, "acme closed");
    check(closed === '{"acme":{"sessions":1,"sessions_closed":1}}', `closing sessions.json: ${closed}`);
    log(`closed: ${closed}`);
    await readUntil(sessions, (text) => text === "{}", 15000, "acme dropped after its last appearance");
    await readUntil(edgeSessions.subscriber, (text) => text === "{}", 15000, "edge/sessions.json back to {}");
  } finally {
    conn.close();
  }
});
