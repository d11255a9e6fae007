// Interop: tests/interop/watch.mjs, the debugging watcher built on @moq/net,
// against the daemon's --moq-listen: it prints the level's announcement and
// then its frames as JSON lines, the bumped counts among them.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/watch_test.mjs \
//     --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check, fail, freePort, log, makeTempDir, parseArgs, Processes, runTest, skipUnlessFlags, startBump, startSidecar, within } from "./lib/harness.mjs";
import { levelBroadcast } from "./lib/moq.mjs";

const { options } = parseArgs(process.argv.slice(2), "usage: node watch_test.mjs --sidecar PATH --cli PATH\n");
if (!options.sidecar || !options.cli) {
  process.stderr.write("usage: node watch_test.mjs --sidecar PATH --cli PATH\n");
  process.exit(2);
}
const watchScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "watch.mjs");

const procs = new Processes();
await runTest("watch", procs, async () => {
  skipUnlessFlags(options.sidecar, ["--moq-listen"]);
  const dir = makeTempDir("watch");
  const port = await freePort();
  const sidecar = await startSidecar(procs, options.sidecar, { dir, moqListen: `127.0.0.1:${port}` });
  const level = "interop-watch";
  const broadcast = levelBroadcast(level);
  startBump(procs, options.cli, sidecar.sock, { path: `${level}/x`, frames: 5 });
  const watch = procs.start("watch.mjs", watchScript, ["--url", `ws://127.0.0.1:${port}/`]);
  const escaped = String(broadcast).replace(/[.]/g, "\\.");
  await watch.waitForLine(new RegExp(`"announce":"${escaped}"`), 15000, `watch.mjs to print the announcement of ${broadcast}`);
  log(`watch.mjs printed the announcement of ${broadcast}`);
  // The root level (.stats/prefix/<node>) counts the same bump: wait for
  // the level's own broadcast.
  const line = (await watch.waitForLine(new RegExp(`^\\{"path":"${escaped}".*"frames":5`), 15000,
                                        "watch.mjs to print a frame of the level with the bumped counts")).input;
  const event = JSON.parse(line);
  check(event.path === broadcast, `frame of ${event.path}, want ${broadcast}`);
  check(event.track === "publisher.json", `frame of track ${event.track}, want publisher.json`);
  check(Number.isInteger(event.sequence), `sequence ${event.sequence} is not a number`);
  if (typeof event.frame !== "object" || event.frame.frames !== 5) fail(`frame is not the bumped JSON: ${line}`);
  log(`watch.mjs printed ${line}`);
  watch.expectExit();
  watch.signal("SIGTERM");
  await within(5000, "watch.mjs to exit", watch.exited);
});
