// Interop, client role: @moq/net dials the sidecar's own MoQ listener.
//
// The daemon is started with --moq-listen 127.0.0.1:<free port> (and no
// --origin-url); a @moq/net client connects over WebSocket offering only
// `qmux-01.moq-lite-0N` (qmux-00 as a fallback) for the --version given, the
// test bumps a path with the `moq-stats` CLI (frames=3), waits for the
// level's announcement, reads publisher.json until the bumped counts show
// (JSON checked, groups in order), checks a late subscriber starts at the
// latest group, ends the hold and waits for the unannounce.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/client_role_test.mjs --version lite-05 \
//     --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// MOQ_INTEROP_VERBOSE=1 echoes the children's output. Exits 0 on success,
// 1 on failure, 77 (skipped) when the daemon has no --moq-listen flag.
import { fail, freePort, log, makeTempDir, Processes, runTest, skipUnlessFlags, startBump, startSidecar, TestFailure } from "./lib/harness.mjs";
import { endHoldAndExpectUnannounce, expectLateSubscriberAtLatestGroup, parseVersionTestOptions } from "./lib/held_level.mjs";
import { Announcements, connectClient, countersText, levelBroadcast, TrackReader, TRACKS } from "./lib/moq.mjs";

const { options, version, alpn } = parseVersionTestOptions("client_role_test.mjs");

// Dials until the listener answers: the daemon may log that it listens on
// gRPC before its MoQ listener is up. Each attempt is bounded; the whole
// is bounded by `ms`.
async function connectWithin(url, ms) {
  const deadline = Date.now() + ms;
  let lastError;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      return await connectClient(url, alpn, Math.max(1000, deadline - Date.now()));
    } catch (err) {
      lastError = err;
      // A refused connection fails at once: back off a little before the
      // next attempt rather than spinning.
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500)));
    }
  }
  throw new TestFailure(`could not connect to ${url} within ${ms / 1000} s: ${lastError?.message ?? lastError}`);
}

const procs = new Processes();
await runTest(`client_role ${version}`, procs, async () => {
  skipUnlessFlags(options.sidecar, ["--moq-listen"]);
  const dir = makeTempDir(`client-${version}`);
  const port = await freePort();
  const sidecar = await startSidecar(procs, options.sidecar, { dir, moqListen: `127.0.0.1:${port}` });
  const { session, conn } = await connectWithin(`ws://127.0.0.1:${port}/`, 15000);
  log(`connected to 127.0.0.1:${port}, negotiated ${session.protocol}`);
  if (session.protocol !== alpn) fail(`negotiated application protocol ${session.protocol}, want ${alpn}`);
  try {
    const level = `interop-client-${version}`;
    const path = levelBroadcast(level);
    const announcements = new Announcements(conn);
    const bump = startBump(procs, options.cli, sidecar.sock, { path: `${level}/bbb`, frames: 3 });
    await announcements.waitFor(path, true, 15000);
    log(`announced ${path}`);

    const reader = new TrackReader(conn, level, TRACKS[0]);
    const want = { broadcasts: 1, subscriptions: 1, frames: 3, broadcasts_closed: 0, subscriptions_closed: 0 };
    const held = await reader.until(want, 15000, "the bump while held");
    log(`publisher.json group ${held.sequence}: ${countersText(held.frame)}`);
    await expectLateSubscriberAtLatestGroup(conn, level, held, want);

    await endHoldAndExpectUnannounce({ bump, reader, want, announcements, path });
  } finally {
    conn.close();
  }
});
