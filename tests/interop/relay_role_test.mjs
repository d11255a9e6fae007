// Interop, relay role: @moq/net plays the relay the sidecar dials.
//
// A WebSocket server (port 0 on 127.0.0.1) accepts only
// `qmux-01.moq-lite-0N` (or qmux-00) for the --version given; the daemon is
// started with --origin-url pointing at it. The test bumps a path with the
// `moq-stats` CLI (frames=3, bytes=1200, groups=1, guards held open), follows
// announcements under the stats prefix, subscribes to the four tracks of the
// path's level and checks that
//  - each frame is the sidecar's JSON for that level, tier, role and node;
//  - groups arrive in order (sequences increase) and counts never go down;
//  - publisher.json reaches the bumped counts, the other tracks stay zero;
//  - a late subscriber gets the latest group first (same sequence, same
//    counts);
//  - when the CLI's hold ends, a final frame shows the guards closed and
//    the level's broadcast is unannounced.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/relay_role_test.mjs --version lite-05 \
//     --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// MOQ_INTEROP_VERBOSE=1 echoes the children's output. Exits 0 on success,
// 1 on failure, 77 (skipped) when the daemon has no --origin-url flag.
import { fail, log, makeTempDir, Processes, runTest, skipUnlessFlags, startBump, startSidecar } from "./lib/harness.mjs";
import { endHoldAndExpectUnannounce, expectLateSubscriberAtLatestGroup, parseVersionTestOptions } from "./lib/held_level.mjs";
import { Announcements, countersAre, countersText, levelBroadcast, RelayServer, TrackReader, TRACKS } from "./lib/moq.mjs";

const { options, version, alpn } = parseVersionTestOptions("relay_role_test.mjs");

const procs = new Processes();
await runTest(`relay_role ${version}`, procs, async () => {
  skipUnlessFlags(options.sidecar, ["--origin-url", "--moq-listen"]);
  const relay = new RelayServer([alpn]);
  await relay.listen(0);
  const dir = makeTempDir(`relay-${version}`);
  try {
    const sidecar = await startSidecar(procs, options.sidecar, { dir, originUrl: relay.url });
    const s = await relay.next(15000);
    log(`sidecar dialed; offered [${s.offered.join(", ")}], negotiated ${s.wire}`);
    if (s.session.protocol !== alpn) fail(`negotiated application protocol ${s.session.protocol}, want ${alpn}`);

    const level = `interop-${version}`;
    const path = levelBroadcast(level);
    const announcements = new Announcements(s.conn);
    const bump = startBump(procs, options.cli, sidecar.sock, { path: `${level}/bbb`, frames: 3, bytes: 1200, groups: 1 });
    await announcements.waitFor(path, true, 15000);
    log(`announced ${path}`);

    const readers = TRACKS.map((track) => new TrackReader(s.conn, level, track));
    const want = { broadcasts: 1, subscriptions: 1, frames: 3, bytes: 1200, groups: 1, broadcasts_closed: 0, subscriptions_closed: 0 };
    const held = await readers[0].until(want, 15000, "the bump while held");
    log(`publisher.json group ${held.sequence}: ${countersText(held.frame)}`);
    for (const reader of readers.slice(1)) {
      const first = await reader.next(10000);
      if (!first) fail(`${reader.what} ended before its first frame`);
      const zero = Object.fromEntries(Object.keys(want).map((k) => [k, 0]));
      if (!countersAre(first.frame, zero)) fail(`${reader.what}: counts ${countersText(first.frame)}, want all zero`);
    }

    await expectLateSubscriberAtLatestGroup(s.conn, level, held, want);

    await endHoldAndExpectUnannounce({ bump, reader: readers[0], want, announcements, path });
    if (!sidecar.child.running) fail(`the sidecar exited during the test\n${sidecar.child.tail()}`);
  } finally {
    await relay.close();
  }
});
