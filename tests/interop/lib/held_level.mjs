// The steps the interop scripts share around one level held live by a
// `moq-stats bump`: reading the script's command line, checking that a late
// subscriber starts at the latest group, and ending the hold (final frame
// with the guards closed, then the level's broadcast unannounced).
import { endBump, fail, log, parseArgs } from "./harness.mjs";
import { countersAre, countersText, LITE_ALPNS, TrackReader, TRACKS } from "./moq.mjs";

// The options every script takes (--sidecar, --cli, and its own); prints
// `usage` and exits 2 when --sidecar or --cli is missing or `valid(options)`
// is false.
export function parseTestOptions(argv, usage, valid = () => true) {
  const { options } = parseArgs(argv, usage);
  if (!options.sidecar || !options.cli || !valid(options)) {
    process.stderr.write(usage);
    process.exit(2);
  }
  return options;
}

// parseTestOptions for a script run once per moq-lite version: --version
// lite-05 (the default), lite-04 or lite-03, and the ALPN it names.
export function parseVersionTestOptions(script) {
  const usage = `usage: ${script} --sidecar PATH --cli PATH [--version ${Object.keys(LITE_ALPNS).join("|")}]\n`;
  const options = parseTestOptions(process.argv.slice(2), usage, (o) => LITE_ALPNS[o.version ?? "lite-05"] !== undefined);
  const version = options.version ?? "lite-05";
  return { options, version, alpn: LITE_ALPNS[version] };
}

// Nothing changes while the guards are held, so the latest group stays the
// one `held` was read from: a new subscriber to publisher.json on `conn` must
// start with it (same sequence, counts `want`).
export async function expectLateSubscriberAtLatestGroup(conn, level, held, want) {
  const late = new TrackReader(conn, level, TRACKS[0]);
  const latest = await late.next(10000);
  if (!latest) fail(`${late.what} (late subscriber) ended before its first group`);
  if (latest.sequence !== held.sequence || !countersAre(latest.frame, want)) {
    fail(`late subscriber got group ${latest.sequence} (${countersText(latest.frame)}), want the latest group ${held.sequence}`);
  }
  log(`late subscriber started at group ${latest.sequence}`);
}

// Ends `bump`'s hold, waits on `reader` (publisher.json) for the final frame:
// counts `want` with the guards closed, then for `path` to be unannounced.
export async function endHoldAndExpectUnannounce({ bump, reader, want, announcements, path }) {
  await endBump(bump);
  const closed = await reader.until({ ...want, broadcasts_closed: 1, subscriptions_closed: 1 }, 15000, "the hold ended");
  log(`final frame, group ${closed.sequence}: ${countersText(closed.frame)}`);
  await announcements.waitFor(path, false, 15000);
  log(`unannounced ${path}`);
}
