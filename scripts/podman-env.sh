# Sourced by scripts/build-image.sh, tests/deploy/image_test.sh and .ci/run:
# how to call podman on a host like the project's CI machines (rootful, cgroup
# v1 hybrid, no systemd as PID 1, no CAP_SYS_RESOURCE), and a probe that says
# whether containers can run at all.
#
# PODMAN: podman with runc (crun cannot run on a cgroup v1 hybrid host) and,
# without systemd as PID 1, the cgroupfs manager.
# PODMAN_RUN_LIMITS: `podman run` flags for nofile and nproc limits the host
# can grant (podman asks for 1048576 by default, and raising a limit above its
# hard limit needs CAP_SYS_RESOURCE; nproc is also capped at 32768 here).

PODMAN=(podman)
if command -v runc >/dev/null 2>&1; then PODMAN+=(--runtime runc); fi
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then PODMAN+=(--cgroup-manager cgroupfs); fi

podman_hard_nofile="$(ulimit -Hn)"
podman_hard_nproc="$(ulimit -Hu)"
if [ "$podman_hard_nofile" = unlimited ] || [ "$podman_hard_nofile" -gt 1048576 ]; then podman_hard_nofile=1048576; fi
if [ "$podman_hard_nproc" = unlimited ] || [ "$podman_hard_nproc" -gt 32768 ]; then podman_hard_nproc=32768; fi
PODMAN_RUN_LIMITS=(--ulimit "nofile=$podman_hard_nofile:$podman_hard_nofile"
  --ulimit "nproc=$podman_hard_nproc:$podman_hard_nproc")

# Prints nothing and succeeds when podman can run a container here; else
# prints why not and fails. Needs no image: it runs catatonit from a scratch
# directory as the root filesystem (0.4 s).
podman_probe() {
  command -v podman >/dev/null 2>&1 || {
    echo "podman is not installed (scripts/install-deps.sh --image installs it)"
    return 1
  }
  command -v catatonit >/dev/null 2>&1 || {
    echo "catatonit is not installed (scripts/install-deps.sh --image installs it)"
    return 1
  }
  local dir out
  dir="$(mktemp -d)"
  cp "$(command -v catatonit)" "$dir/"
  if ! out="$(timeout 60 "${PODMAN[@]}" run --rm --network=none "${PODMAN_RUN_LIMITS[@]}" --rootfs "$dir" \
    /catatonit -V 2>&1)"; then
    rm -rf "$dir"
    echo "podman cannot run a container here: $(echo "$out" | tail -n 1)"
    return 1
  fi
  rm -rf "$dir"
}
