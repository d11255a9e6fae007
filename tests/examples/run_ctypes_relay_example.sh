#!/usr/bin/env bash
# examples/ctypes/relay_ctypes.py as a relay author would run it: the project
# installed into a scratch prefix (`make install PREFIX=...`), the installed
# daemon started on a unix socket, the example finding libmoqstats.so through
# pkg-config alone, then the counts read back with the installed CLI and
# compared exactly with what the example sent. Every wait is bounded; the
# daemon's log is printed when something failed.
# Usage: run_ctypes_relay_example.sh <build dir> <source dir>
set -euo pipefail
build="$1"
source="$2"
# A unix socket path has at most 107 bytes: a short directory under /tmp.
scratch="$(mktemp -d /tmp/ctypes_example.XXXXXX)"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "ctypes_relay_example: $*" >&2
  [ -f "$scratch/daemon.log" ] && { echo "----- daemon.log -----"; cat "$scratch/daemon.log"; } >&2
  exit 1
}

prefix="$scratch/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name moqstats.pc)")"
export PKG_CONFIG_PATH

socket="$scratch/s.sock"
target="unix:$socket"
(cd "$scratch" && exec env -u MOQ_STATS_LISTEN -u MOQ_STATS_CHECKPOINT_PATH \
  "$prefix/bin/moq-stats-sidecar" "--listen=$target" --admin-listen= --moq-listen=off >"$scratch/daemon.log" 2>&1) &
daemon_pid=$!
for _ in $(seq 100); do
  [ -S "$socket" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited before listening"
  sleep 0.1
done
[ -S "$socket" ] || fail "the daemon did not listen on $socket within 10 s"

frames=40 bytes_per_frame=1200 groups=4 subscribers=3
timeout 60 python3 "$source/examples/ctypes/relay_ctypes.py" --target "$target" --path ctypes/demo \
  --frames $frames --bytes-per-frame $bytes_per_frame --groups $groups --subscribers $subscribers ||
  fail "relay_ctypes.py failed"

got="$(timeout 30 "$prefix/bin/moq-stats" --target "$target" get ctypes --json)" || fail "moq-stats get failed"
python3 - "$got" $frames $bytes_per_frame $groups $subscribers <<'PY' || fail "the counts differ"
import json, sys
level = json.loads(sys.argv[1])
frames, size, groups, subscribers = map(int, sys.argv[2:])
def counts(guards, tracks):
    return {"broadcasts": guards, "broadcasts_closed": guards, "subscriptions": tracks,
            "subscriptions_closed": tracks, "bytes": tracks * frames * size, "frames": tracks * frames,
            "groups": tracks * groups,
            # The node format's counters: nothing this relay bumps.
            "announced": 0, "announced_closed": 0, "announced_bytes": 0, "fetches": 0, "datagrams": 0}
want = {"external_subscriber": counts(1, 1), "external_publisher": counts(1, subscribers),
        "internal_subscriber": counts(0, 0), "internal_publisher": counts(0, 0)}
ok = True
for key, counters in want.items():
    if level.get(key) != counters:
        print("%s: got %s, want %s" % (key, level.get(key), counters))
        ok = False
sys.exit(0 if ok else 1)
PY

kill -TERM "$daemon_pid"
for _ in $(seq 100); do
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$daemon_pid" 2>/dev/null; then fail "the daemon did not stop within 10 s of SIGTERM"; fi
wait "$daemon_pid" || fail "the daemon exited with status $? after SIGTERM"
daemon_pid=""
echo "ctypes_relay_example: counts exact through libmoqstats.so found by pkg-config"
