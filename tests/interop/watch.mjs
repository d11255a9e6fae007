// Watches the stats broadcasts of a moq-lite endpoint with @moq/net, the
// independent TypeScript client: the sidecar's own --moq-listen (the
// default `make run` serves ws://127.0.0.1:4450/) or a relay it publishes
// into. Prints one JSON line per event:
//   {"announce":PATH}  {"end":PATH}
//   {"path":PATH,"track":TRACK,"sequence":N,"frame":{...}}
// following every broadcast announced under --prefix and the one --track of
// each (default publisher.json; "all" for the four).
//
//   npm ci --prefix tests/interop   # once
//   node tests/interop/watch.mjs [--url ws://127.0.0.1:4450/] [--prefix .stats]
//        [--track publisher.json|all] [--version lite-05|lite-04|lite-03] [--count N]
//
// --count N exits 0 after N frames (0, the default, runs until Ctrl-C).
// Exits 1 when it cannot connect or the session ends.
import { LITE_ALPNS, Moq, TRACKS, connectClient } from "./lib/moq.mjs";
import { parseArgs } from "./lib/harness.mjs";

const usage =
  "usage: node tests/interop/watch.mjs [--url ws://127.0.0.1:4450/] [--prefix .stats]\n" +
  "         [--track publisher.json|all] [--version lite-05|lite-04|lite-03] [--count N]\n";
const { options } = parseArgs(process.argv.slice(2), usage);
const url = options.url ?? "ws://127.0.0.1:4450/";
const prefix = options.prefix ?? ".stats";
const alpn = LITE_ALPNS[options.version ?? "lite-05"];
const count = Number(options.count ?? 0);
const trackNames = (options.track ?? "publisher.json") === "all" ? TRACKS.map((t) => t.name) : [options.track ?? "publisher.json"];
if (alpn === undefined || !Number.isInteger(count) || count < 0) {
  process.stderr.write(usage);
  process.exit(2);
}

let printed = 0;
function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
function frameSeen() {
  printed += 1;
  if (count > 0 && printed >= count) process.exit(0);
}

async function follow(conn, path, name) {
  const track = conn.consume(Moq.Path.from(path)).subscribe(name);
  for (;;) {
    const group = await track.recvGroup();
    if (group === undefined) return;
    const text = await group.readString();
    if (text === undefined) continue;
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = text;
    }
    print({ path, track: name, sequence: group.sequence, frame });
    frameSeen();
  }
}

let conn;
try {
  ({ conn } = await connectClient(url, alpn, 10000));
} catch (err) {
  process.stderr.write(`watch: cannot connect to ${url}: ${err?.message ?? err}\n`);
  process.exit(1);
}
const announced = conn.announced(Moq.Path.from(prefix));
for (;;) {
  const event = await announced.next();
  if (event === undefined) {
    process.stderr.write(`watch: the session with ${url} ended\n`);
    process.exit(1);
  }
  const path = String(Moq.Path.join(Moq.Path.from(prefix), event.path));
  print(event.active ? { announce: path } : { end: path });
  if (event.active) {
    for (const name of trackNames) {
      follow(conn, path, name).catch((err) => process.stderr.write(`watch: ${path} ${name}: ${err?.message ?? err}\n`));
    }
  }
}
