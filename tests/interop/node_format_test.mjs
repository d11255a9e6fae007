// Interop, node format: @moq/net reads the sidecar's node broadcast the way
// moq's own stats dashboard does.
//
// The daemon runs with --stats-format=node and its MoQ listener; a @moq/net
// client follows announcements under the stats prefix, waits for
// `.stats/node/interop`, reads `publisher.json` (`{}` while idle), then the
// `moq-stats` CLI bumps a path with an announce guard, fetches and
// datagrams and holds it: the frame maps the path to its twelve counters in
// moq's order. When the hold ends, the path's final counts show once and
// the next frame is `{}` again, while the broadcast stays announced.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/node_format_test.mjs --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// Exits 0 on success, 1 on failure, 77 (skipped) when the daemon has no
// --stats-format flag.
import { check, freePort, log, makeTempDir, parseArgs, Processes, runTest, skipUnlessFlags, startSidecar, STATS_NODE, STATS_PREFIX } from "./lib/harness.mjs";
import { connectWhenListening, readUntil, TRAFFIC_ORDER } from "./lib/node_format.mjs";
import { Announcements } from "./lib/moq.mjs";

const { options } = parseArgs(process.argv.slice(2), "node_format_test.mjs --sidecar PATH --cli PATH");

const procs = new Processes();
await runTest("node_format", procs, async () => {
  skipUnlessFlags(options.sidecar, ["--stats-format"]);
  const dir = makeTempDir("node-format");
  const port = await freePort();
  const sidecar = await startSidecar(procs, options.sidecar, {
    dir, moqListen: `127.0.0.1:${port}`, extraArgs: ["--stats-format=node"],
  });
  const { conn } = await connectWhenListening(port);
  try {
    const broadcastPath = `${STATS_PREFIX}/node/${STATS_NODE}`;
    const announcements = new Announcements(conn);
    await announcements.waitFor(broadcastPath, true, 15000);
    log(`announced ${broadcastPath}`);
    const subscriber = conn.consume(broadcastPath).subscribe("publisher.json");
    await readUntil(subscriber, (text) => text === "{}", 15000, "the idle frame {}");

    const path = "interop-node/bbb";
    const bump = procs.start(`moq-stats bump ${path}`, options.cli, ["--target", `unix:${sidecar.sock}`, "--json", "bump",
      `--path=${path}`, "--frames=3", "--bytes=300", "--fetches=2", "--datagrams=1", "--announce", "--hold=100s"]);
    const held = await readUntil(subscriber, (_, v) => v[path]?.frames === 3, 15000, `${path} with 3 frames`);
    const entry = JSON.parse(held)[path];
    check(JSON.stringify(Object.keys(entry)) === JSON.stringify(TRAFFIC_ORDER), `fields ${Object.keys(entry)} are not in moq's order`);
    const want = { announced: 1, announced_closed: 0, announced_bytes: path.length, broadcasts: 1, broadcasts_closed: 0,
      subscriptions: 1, subscriptions_closed: 0, fetches: 2, bytes: 300, frames: 3, groups: 0, datagrams: 1 };
    check(JSON.stringify(entry) === JSON.stringify(want), `held: ${JSON.stringify(entry)}, want ${JSON.stringify(want)}`);
    log(`held: ${held}`);

    bump.expectExit();
    bump.signal("SIGTERM");
    const closed = await readUntil(subscriber, (_, v) => v[path]?.broadcasts_closed === 1, 15000, `${path} closed`);
    const last = JSON.parse(closed)[path];
    check(last.announced_closed === 1 && last.subscriptions_closed === 1 && last.announced_bytes === 2 * path.length,
      `closing counts: ${closed}`);
    log(`closed: ${closed}`);
    await readUntil(subscriber, (text) => text === "{}", 15000, "the path dropped after its last appearance");
    check(!announcements.seen.includes(`-${broadcastPath}`), "the node broadcast was unannounced");
  } finally {
    conn.close();
  }
});
