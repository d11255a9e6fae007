// Interop: the C++ snapshot codec (common/json/, moq-json's snapshot
// encoding of the .json.z stats tracks) against the independent JS one,
// @moq/json's Snapshot.Encoder / Snapshot.Decoder over @moq/flate.
//
// Both ways, for compressed frames (.json.z: DEFLATE, delta ratio 8) and
// plain ones (with deltas, and one frame per group as the .json tracks):
//   C++ -> JS: tests/common/json/test_tools/snapshot_vectors encodes a
//     seeded stats-like sequence; every group is decoded by @moq/json from
//     the first one on, and again by a late joiner starting at that group,
//     the value after each frame compared with the tool's.
//   JS -> C++: @moq/json encodes the same values; the tool decodes the
//     frames, from the first group and as a late joiner at the last one.
//
// Run by hand (after building the tool and `npm ci --prefix tests/interop`):
//   node tests/interop/json_snapshot_test.mjs --tool build/tests/common/json/snapshot_vectors
import { spawnSync } from "node:child_process";

import { check, fail, log, parseArgs, Processes, runTest } from "./lib/harness.mjs";
import { deepEqual, Snapshot } from "@moq/json";

const usage = "usage: node json_snapshot_test.mjs --tool PATH\n";
const { options } = parseArgs(process.argv.slice(2), usage);
if (!options.tool) {
  process.stderr.write(usage);
  process.exit(2);
}

const configs = [
  { name: "compressed, delta ratio 8", compression: true, deltaRatio: 8, ticks: 800 },
  { name: "plain, delta ratio 3", compression: false, deltaRatio: 3, ticks: 800 },
  { name: "plain, delta ratio 0", compression: false, deltaRatio: 0, ticks: 300 },
];

function runTool(args, input) {
  const result = spawnSync(options.tool, args, { input, encoding: "utf8", maxBuffer: 256 << 20 });
  if (result.error) fail(`snapshot_vectors ${args.join(" ")}: ${result.error.message}`);
  return result;
}

const flag = (config) => `--compression=${config.compression ? "on" : "off"}`;
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const bytes = (text) => new Uint8Array(Buffer.from(text, "hex"));
const show = (value) => JSON.stringify(value).slice(0, 300);

// The tool's steps, and its frames grouped: groups[g][f] = { payload, value }.
function cppTrack(config) {
  const result = runTool(["encode", flag(config), `--delta-ratio=${config.deltaRatio}`, `--ticks=${config.ticks}`]);
  check(result.status === 0, `snapshot_vectors encode exited ${result.status}: ${result.stderr}`);
  const steps = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  check(steps.length === config.ticks, `snapshot_vectors printed ${steps.length} steps, want ${config.ticks}`);
  const groups = [];
  for (const step of steps) {
    if (step.payload === undefined) continue;
    if (step.frame === 0) {
      check(step.group === groups.length, `step ${step.step}: group ${step.group} after ${groups.length} groups`);
      groups.push([]);
    }
    const group = groups[groups.length - 1];
    check(group !== undefined && step.group === groups.length - 1 && step.frame === group.length,
          `step ${step.step}: frame ${step.group}/${step.frame} out of order`);
    group.push({ step: step.step, payload: bytes(step.payload), value: step.value });
  }
  return { steps, groups };
}

// Decodes groups[first...] with one @moq/json decoder, checking each value.
function jsDecodes(config, groups, first) {
  const decoder = new Snapshot.Decoder({ compression: config.compression });
  for (let g = first; g < groups.length; g++) {
    groups[g].forEach((frame, f) => {
      try {
        if (f === 0) decoder.snapshot(frame.payload);
        else decoder.delta(frame.payload);
      } catch (err) {
        fail(`@moq/json could not decode group ${g} frame ${f} (step ${frame.step}): ${err.message}`);
      }
      const value = decoder.decode();
      if (!deepEqual(value, frame.value)) {
        fail(`group ${g} frame ${f} (step ${frame.step}): @moq/json decoded ${show(value)}, want ${show(frame.value)}`);
      }
    });
  }
  return decoder.decode();
}

async function cppToJs(config) {
  const { steps, groups } = cppTrack(config);
  jsDecodes(config, groups, 0);
  // A late joiner at every group, the last one included.
  for (let g = 1; g < groups.length; g++) jsDecodes(config, groups, g);
  const last = jsDecodes(config, groups, groups.length - 1);
  check(deepEqual(last, steps[steps.length - 1].value), "a late joiner at the last group does not end at the last value");

  const frames = groups.reduce((n, group) => n + group.length, 0);
  const full = groups.filter((group) => group.length === 256).length;
  log(`${config.name}: C++ -> @moq/json: ${steps.length} steps, ${frames} frames in ${groups.length} groups ` +
      `(${full} of 256 frames), decoded from the start and by a late joiner at each group`);
  if (config.deltaRatio === 0) {
    check(groups.every((group) => group.length === 1), "delta ratio 0 wrote a group of more than one frame");
  } else {
    // Both kinds of boundary are crossed: the frame cap and the byte budget.
    check(full >= 1, "no group reached the 256-frame cap");
    check(groups.slice(0, -1).some((group) => group.length < 256), "no group ended on its byte budget");
  }
  return { steps, groups };
}

function jsToCpp(config, cpp) {
  const encoder = new Snapshot.Encoder({ compression: config.compression, deltaRatio: config.deltaRatio });
  const frames = [];  // { line, value, keyframe, step }
  for (const step of cpp.steps) {
    const pending = encoder.update(step.value);
    if (pending === undefined) continue;
    frames.push({ line: `${pending.keyframe ? "snapshot" : "delta"} ${hex(pending.payload)}`, value: step.value,
                  keyframe: pending.keyframe, step: step.step, payload: hex(pending.payload) });
    pending.commit();
  }
  const decode = (list, what) => {
    const result = runTool(["decode", flag(config)], list.map((f) => f.line).join("\n") + "\n");
    const lines = result.stdout.trimEnd().split("\n");
    check(result.status === 0, `${what}: snapshot_vectors decode exited ${result.status}: ${lines[lines.length - 1]}`);
    check(lines.length === list.length, `${what}: ${lines.length} values for ${list.length} frames`);
    lines.forEach((line, i) => {
      const value = JSON.parse(line);
      if (!deepEqual(value, list[i].value)) {
        fail(`${what}: frame ${i} (step ${list[i].step}) decoded ${show(value)}, want ${show(list[i].value)}`);
      }
    });
  };
  decode(frames, "@moq/json -> C++");
  const lastGroup = frames.findLastIndex((f) => f.keyframe);
  decode(frames.slice(lastGroup), "@moq/json -> C++, late joiner at the last group");

  // Both encoders write a frame on the same steps (the changed values). How
  // many frames are byte-identical is for information only: @moq/json puts
  // a delta's removed members first and the C++ encoder last, and the pako 3
  // under @moq/flate hashes with its own function by default (zlib's only
  // with legacyHash), so it picks other matches than zlib on payloads past a
  // hundred bytes or so; both change compressed sizes, so group boundaries
  // may differ too.
  const cppFrames = new Map();
  cpp.groups.forEach((group) => group.forEach((f, i) => cppFrames.set(f.step, { keyframe: i === 0, payload: hex(f.payload) })));
  check(cppFrames.size === frames.length && frames.every((f) => cppFrames.has(f.step)),
        `@moq/json wrote ${frames.length} frames, the C++ encoder ${cppFrames.size}, not on the same steps`);
  const same = frames.filter((f) => cppFrames.get(f.step).payload === f.payload && cppFrames.get(f.step).keyframe === f.keyframe).length;
  const groups = frames.filter((f) => f.keyframe).length;
  log(`${config.name}: @moq/json -> C++: ${frames.length} frames in ${groups} groups decoded, and by a late joiner ` +
      `at the last group; ${same} of ${frames.length} frames byte-identical to the C++ encoder's`);
}

await runTest("json_snapshot", new Processes(), async () => {
  for (const config of configs) {
    const cpp = await cppToJs(config);
    jsToCpp(config, cpp);
  }
});
