#!/usr/bin/env bash
# `make soak`: the fault suite's scenarios (tests/faults) run longer than in
# `make test`, one after the other, each for SOAK_SECONDS (default 600), with
# one seed for all (SOAK_SEED, default drawn from the clock; printed). Prints
# a table: scenario, iterations, kills (daemon or relay processes killed,
# sessions dropped), bumps the relays made (guards opened and closed, frames,
# groups), the daemon's peak resident memory, and the result. Exit status 1
# when a scenario failed.
#
#   scripts/soak.sh [build dir]      (BUILD_DIR, SOAK_SECONDS, SOAK_SEED)
set -euo pipefail

build_dir=${1:-${BUILD_DIR:-build}}
export SOAK_SECONDS=${SOAK_SECONDS:-600}
export FAULT_SEED=${SOAK_SEED:-$(( $(date +%s) % 1000000007 ))}
tests=(daemon_kill_fault_test relay_churn_fault_test full_disk_fault_test slow_consumer_fault_test)
log=$(mktemp "${TMPDIR:-/tmp}/moq-stats-soak.XXXXXX")
trap 'rm -f "$log"' EXIT

echo "soak: SOAK_SECONDS=$SOAK_SECONDS per scenario, SOAK_SEED=$FAULT_SEED; output in $build_dir/soak.log"
failed=0
start=$(date +%s)
for t in "${tests[@]}"; do
  bin="$build_dir/tests/faults/$t"
  if [ ! -x "$bin" ]; then
    echo "soak: $bin is missing (build the tree first)" >&2
    exit 2
  fi
  if ! "$bin" --gtest_color=no >>"$log" 2>&1; then failed=1; fi
done
cp "$log" "$build_dir/soak.log"
elapsed=$(( $(date +%s) - start ))

printf '\n| scenario | iterations | kills | bumps | max RSS | result |\n| --- | ---: | ---: | ---: | ---: | --- |\n'
grep '^FAULT-ROW ' "$log" | while read -r _ scenario iterations kills bumps rss result; do
  printf '| %s | %s | %s | %s | %s MiB | %s |\n' "$scenario" "$iterations" "$kills" "$bumps" "$(( rss / 1024 ))" "$result"
done
grep -E '^\[  SKIPPED \] [A-Za-z]' "$log" | sort -u | sed 's/^\[  SKIPPED \] /| skipped: /; s/$/ | | | | | SKIP |/' || true
echo
echo "soak: $elapsed s in all, SOAK_SEED=$FAULT_SEED"
if [ "$failed" -ne 0 ]; then
  echo "soak: a scenario failed; see $build_dir/soak.log" >&2
  grep -E '^\[  FAILED  \]' "$log" >&2 || true
  exit 1
fi
