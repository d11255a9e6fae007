#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and run.
# Idempotent: when everything is already present it does nothing, so `make run`
# and `make test` can call it on every invocation.
#
# --image adds what `make image` and the image test need (Debian's podman and
# buildah, with runc: crun cannot run containers on a cgroup v1 hybrid host;
# mmdebstrap to build the Debian base where no registry can be reached;
# catatonit for `podman run --init`; iptables, which netavark needs to set
# up the network of a build step or a published port: without it podman
# fails with "netavark: No such file or directory"); `make run` and
# `make test` leave them out.
set -euo pipefail

packages=(
  build-essential cmake make pkg-config git
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc grpc-proto
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libboost-system-dev
  zlib1g-dev
  openssl
  clang libclang-rt-dev
  python3 python3-grpcio python3-protobuf python3-grpc-tools
  nodejs npm
  chromium
  prometheus
  tmux
)

if [ "${1:-}" = "--image" ]; then
  packages+=(podman buildah runc mmdebstrap catatonit uidmap netavark aardvark-dns iptables slirp4netns fuse-overlayfs)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js may come from another repository (nodesource) under the same names;
# a working `node` and `npm` are what matters.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian's prometheus package enables its service, which listens on :9090,
# the sidecar's admin port. The tests run private instances of their own;
# stop the packaged one on hosts where systemd runs.
for p in "${missing[@]}"; do
  if [ "$p" = prometheus ] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
done
