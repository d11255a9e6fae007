#!/usr/bin/python3
"""Runs examples/python/relay_client.py against the real daemon.

    run_python_relay_example.py --daemon BIN --client relay_client.py --proto stats.proto
        --proto-root DIR --generated DIR [--python /usr/bin/python3]

1. generates the Python code for stats.proto into the --generated directory
   (in the build tree) with `python -m grpc_tools.protoc`, afresh at every
   run so that it is never older than the proto;
2. starts the daemon in a fresh temporary directory, listening on a unix
   socket there and on loopback TCP with a bearer token file (no admin
   listener), and waits until the socket accepts connections;
3. runs the client with PYTHONPATH=DIR against unix:<socket>, then against
   the TCP listener with --auth-token-file;
4. stops the daemon with SIGTERM (SIGKILL if it does not exit in time).

Exits 0 only when the client and the daemon's graceful shutdown both exit 0.
The daemon is always stopped, also when this script is interrupted, and every
wait is bounded. The daemon's log is printed when something failed.
"""

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

GENERATE_TIMEOUT_S = 60
SOCKET_WAIT_S = 15
CLIENT_TIMEOUT_S = 90
STOP_WAIT_S = 15
PR_SET_PDEATHSIG = 1


def log(message):
    print("runner: %s" % message, flush=True)


def die_with_parent():
    """In a child, before exec: SIGKILL when this runner dies, so a runner
    killed by ctest's timeout leaves no daemon or client behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def on_signal(signum, _frame):
    raise SystemExit("runner: got signal %d" % signum)


def generate(args):
    """Generates moq/stats/v1/stats_pb2{,_grpc}.py under args.generated."""
    shutil.rmtree(os.path.join(args.generated, "moq"), ignore_errors=True)
    os.makedirs(args.generated, exist_ok=True)
    command = [args.python, "-m", "grpc_tools.protoc", "-I" + args.proto_root,
               "--python_out=" + args.generated, "--grpc_python_out=" + args.generated, args.proto]
    log("generating: %s" % " ".join(command))
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=GENERATE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        log("grpc_tools.protoc did not finish within %d s" % GENERATE_TIMEOUT_S)
        return False
    sys.stdout.write(result.stdout.decode(errors="replace"))
    if result.returncode != 0:
        log("grpc_tools.protoc failed with status %d%s" % (result.returncode, (
            " (is Debian's python3-grpc-tools installed? scripts/install-deps.sh installs it)"
            if b"No module named" in result.stdout else "")))
        return False
    for module in ("stats_pb2.py", "stats_pb2_grpc.py"):
        if not os.path.isfile(os.path.join(args.generated, "moq", "stats", "v1", module)):
            log("grpc_tools.protoc did not write moq/stats/v1/%s" % module)
            return False
    return True


def wait_for_socket(path, daemon, timeout):
    """True once `path` accepts a connection; False when the daemon exited or
    the timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            log("the daemon exited with status %d before listening" % daemon.returncode)
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            try:
                probe.connect(path)
                return True
            except OSError:
                pass
        time.sleep(0.05)
    log("the daemon's socket %s did not accept connections within %d s" % (path, timeout))
    return False


def stop(daemon):
    """SIGTERM, then SIGKILL if it has not exited in time: its exit status
    (negative: the signal that ended it)."""
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log("the daemon did not exit within %d s of SIGTERM; killing it" % STOP_WAIT_S)
            daemon.kill()
            daemon.wait()
    return daemon.returncode


def run(args, workdir):
    socket_path = os.path.join(workdir, "s.sock")
    target = "unix:" + socket_path
    # And on loopback TCP, where a bearer token is needed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        tcp_target = "127.0.0.1:%d" % probe.getsockname()[1]
    token_file = os.path.join(workdir, "tokens")
    with open(token_file, "w") as f:
        f.write("example-token-%s\n" % os.urandom(12).hex())
    daemon_env = {k: v for k, v in os.environ.items() if not k.startswith("MOQ_STATS_")}
    command = [args.daemon, "--listen=" + target, "--listen=" + tcp_target, "--auth-token-file=" + token_file,
               "--admin-listen=", "--log-level=debug"]
    log("starting %s" % " ".join(command))
    with open(os.path.join(workdir, "daemon.log"), "wb") as daemon_log:
        daemon = subprocess.Popen(command, cwd=workdir, env=daemon_env, stdin=subprocess.DEVNULL,
                                  stdout=daemon_log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    client_status = None
    daemon_status = None
    try:
        if wait_for_socket(socket_path, daemon, SOCKET_WAIT_S):
            client_env = dict(os.environ)
            client_env["PYTHONPATH"] = os.pathsep.join(
                [args.generated] + ([client_env["PYTHONPATH"]] if client_env.get("PYTHONPATH") else []))
            for client in ([args.python, args.client, "--target", target],
                           [args.python, args.client, "--target", tcp_target, "--auth-token-file", token_file]):
                log("running PYTHONPATH=%s %s" % (args.generated, " ".join(client)))
                client_status = None
                try:
                    client_status = subprocess.run(client, env=client_env, stdin=subprocess.DEVNULL,
                                                   timeout=CLIENT_TIMEOUT_S, check=False,
                                                   preexec_fn=die_with_parent).returncode
                except subprocess.TimeoutExpired:
                    log("the client did not finish within %d s (killed)" % CLIENT_TIMEOUT_S)
                log("client exit status: %s" % client_status)
                if client_status != 0:
                    break
    finally:
        daemon_status = stop(daemon)
        log("daemon exit status after SIGTERM: %s" % daemon_status)
    ok = client_status == 0 and daemon_status == 0
    if not ok:
        with open(os.path.join(workdir, "daemon.log"), errors="replace") as daemon_log:
            sys.stdout.write("----- daemon.log -----\n" + daemon_log.read() + "----- end of daemon.log -----\n")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--daemon", required=True, help="the moq-stats-sidecar binary")
    parser.add_argument("--client", required=True, help="examples/python/relay_client.py")
    parser.add_argument("--proto", required=True, help="proto/moq/stats/v1/stats.proto")
    parser.add_argument("--proto-root", required=True, help="the import root of --proto (proto/)")
    parser.add_argument("--generated", required=True,
                        help="where to generate the Python code (replaced at every run)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the interpreter for the client")
    args = parser.parse_args()
    args.generated = os.path.abspath(args.generated)

    if not generate(args):
        return 1
    if not os.access(args.daemon, os.X_OK):
        log("the daemon %s is not an executable file" % args.daemon)
        return 1

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A unix socket path has at most 107 bytes: a long $TMPDIR gives way to /tmp.
    workdir = tempfile.mkdtemp(prefix="python_relay_example.",
                               dir="/tmp" if len(tempfile.gettempdir()) > 60 else None)
    try:
        ok = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
