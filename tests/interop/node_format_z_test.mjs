// Interop, node format's compressed tracks: npm @moq/json (with @moq/flate)
// decodes the daemon's `publisher.json.z`, read with @moq/net over
// moq-lite-05 from the daemon's MoQ listener, to exactly the values of the
// plain `publisher.json`, across group boundaries and for a late subscriber.
//
// The daemon runs with --stats-format=node and moq's defaults for the .z
// tracks (delta ratio 8, 256 frames per group). One reader takes every
// plain frame; another reads every group of the .z track frame by frame
// (frame 0 a snapshot, the rest deltas) through @moq/json's
// Snapshot.Decoder. The `moq-stats` CLI then bumps short-lived paths one at
// a time (the value goes back to `{}`, whose 4-byte snapshot leaves a small
// delta budget, so groups end after a delta), then holds one path and bumps
// more beside it (a larger snapshot: one group takes many deltas). Both
// readers must have seen the same sequence of values, over several groups,
// with deltas. Then a late subscriber reads the .z track with @moq/json's
// Snapshot.Consumer (as moq's consumers do), starting at the latest group's
// frame 0 while that group holds deltas, and must arrive at the plain
// track's current value.
//
// Run by hand (after building the daemon and the CLI, and
// `npm ci --prefix tests/interop`):
//   node tests/interop/node_format_z_test.mjs --sidecar build/server/moq-stats-sidecar --cli build/client/moq-stats
// Exits 0 on success, 1 on failure, 77 (skipped) when the daemon has no
// --stats-format flag.
import { check, fail, freePort, log, makeTempDir, parseArgs, Processes, runTest, skipUnlessFlags, startSidecar, STATS_NODE, STATS_PREFIX, within } from "./lib/harness.mjs";
import { connectWhenListening } from "./lib/node_format.mjs";
import { Announcements } from "./lib/moq.mjs";
import { deepEqual, Snapshot } from "@moq/json";

const { options } = parseArgs(process.argv.slice(2), "node_format_z_test.mjs --sidecar PATH --cli PATH");
// Short-lived paths, one after the other: SHORT_BUMPS alone, HELD_BUMPS
// beside a held path.
const SHORT_BUMPS = 6;
const HELD_BUMPS = 4;

const show = (value) => JSON.stringify(value).slice(0, 400);

// Every value of the plain track, in order.
async function readPlain(subscriber, values) {
  for (;;) {
    const group = await subscriber.recvGroup();
    if (group === undefined) return;
    const text = await group.readString();
    if (text !== undefined) values.push(JSON.parse(text));
  }
}

// Every value of the .z track, frame by frame: { group, frame, value }.
async function readCompressed(subscriber, values) {
  const decoder = new Snapshot.Decoder({ compression: true });
  for (;;) {
    const group = await subscriber.recvGroup();
    if (group === undefined) return;
    for (let index = 0; ; index++) {
      const frame = await group.readFrame();
      if (frame === undefined) break;
      if (index === 0) decoder.snapshot(frame.payload);
      else decoder.delta(frame.payload);
      values.push({ group: group.sequence, frame: index, value: decoder.decode() });
    }
  }
}

// Waits until `ready()` is true, polling every 20 ms.
async function until(ms, what, ready) {
  await within(ms, what, (async () => {
    while (!ready()) await new Promise((resolve) => setTimeout(resolve, 20));
  })());
}

async function bump(procs, sock, args) {
  const child = procs.start(`moq-stats bump ${args[0]}`, options.cli, ["--target", `unix:${sock}`, "--json", "bump", ...args]);
  child.expectExit();
  return child;
}

const procs = new Processes();
await runTest("node_format_z", procs, async () => {
  skipUnlessFlags(options.sidecar, ["--stats-format"]);
  const dir = makeTempDir("node-format-z");
  const port = await freePort();
  const sidecar = await startSidecar(procs, options.sidecar, {
    dir, moqListen: `127.0.0.1:${port}`, extraArgs: ["--stats-format=node"],
  });
  const { conn } = await connectWhenListening(port);
  try {
    const broadcastPath = `${STATS_PREFIX}/node/${STATS_NODE}`;
    await new Announcements(conn).waitFor(broadcastPath, true, 15000);
    const broadcast = conn.consume(broadcastPath);
    const plain = [];
    const compressed = [];
    readPlain(broadcast.subscribe("publisher.json"), plain).catch((err) => plain.push({ error: String(err) }));
    readCompressed(broadcast.subscribe("publisher.json.z"), compressed)
      .catch((err) => compressed.push({ error: String(err) }));
    await until(15000, "the idle frame {} on both tracks", () => plain.length >= 1 && compressed.length >= 1);
    check(deepEqual(plain[0], {}) && deepEqual(compressed[0].value, {}),
      `first values: plain ${show(plain[0])}, .z ${show(compressed[0])}`);

    // Short-lived paths, one at a time, each its own changes (it appears
    // with its counts, then is dropped): the value keeps returning to `{}`,
    // and a group that starts there has a small delta budget (8 times the
    // 4-byte snapshot) and ends soon.
    // Bumps a short-lived path and waits until it came and went on the
    // plain track, which is back at `settledOn(value)`.
    const shortBump = async (i, settledOn) => {
      const child = await bump(procs, sidecar.sock, [`--path=interop-z/short${i}`, `--frames=${i + 1}`,
        `--bytes=${100 * (i + 1)}`, "--fetches=1", "--hold=0s"]);
      const info = await within(15000, `${child.name} to finish`, child.exited);
      check(info.code === 0, `${child.name} exited ${info.code}\n${child.tail()}`);
      await until(15000, `interop-z/short${i} to come and go`, () => {
        const seen = plain.findIndex((v) => v[`interop-z/short${i}`] !== undefined);
        return seen >= 0 && plain.length > seen + 1 && settledOn(plain[plain.length - 1]);
      });
    };
    for (let i = 0; i < SHORT_BUMPS; i++) await shortBump(i, (v) => deepEqual(v, {}));
    // Then one path held: a group that starts with it in its snapshot has
    // room for several deltas, which the late subscriber must replay.
    const held = await bump(procs, sidecar.sock, ["--path=interop-z/held", "--frames=1", "--bytes=10", "--hold=100s"]);
    const heldAlone = (v) => Object.keys(v).length === 1 && v["interop-z/held"] !== undefined;
    await until(15000, "the held path", () => plain.length > 0 && heldAlone(plain[plain.length - 1]));
    for (let i = SHORT_BUMPS; i < SHORT_BUMPS + HELD_BUMPS; i++) await shortBump(i, heldAlone);
    // Quiet: the last short path gone on both tracks, nothing moving.
    const settled = () => {
      const last = plain[plain.length - 1];
      return last !== undefined && Object.keys(last).length === 1 && last["interop-z/held"] !== undefined &&
        compressed.length > 0 && deepEqual(compressed[compressed.length - 1].value, last);
    };
    await until(20000, "both tracks to settle on the held path alone", settled);
    await new Promise((resolve) => setTimeout(resolve, 300));  // three ticks: nothing more may come
    check(settled(), "the tracks moved after settling");

    const errors = [...plain, ...compressed].filter((v) => v?.error !== undefined);
    check(errors.length === 0, `read errors: ${errors.map((e) => e.error).join("; ")}`);
    check(plain.length === compressed.length,
      `${plain.length} plain values but ${compressed.length} .z frames`);
    for (let i = 0; i < plain.length; i++) {
      check(deepEqual(plain[i], compressed[i].value),
        `value ${i} (group ${compressed[i].group} frame ${compressed[i].frame}): plain ${show(plain[i])}, .z ${show(compressed[i].value)}`);
    }
    if (process.env.MOQ_INTEROP_VERBOSE) for (const c of compressed) log(`${c.group}/${c.frame}: ${Object.keys(c.value).join(",")}`);
    const groups = new Set(compressed.map((c) => c.group));
    const deltas = compressed.filter((c) => c.frame > 0).length;
    log(`${plain.length} values, equal on both tracks; .z: ${groups.size} groups, ${deltas} deltas`);
    // Group 0 is `{}` and the first change; later groups end on the budget.
    check(groups.size >= 3, `the .z track used only groups ${[...groups]}`);
    const largest = Math.max(...[...groups].map((g) => compressed.filter((c) => c.group === g).length));
    check(deltas >= SHORT_BUMPS && largest >= 3, `the .z track carried ${deltas} deltas, at most ${largest - 1} in a group`);

    // The late subscriber must replay deltas.
    const lastGroup = () => compressed.filter((c) => c.group === compressed[compressed.length - 1].group).length;
    check(lastGroup() >= 2, "the latest .z group holds no delta");
    const current = plain[plain.length - 1];
    const late = new Snapshot.Consumer(broadcast.subscribe("publisher.json.z"), { compression: true });
    let value;
    await within(15000, "the late subscriber to reach the current value", (async () => {
      do value = await late.next(); while (value !== undefined && !deepEqual(value, current));
    })()).catch((err) => fail(`${err.message}: late value ${show(value)}, plain ${show(current)}`));
    check(value !== undefined, "the late subscriber's track ended");
    log(`late subscriber at group ${compressed[compressed.length - 1].group} (${lastGroup()} frames): ${show(value)}`);
    held.signal("SIGTERM");
  } finally {
    conn.close();
  }
});
