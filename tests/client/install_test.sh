#!/usr/bin/env bash
# `make install` as a relay author uses it: installs the build tree into a
# scratch prefix, then checks what is there (the daemon and the CLI with their
# --version, the headers, the static libraries, libmoqstats.so with its
# soname), builds and runs a C relay against the shared library found through
# pkg-config, and checks that libmoqstats.so exports nothing outside the C
# ABI and the public C++ API.
# Usage: install_test.sh <build dir> <source dir> <project version> <soversion>
set -euo pipefail
build="$1"
source="$2"
version="$3"
soversion="$4"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
prefix="$scratch/prefix"
fail() {
  echo "install_test: $*" >&2
  exit 1
}

cmake --install "$build" --prefix "$prefix" >/dev/null

# The programs, and their versions from the CMake project version.
for program in moq-stats-sidecar moq-stats; do
  [ -x "$prefix/bin/$program" ] || fail "bin/$program is not installed"
  got="$("$prefix/bin/$program" --version)"
  [ "$got" = "$program $version" ] || fail "$program --version printed \"$got\", want \"$program $version\""
done

# pkg-config finds the library by the installed .pc alone.
pc="$(find "$prefix" -name moqstats.pc)"
[ -n "$pc" ] || fail "no moqstats.pc installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
[ "$(pkg-config --modversion moqstats)" = "$version" ] || fail "pkg-config --modversion: $(pkg-config --modversion moqstats)"
libdir="$(pkg-config --variable=libdir moqstats)"
includedir="$(pkg-config --variable=includedir moqstats)"
[ "$(cd "$libdir" && pwd -P)" = "$(cd "$(dirname "$(dirname "$pc")")" && pwd -P)" ] || fail "libdir $libdir is not where the .pc is"
for header in moq_stats.h stats.h counts.h; do
  [ -f "$includedir/moq_stats/$header" ] || fail "include/moq_stats/$header is not installed"
done
for archive in libmoqstats_client.a libmoqstats_proto.a libmoqstats_common.a; do
  [ -f "$libdir/$archive" ] || fail "$archive is not installed"
done
[ -f "$libdir/cmake/moqstats/moqstats-config.cmake" ] || fail "the CMake package is not installed"

# The shared library: libmoqstats.so -> libmoqstats.so.SOVERSION -> the file.
so="$libdir/libmoqstats.so"
[ -L "$so" ] || fail "libmoqstats.so is not installed as a symlink"
[ "$(readlink "$so")" = "libmoqstats.so.$soversion" ] || fail "libmoqstats.so points to $(readlink "$so")"
soname="$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ "$soname" = "libmoqstats.so.$soversion" ] || fail "soname is \"$soname\", want libmoqstats.so.$soversion"

# A C relay built with nothing but what pkg-config says.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$scratch/consumer" "$source/tests/client/install/consumer.c" \
  $(pkg-config --cflags --libs moqstats) -Wl,-rpath,"$libdir"
# ldd's output whole first: under pipefail, grep -q leaving early can end
# ldd with SIGPIPE and fail a pipeline that found its line.
loaded="$(ldd "$scratch/consumer")"
grep -q "libmoqstats.so.$soversion => $libdir" <<<"$loaded" || fail "consumer does not load $libdir/libmoqstats.so"
"$scratch/consumer"

# Exported symbols: the C ABI (moq_stats_*) and the public C++ API only.
nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$scratch/exported"
c++filt <"$scratch/exported" >"$scratch/exported.demangled"
allowed='^(moq_stats_[a-z_]+|moq_stats::(Stats|StatsHandle|BroadcastStats)::[A-Za-z_~]+\(.*|moq_stats::internal::SlotOf\(.*)$'
if grep -Ev "$allowed" "$scratch/exported.demangled" >"$scratch/unexpected"; then
  echo "libmoqstats.so exports symbols outside the API:" >&2
  head -20 "$scratch/unexpected" >&2
  exit 1
fi
# ... and every function the C header declares.
grep -oE '\bmoq_stats_[a-z_]+\(' "$includedir/moq_stats/moq_stats.h" | tr -d '(' | sort -u >"$scratch/declared"
missing="$(comm -23 "$scratch/declared" "$scratch/exported")"
[ -z "$missing" ] || fail "libmoqstats.so does not export: $missing"
grep -q '^moq_stats::Stats::Connect(' "$scratch/exported.demangled" || fail "moq_stats::Stats::Connect is not exported"
echo "install_test: $(wc -l <"$scratch/exported") symbols exported, $(wc -l <"$scratch/declared") C functions declared; all checks passed"
