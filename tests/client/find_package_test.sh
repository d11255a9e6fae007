#!/usr/bin/env bash
# Installs the project from the build tree into a scratch prefix, then
# configures and builds a consumer project with find_package(moqstats).
# Usage: find_package_test.sh <build dir> <consumer source dir>
set -euo pipefail
build="$1"
consumer="$2"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/consumer"
echo "find_package(moqstats) consumer built and ran"
