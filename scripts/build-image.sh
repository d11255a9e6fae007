#!/usr/bin/env bash
# Builds deploy/Dockerfile with podman into localhost/moq-stats-sidecar:VERSION
# and :latest (`make image`).
#
# The Debian 12 base: docker.io/library/debian:bookworm and :bookworm-slim
# when a registry answers; otherwise a minimal Debian 12 root filesystem made
# with mmdebstrap from the apt sources this machine already uses and imported
# as localhost/moq-stats-debian:bookworm (made once, then reused), passed to
# both stages through the BUILD_BASE and RUNTIME_BASE build arguments.
# MOQSTATS_IMAGE_BASE=IMAGE uses IMAGE for both stages instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/podman-env.sh
source scripts/podman-env.sh

image="localhost/moq-stats-sidecar"
version="$(sed -n 's/^project(moq_stats_sidecar VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
local_base="localhost/moq-stats-debian:bookworm"

base_args=()
if [ -n "${MOQSTATS_IMAGE_BASE:-}" ]; then
  base_args=(--build-arg "BUILD_BASE=$MOQSTATS_IMAGE_BASE" --build-arg "RUNTIME_BASE=$MOQSTATS_IMAGE_BASE")
elif timeout 60 "${PODMAN[@]}" pull -q docker.io/library/debian:bookworm >/dev/null 2>&1 &&
  timeout 60 "${PODMAN[@]}" pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  echo "build-image: base images pulled from docker.io"
else
  echo "build-image: no registry reachable; the base is $local_base (mmdebstrap from this machine's apt sources)"
  if ! "${PODMAN[@]}" image exists "$local_base"; then
    # The host's apt sources for bookworm, copied into the root filesystem as
    # they are (same mirror and suites, security included).
    sources=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ] && grep -Eq '^[^#]*\bbookworm\b' "$f"; then sources+=("$f"); fi
    done
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    started=$SECONDS
    mmdebstrap --quiet --variant=minbase bookworm "$scratch/rootfs.tar" "${sources[@]}"
    "${PODMAN[@]}" import -q --change 'CMD ["/bin/bash"]' "$scratch/rootfs.tar" "$local_base" >/dev/null
    echo "build-image: made $local_base in $((SECONDS - started)) s"
  fi
  base_args=(--pull=never --build-arg "BUILD_BASE=$local_base" --build-arg "RUNTIME_BASE=$local_base")
fi

started=$SECONDS
"${PODMAN[@]}" build -f deploy/Dockerfile "${base_args[@]}" -t "$image:$version" -t "$image:latest" .
echo "build-image: built $image:$version in $((SECONDS - started)) s," \
  "$("${PODMAN[@]}" image inspect -f '{{.Size}}' "$image:$version" | awk '{printf "%.0f MB", $1 / 1e6}')"
