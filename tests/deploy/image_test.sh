#!/usr/bin/env bash
# The container image as an operator runs it (`make image-test`; CI runs it
# after `make test`): built by `make image`, run with podman.
#  1. --check-config with the image's own CMD, without a network.
#  2. Without a network (--network=none): the daemon starts, /healthz answers
#     inside the container, and `podman stop` ends it with status 0.
#  3. With published ports: /healthz from the host, `moq-stats health` and a
#     `moq-stats bump` from the host over the published gRPC port, the counts
#     read back exactly, then a graceful `podman stop` (exit status 0) that
#     leaves a checkpoint in the volume.
#  4. A new container on the same volume restores that checkpoint: the
#     counts are there again.
# Skips (exit 0, saying why) where podman cannot run a container. Every wait
# is bounded; the containers and the volume are removed on exit.
# Usage: image_test.sh [IMAGE] [moq-stats CLI]
set -euo pipefail
cd "$(dirname "$0")/../.."
image="${1:-localhost/moq-stats-sidecar:latest}"
cli="${2:-build/client/moq-stats}"
# shellcheck source=scripts/podman-env.sh
source scripts/podman-env.sh
started=$SECONDS

if ! reason="$(podman_probe)"; then
  echo "image_test: SKIPPED: $reason"
  exit 0
fi
"${PODMAN[@]}" image exists "$image" || {
  echo "image_test: no image $image (make image builds it)" >&2
  exit 1
}
[ -x "$cli" ] || {
  echo "image_test: no CLI at $cli" >&2
  exit 1
}

# ---------------------------------------------------------------------------
# The daemon's arguments and the CLI's, in one place. DAEMON_ARGS replaces
# the image's CMD on every run; by default it is that CMD (the ENTRYPOINT
# keeps the unix socket and the checkpoint path). Flags that a deployment
# adds (e.g. authentication) go here, with what the CLI needs in CLI_ARGS.
mapfile -t DAEMON_ARGS < <("${PODMAN[@]}" image inspect -f '{{range .Config.Cmd}}{{println .}}{{end}}' "$image" | sed '/^$/d')
# The CMD reads its bearer token from /run/secrets/moq-stats-token: every run
# mounts a token made here (RUN_ARGS), and the CLI sends it.
token_dir="$(mktemp -d)"
chmod 0755 "$token_dir"  # the container user reads the token through it
token_file="$token_dir/moq-stats-token"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file"
chmod 0644 "$token_file"
RUN_ARGS=(-v "$token_file:/run/secrets/moq-stats-token:ro")
CLI_ARGS=(--auth-token-file="$token_file")
# ---------------------------------------------------------------------------

tag="moq-stats-image-test-$$"
volume="$tag-data"
containers=()
cleanup() {
  for c in "${containers[@]+"${containers[@]}"}"; do "${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  "${PODMAN[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$token_dir"
}
trap cleanup EXIT
fail() {
  echo "image_test: FAIL: $*" >&2
  for c in "${containers[@]+"${containers[@]}"}"; do
    echo "----- podman logs $c -----" >&2
    "${PODMAN[@]}" logs "$c" >&2 2>&1 || true
  done
  exit 1
}
step() { echo "image_test: $* ($((SECONDS - started)) s)"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run_detached() { # NAME, then podman run flags and arguments
  local name="$1"
  shift
  containers+=("$name")
  "${PODMAN[@]}" run -d --name "$name" "${PODMAN_RUN_LIMITS[@]}" "${RUN_ARGS[@]}" "$@" >/dev/null
}
# Stops NAME gracefully (SIGTERM; SIGKILL after 15 s) and prints its exit status.
stop_gracefully() {
  timeout 60 "${PODMAN[@]}" stop -t 15 "$1" >/dev/null
  "${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$1"
}
# Waits up to 20 s for `command...` to succeed.
wait_for() {
  local i
  for i in $(seq 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

"${PODMAN[@]}" volume create "$volume" >/dev/null

# 1. --check-config: the image's settings are valid and say what listens.
step "1. --check-config"
config="$(timeout 60 "${PODMAN[@]}" run --rm --network=none "${PODMAN_RUN_LIMITS[@]}" "${RUN_ARGS[@]}" "$image" \
  "${DAEMON_ARGS[@]}" --check-config 2>&1)" || fail "--check-config failed: $config"
for want in unix:/run/moq-stats/moq-stats.sock 0.0.0.0:50051 0.0.0.0:9090 /var/lib/moq-stats/moq-stats.checkpoint; do
  grep -qF -- "$want" <<<"$config" || fail "--check-config does not mention $want: $config"
done

# 2. No network: healthy inside, a graceful stop.
step "2. --network=none"
run_detached "$tag-offline" --network=none -v "$volume:/var/lib/moq-stats" "$image" "${DAEMON_ARGS[@]}"
healthz_inside() {
  "${PODMAN[@]}" exec "$tag-offline" bash -c \
    'exec 3<>/dev/tcp/127.0.0.1/9090 && printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3' | grep -q ' 200 '
}
wait_for healthz_inside || fail "/healthz did not answer 200 inside the container within 20 s"
status="$(stop_gracefully "$tag-offline")"
[ "$status" = 0 ] || fail "the daemon exited with status $status after podman stop (no network)"

# 3. Published ports: health, a bump from the host, a graceful stop.
step "3. published ports"
grpc_port="$(free_port)"
admin_port="$(free_port)"
target="127.0.0.1:$grpc_port"
run_detached "$tag-online" -p "$target:50051" -p "127.0.0.1:$admin_port:9090" -v "$volume:/var/lib/moq-stats" \
  "$image" "${DAEMON_ARGS[@]}"
wait_for curl -fsS "http://127.0.0.1:$admin_port/healthz" || fail "/healthz on the published port did not answer within 20 s"
wait_for "$cli" "${CLI_ARGS[@]+"${CLI_ARGS[@]}"}" --target="$target" --timeout=2s health ||
  fail "moq-stats health over $target did not report SERVING within 20 s"
bump="$(timeout 60 "$cli" "${CLI_ARGS[@]+"${CLI_ARGS[@]}"}" --target="$target" --timeout=10s bump \
  --path=image/test --frames=7 --bytes=7000 --groups=2 --json)" || fail "moq-stats bump failed: $bump"
expected='{"broadcasts":1,"broadcasts_closed":1,"subscriptions":1,"subscriptions_closed":1,"bytes":7000,"frames":7,"groups":2,"announced":0,"announced_closed":0,"announced_bytes":0,"fetches":0,"datagrams":0}'
counts_of() { # prints the external publisher counts of the level "image" (image/test)
  timeout 30 "$cli" "${CLI_ARGS[@]+"${CLI_ARGS[@]}"}" --target="$1" get image --json |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["external_publisher"], separators=(",", ":")))'
}
got="$(counts_of "$target")" || fail "moq-stats get failed"
[ "$got" = "$expected" ] || fail "counts after the bump: $got, want $expected"
status="$(stop_gracefully "$tag-online")"
[ "$status" = 0 ] || fail "the daemon exited with status $status after podman stop"
log="$("${PODMAN[@]}" logs "$tag-online" 2>&1)"
grep -q "shut down: .*checkpoint /var/lib/moq-stats/moq-stats.checkpoint" <<<"$log" ||
  fail "the log of the stop does not show the final checkpoint"
checkpoint="$("${PODMAN[@]}" volume inspect -f '{{.Mountpoint}}' "$volume")/moq-stats.checkpoint"
[ -s "$checkpoint" ] || fail "no checkpoint in the volume after podman stop ($checkpoint)"

# 4. The checkpoint read back: a new container on the volume has the counts.
step "4. restore from the volume"
grpc_port="$(free_port)"
target="127.0.0.1:$grpc_port"
run_detached "$tag-restored" -p "$target:50051" -v "$volume:/var/lib/moq-stats" "$image" "${DAEMON_ARGS[@]}"
wait_for "$cli" "${CLI_ARGS[@]+"${CLI_ARGS[@]}"}" --target="$target" --timeout=2s health ||
  fail "the restored daemon did not report SERVING within 20 s"
got="$(counts_of "$target")" || fail "moq-stats get on the restored daemon failed"
[ "$got" = "$expected" ] || fail "counts restored from the checkpoint: $got, want $expected"
status="$(stop_gracefully "$tag-restored")"
[ "$status" = 0 ] || fail "the restored daemon exited with status $status after podman stop"

step "PASS"
