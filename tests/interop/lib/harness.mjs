// What every interop script shares: bounded waits, the child processes (the
// sidecar daemon and the `moq-stats` CLI) killed on every exit path, free
// ports, and the command lines that start the daemon and bump a path.
//
// Nothing here sleeps for time: every wait is on an event (a log line, a
// session, a group, a process exit) raced against a deadline that fails the
// test with a message naming what it waited for.
import "./polyfill.mjs";

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

// A test failure: the message is what the script prints before exiting 1.
export class TestFailure extends Error {}

// Exit status ctest reads as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt):
// used only when the daemon binary does not have a flag the test needs.
export const SKIP_EXIT_CODE = 77;

export function fail(message) {
  throw new TestFailure(message);
}

export function check(condition, message) {
  if (!condition) fail(message);
}

// Rejected when a child process exits while the test still needs it (see
// Processes.start), which fails whatever wait is under way at once.
let rejectWatchdog;
const watchdog = new Promise((_, reject) => {
  rejectWatchdog = reject;
});
watchdog.catch(() => {});

// Resolves with `promise`'s value, or rejects with a TestFailure naming `what`
// once `ms` have passed or when a child exited unexpectedly. The timer never
// outlives the race.
export async function within(ms, what, promise) {
  let timer;
  const expiry = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TestFailure(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expiry, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

// An unbounded FIFO of values produced by callbacks and consumed with a
// deadline.
export class AsyncQueue {
  #items = [];
  #waiters = [];

  push(item) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  next(ms, what) {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    return within(
      ms,
      what,
      new Promise((resolve) => this.#waiters.push(resolve)),
    ).catch((err) => {
      // Drop the waiter that timed out so a later push is not lost to it.
      this.#waiters.shift();
      throw err;
    });
  }
}

// `--name=value` and `--name value` options plus positional arguments.
export function parseArgs(argv, usage) {
  const options = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq >= 0) options[arg.slice(2, eq)] = arg.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) options[arg.slice(2)] = argv[++i];
      else options[arg.slice(2)] = "true";
    } else {
      positional.push(arg);
    }
  }
  return { options, positional };
}

// A started child process: its exit as a promise and its output, kept for
// waiting on a line and for the failure report.
class Child {
  constructor(name, proc) {
    this.name = name;
    this.proc = proc;
    this.lines = [];
    this.exitInfo = undefined;
    this.exitExpected = false;
    this.#lineWaiters = [];
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      proc.on("error", (err) => {
        this.lines.push(`[spawn error] ${err.message}`);
        this.exitInfo = { code: -1, signal: null, error: err };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        partial += chunk;
        const parts = partial.split("\n");
        partial = parts.pop();
        for (const line of parts) this.#addLine(line);
      });
      stream.on("end", () => {
        if (partial) this.#addLine(partial);
        partial = "";
      });
    }
  }

  #lineWaiters;

  #addLine(line) {
    this.lines.push(line);
    if (process.env.MOQ_INTEROP_VERBOSE) process.stderr.write(`  [${this.name}] ${line}\n`);
    this.#lineWaiters = this.#lineWaiters.filter(({ regex, resolve }) => {
      const match = line.match(regex);
      if (match) resolve(match);
      return !match;
    });
  }

  // Waits for a line matching `regex` (one already printed counts), failing
  // when the process exits first or the deadline passes.
  async waitForLine(regex, ms, what) {
    for (const line of this.lines) {
      const match = line.match(regex);
      if (match) return match;
    }
    const seen = new Promise((resolve) => this.#lineWaiters.push({ regex, resolve }));
    const died = this.exited.then((info) =>
      fail(`${this.name} exited (${describeExit(info)}) before ${what}\n${this.tail()}`),
    );
    try {
      return await within(ms, what, Promise.race([seen, died]));
    } catch (err) {
      if (err instanceof TestFailure && !err.message.includes("exited")) {
        throw new TestFailure(`${err.message}\n${this.tail()}`);
      }
      throw err;
    }
  }

  // The last lines of output, indented, for failure messages.
  tail(n = 40) {
    const lines = this.lines.slice(-n);
    return `--- last ${lines.length} lines of ${this.name} ---\n${lines.map((l) => `  ${l}`).join("\n")}`;
  }

  get running() {
    return this.exitInfo === undefined;
  }

  // Marks the coming exit as intended, so it fails no wait.
  expectExit() {
    this.exitExpected = true;
  }

  signal(sig) {
    if (this.running) this.proc.kill(sig);
  }

  // SIGTERM, then SIGKILL when it has not exited within `ms`.
  async stop(ms = 5000) {
    this.expectExit();
    if (!this.running) return this.exitInfo;
    this.proc.kill("SIGTERM");
    try {
      return await within(ms, `${this.name} to exit after SIGTERM`, this.exited);
    } catch {
      this.proc.kill("SIGKILL");
      return await this.exited;
    }
  }
}

export function describeExit(info) {
  if (!info) return "still running";
  if (info.error) return `could not start: ${info.error.message}`;
  return info.signal ? `signal ${info.signal}` : `status ${info.code}`;
}

// The children of one test run. Every child is killed (by its own pid) when
// the script exits, however it exits.
export class Processes {
  #children = new Set();

  constructor() {
    const killAll = () => {
      for (const child of this.#children) {
        if (child.running) {
          try {
            child.proc.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }
      }
    };
    process.on("exit", killAll);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
      process.on(sig, () => {
        killAll();
        process.exit(128 + os.constants.signals[sig]);
      });
    }
  }

  // Starts `command` (an executable, or a .mjs script run with this node).
  start(name, command, args, { cwd } = {}) {
    // Relative paths are taken from the script's working directory, not `cwd`.
    if (command.includes("/")) command = path.resolve(command);
    const [file, argv] = command.endsWith(".mjs") ? [process.execPath, [command, ...args]] : [command, args];
    const proc = spawn(file, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const child = new Child(name, proc);
    this.#children.add(child);
    void child.exited.then((info) => {
      if (!child.exitExpected) {
        rejectWatchdog(new TestFailure(`${name} exited unexpectedly (${describeExit(info)})\n${child.tail()}`));
      }
    });
    return child;
  }

  async stopAll() {
    await Promise.all([...this.#children].map((child) => child.stop()));
  }
}

// A port free on 127.0.0.1 at the time of the call (bound to port 0, then
// released), for a listener some other process must open.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Directories made for this run, removed when it ends (kept when
// MOQ_INTEROP_KEEP is set, for a look at the daemon's files).
const tempDirs = [];

export function makeTempDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `moq-interop-${label}-`));
  tempDirs.push(dir);
  return dir;
}

// Whether `binary --help` lists every flag in `flags`. A .mjs stand-in is
// asked the same way.
export function helpLists(binary, flags) {
  const [file, argv] = binary.endsWith(".mjs") ? [process.execPath, [binary, "--help"]] : [binary, ["--help"]];
  const result = spawnSync(file, argv, { encoding: "utf8", timeout: 10000 });
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  return flags.filter((flag) => !text.includes(flag));
}

// Leaves the script as skipped when the daemon lacks a flag the test needs.
export function skipUnlessFlags(binary, flags) {
  const missing = helpLists(binary, flags);
  if (missing.length > 0) {
    process.stdout.write(`SKIPPED: ${binary} --help does not list ${missing.join(", ")}; this test needs the daemon's MoQ bridge\n`);
    process.exit(SKIP_EXIT_CODE);
  }
}

// The settings every test gives the daemon: its own gRPC socket and
// checkpoint in `dir`, no admin listener, a fast tick, and a node name so the
// broadcast paths are recognisable.
export const STATS_PREFIX = ".stats";
export const STATS_NODE = "interop";

// Starts the daemon and waits for its "listening" log line.
export async function startSidecar(procs, binary, { dir, originUrl, moqListen = "off", interval = "100ms", extraArgs = [] }) {
  const sock = path.join(dir, "sidecar.sock");
  const args = [
    `--listen=unix:${sock}`,
    "--admin-listen=",
    `--checkpoint-path=${path.join(dir, "checkpoint")}`,
    `--stats-prefix=${STATS_PREFIX}`,
    `--stats-node=${STATS_NODE}`,
    `--stats-interval=${interval}`,
    "--grace=30s",
    `--moq-listen=${moqListen}`,
  ];
  if (originUrl) args.push(`--origin-url=${originUrl}`);
  args.push(...extraArgs);
  const child = procs.start("moq-stats-sidecar", binary, args, { cwd: dir });
  await child.waitForLine(/listening on/, 20000, "the sidecar to log that it listens");
  return { child, sock, args };
}

// Starts `moq-stats bump` holding its guards open for `hold`; end the hold
// early with endBump.
export function startBump(procs, cli, sock, { path: bumpPath, frames, bytes = 0, groups = 0, hold = "100s" }) {
  const args = [
    "--target",
    `unix:${sock}`,
    "--json",
    "bump",
    `--path=${bumpPath}`,
    `--frames=${frames}`,
    `--bytes=${bytes}`,
    `--groups=${groups}`,
    `--hold=${hold}`,
  ];
  return procs.start(`moq-stats bump ${bumpPath}`, cli, args);
}

// Ends a bump's hold with SIGTERM (the CLI then closes its guards, flushes
// and exits 0 once the sidecar acknowledged everything).
export async function endBump(bump, ms = 15000) {
  bump.expectExit();
  bump.signal("SIGTERM");
  const info = await within(ms, `${bump.name} to exit after SIGTERM`, bump.exited);
  check(info.code === 0, `${bump.name} exited with ${describeExit(info)}\n${bump.tail()}`);
}

// Reports `main`'s outcome: PASS, or FAIL with the message, children stopped
// either way.
export async function runTest(name, procs, main) {
  const started = Date.now();
  let code = 0;
  try {
    await main();
    process.stdout.write(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    code = 1;
    const detail = err instanceof TestFailure ? err.message : `unexpected error: ${err?.stack ?? err}`;
    process.stderr.write(`FAIL ${name}: ${detail}\n`);
  }
  await procs.stopAll();
  if (!process.env.MOQ_INTEROP_KEEP) for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

export function log(message) {
  process.stdout.write(`  ${message}\n`);
}
