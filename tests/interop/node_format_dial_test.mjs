// Interop, node format in dial mode: @moq/net plays the relay the sidecar
// dials (--origin-url), and reads the node broadcast's plain tracks from it.
//
// A WebSocket server on 127.0.0.1 accepts the daemon's qmux-01.moq-lite-05
// session; the daemon runs with --stats-format=node and no MoQ listener. The
// relay side follows the daemon's announcements, waits for
// `.stats/node/interop`, and reads `publisher.json`, `subscriber.json` and
// `sessions.json` (each `{}` while idle). The `moq-stats` CLI then bumps a
// path and holds it: publisher.json maps the path to its twelve counters in
// moq's order, with the bumped values. When the hold ends, the path's final
// counts show once and the next frame is `{}` again, while the node
// broadcast stays announced.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/node_format_dial_test.mjs --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// Exits 0 on success, 1 on failure, 77 (skipped) when the daemon has no
// --stats-format or --origin-url flag.
import { check, fail, log, makeTempDir, parseArgs, Processes, runTest, skipUnlessFlags, startSidecar, STATS_NODE, STATS_PREFIX } from "./lib/harness.mjs";
import { readUntil, TRAFFIC_ORDER } from "./lib/node_format.mjs";
import { Announcements, RelayServer } from "./lib/moq.mjs";

const { options } = parseArgs(process.argv.slice(2), "node_format_dial_test.mjs --sidecar PATH --cli PATH");

const procs = new Processes();
await runTest("node_format_dial", procs, async () => {
  skipUnlessFlags(options.sidecar, ["--stats-format", "--origin-url"]);
  const relay = new RelayServer(["moq-lite-05"]);
  await relay.listen(0);
  const dir = makeTempDir("node-format-dial");
  try {
    const sidecar = await startSidecar(procs, options.sidecar, {
      dir, originUrl: relay.url, extraArgs: ["--stats-format=node"],
    });
    const s = await relay.next(15000);
    log(`sidecar dialed over ${s.wire}`);
    const broadcastPath = `${STATS_PREFIX}/node/${STATS_NODE}`;
    const announcements = new Announcements(s.conn);
    await announcements.waitFor(broadcastPath, true, 15000);
    log(`announced ${broadcastPath}`);
    const broadcast = s.conn.consume(broadcastPath);
    const tracks = {};
    for (const name of ["publisher.json", "subscriber.json", "sessions.json"]) {
      tracks[name] = broadcast.subscribe(name);
      await readUntil(tracks[name], (text) => text === "{}", 15000, `the idle frame {} of ${name}`);
    }
    log("each track read {} while idle");

    const path = "interop-node-dial/bbb";
    const bump = procs.start(`moq-stats bump ${path}`, options.cli, ["--target", `unix:${sidecar.sock}`, "--json", "bump",
      `--path=${path}`, "--frames=4", "--bytes=400", "--groups=2", "--fetches=1", "--announce", "--hold=100s"]);
    const publisher = tracks["publisher.json"];
    const held = await readUntil(publisher, (_, v) => v[path]?.frames === 4, 15000, `${path} with 4 frames`);
    const entry = JSON.parse(held)[path];
    check(JSON.stringify(Object.keys(entry)) === JSON.stringify(TRAFFIC_ORDER), `fields ${Object.keys(entry)} are not in moq's order`);
    const want = { announced: 1, announced_closed: 0, announced_bytes: path.length, broadcasts: 1, broadcasts_closed: 0,
      subscriptions: 1, subscriptions_closed: 0, fetches: 1, bytes: 400, frames: 4, groups: 2, datagrams: 0 };
    check(JSON.stringify(entry) === JSON.stringify(want), `held: ${JSON.stringify(entry)}, want ${JSON.stringify(want)}`);
    check(Object.keys(JSON.parse(held)).length === 1, `publisher.json holds other paths: ${held}`);
    log(`held: ${held}`);

    bump.expectExit();
    bump.signal("SIGTERM");
    const closed = await readUntil(publisher, (_, v) => v[path]?.broadcasts_closed === 1, 15000, `${path} closed`);
    const last = JSON.parse(closed)[path];
    check(last.announced_closed === 1 && last.subscriptions_closed === 1 && last.frames === 4,
      `closing counts: ${closed}`);
    log(`closed: ${closed}`);
    await readUntil(publisher, (text) => text === "{}", 15000, "the path dropped after its last appearance");
    check(!announcements.seen.includes(`-${broadcastPath}`), "the node broadcast was unannounced");
    if (!sidecar.child.running) fail(`the sidecar exited during the test\n${sidecar.child.tail()}`);
  } finally {
    await relay.close();
  }
});
