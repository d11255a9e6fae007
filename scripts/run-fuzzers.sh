#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and
# runs each one briefly on a copy of its seed corpus (tests/fuzz/<name>/).
# Exits non-zero when a fuzzer crashes, printing the saved reproducer. Without
# clang it prints that the fuzzers were skipped and exits 0.
#
# Environment:
#   FUZZ_BUILD_DIR  build directory (default build-fuzz)
#   FUZZ_SECONDS    time per fuzzer in seconds (default 20)
#   JOBS            parallel build jobs (default: nproc)
#
# New inputs the fuzzers find go to $FUZZ_BUILD_DIR/corpus/, never into the
# repository's seed corpora.
set -euo pipefail

cd "$(dirname "$0")/.."

build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${FUZZ_SECONDS:-20}"
jobs="${JOBS:-$(nproc)}"

cc="$(command -v clang || command -v clang-14 || true)"
cxx="$(command -v clang++ || command -v clang++-14 || true)"
if [ -z "$cc" ] || [ -z "$cxx" ]; then
  echo "run-fuzzers: SKIPPED, clang not found (install clang and libclang-rt-dev to run the fuzzers)" >&2
  exit 0
fi

echo "run-fuzzers: building the fuzzers with $cxx in $build_dir" >&2
CC="$cc" CXX="$cxx" cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMOQSTATS_FUZZ=ON -DMOQSTATS_BUILD_TESTS=OFF -DMOQSTATS_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs" --target moqstats_fuzzers

manifest="$build_dir/fuzzers.txt"
if [ ! -s "$manifest" ]; then
  echo "run-fuzzers: no fuzzers listed in $manifest" >&2
  exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=0
while read -r name binary seeds; do
  [ -n "$name" ] || continue
  corpus="$build_dir/corpus/$name"
  artifacts="$build_dir/artifacts/$name"
  log="$build_dir/logs/$name.log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  if [ -d "$seeds" ]; then
    cp -R "$seeds/." "$corpus/"
  else
    echo "run-fuzzers: $name has no seed corpus at $seeds; starting empty" >&2
  fi

  echo "run-fuzzers: $name for ${seconds}s" >&2
  if "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    echo "run-fuzzers: $name ok (${runs:-?} runs)" >&2
  else
    failed=1
    tail -n 60 "$log" >&2
    echo "run-fuzzers: $name FAILED; full log $log" >&2
    for reproducer in "$artifacts"/*; do
      [ -e "$reproducer" ] || continue
      echo "run-fuzzers: reproducer $reproducer (replay: $binary $reproducer)" >&2
    done
  fi
done <"$manifest"

exit "$failed"
