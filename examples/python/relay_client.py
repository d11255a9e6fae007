#!/usr/bin/python3
"""A relay-side client of moq-stats-sidecar, written from the contract alone.

Everything here comes from proto/moq/stats/v1/stats.proto and
docs/semantics.md: no C++ header, no shared library. The Python code for the
contract is generated at build time by grpc_tools.protoc (see README.md) and
found through PYTHONPATH.

Two parts:

  Relay   a small client library: one session (a random session id), handles
          per (broadcast path, tier), counter bumps gathered into numbered
          batches, the batches not acknowledged yet kept for a resend, the
          guards open right now kept for a resync.
  main()  a demo: names a broadcast, opens guards, bumps bytes/frames/groups,
          breaks its stream once and resumes it, closes the guards, reads the
          level back with GetLevel and exits 0 only if the counts read back
          equal what it sent.

Run with Debian's interpreter (/usr/bin/python3), which has python3-grpcio and
python3-protobuf:

    PYTHONPATH=<generated> /usr/bin/python3 relay_client.py --target unix:/abs/moq-stats.sock
"""

import argparse
import collections
import os
import queue
import sys
import threading
import time
import uuid

import grpc

try:
    from moq.stats.v1 import stats_pb2 as pb
    from moq.stats.v1 import stats_pb2_grpc as pb_grpc
except ImportError as error:
    sys.exit(
        "relay_client: cannot import the generated code (%s).\n"
        "Generate it with\n"
        "  /usr/bin/python3 -m grpc_tools.protoc -Iproto --python_out=OUT --grpc_python_out=OUT "
        "proto/moq/stats/v1/stats.proto\n"
        "and run with PYTHONPATH=OUT (see examples/python/README.md)." % error)

# The counters a HandleDelta carries, and the Snapshot field each one adds to.
DELTA_TO_SNAPSHOT = collections.OrderedDict([
    ("broadcasts_opened", "broadcasts"),
    ("broadcasts_closed", "broadcasts_closed"),
    ("subscriptions_opened", "subscriptions"),
    ("subscriptions_closed", "subscriptions_closed"),
    ("bytes", "bytes"),
    ("frames", "frames"),
    ("groups", "groups"),
    # Counted by the node format only.
    ("announced_opened", "announced"),
    ("announced_closed", "announced_closed"),
    ("announced_bytes", "announced_bytes"),
    ("fetches", "fetches"),
    ("datagrams", "datagrams"),
])
# The counters that are sums only: they open or close nothing.
SUM_FIELDS = ("bytes", "frames", "groups", "announced_bytes", "fetches", "datagrams")
# The guards: (opened field, closed field), in the order _open keeps them.
GUARD_FIELDS = (("broadcasts_opened", "broadcasts_closed"), ("subscriptions_opened", "subscriptions_closed"),
                ("announced_opened", "announced_closed"), ("sessions_opened", "sessions_closed"))

ROLES = (pb.ROLE_PUBLISHER, pb.ROLE_SUBSCRIBER)


def _define(number, key):
    """The Define of handle `number` for its key (path, tier, tier_label, presence)."""
    path, tier, tier_label, presence = key
    return pb.Define(handle=number, path=path.encode(), tier=tier, tier_label=tier_label.encode(), presence=presence)


class SessionEnded(Exception):
    """The sidecar ended the Session stream; `code` is its gRPC status."""

    def __init__(self, code, details):
        super().__init__("session stream ended: %s: %s" % (code.name, details))
        self.code = code
        self.details = details


class _Stream:
    """One Session call.

    Requests go in through a queue that the gRPC request iterator drains;
    responses come out through another queue filled by a reader thread, so
    that every wait for a response can have a timeout.
    """

    def __init__(self, stub):
        self._requests = queue.Queue()
        self._responses = queue.Queue()
        # wait_for_ready: a sidecar restarting is waited for (within the
        # caller's timeout for the Welcome) rather than failed at once.
        self._call = stub.Session(self._request_iterator(), wait_for_ready=True)
        self._reader = threading.Thread(target=self._read, name="session-reader", daemon=True)
        self._reader.start()

    def _request_iterator(self):
        while True:
            request = self._requests.get()
            if request is None:  # half-close
                return
            yield request

    def _read(self):
        try:
            for response in self._call:
                self._responses.put(response)
            self._responses.put(SessionEnded(grpc.StatusCode.OK, ""))
        except grpc.RpcError as error:
            self._responses.put(SessionEnded(error.code(), error.details()))

    def send(self, request):
        self._requests.put(request)

    def half_close(self):
        self._requests.put(None)

    def recv(self, timeout):
        """The next response; raises SessionEnded when the stream ended (OK
        included) and TimeoutError when nothing came within `timeout`."""
        try:
            item = self._responses.get(timeout=max(timeout, 0))
        except queue.Empty:
            raise TimeoutError("no answer from the sidecar within %.1f s" % timeout) from None
        if isinstance(item, SessionEnded):
            self._responses.put(item)  # stays ended for later calls
            raise item
        return item

    def cancel(self):
        self._call.cancel()
        self.half_close()  # lets the request iterator end


class Relay:
    """The relay's side of one Session (docs/semantics.md, "The relay's side
    of the contract").

    Bumps (guard opens and closes, bytes, frames, groups) are gathered per
    handle and role until flush(), which sends them as one or more batches
    with increasing sequence numbers. Batches stay in `unacked` until an Ack
    covers them; connect() after a broken stream resends those the Welcome
    says were not applied, or resyncs when the sidecar lost state.

    Not thread-safe: use one Relay from one thread.
    """

    def __init__(self, channel, session_id=None, relay_name="relay_client.py", timeout=10.0):
        self._stub = pb_grpc.StatsServiceStub(channel)
        self.session_id = session_id or str(uuid.uuid4())
        self.relay_name = relay_name
        self.timeout = timeout
        self.limits = None  # SessionLimits from the last Welcome

        self._stream = None
        self._welcomed_before = False
        # Handles: never reused, so a released number can never clash with a
        # definition the sidecar still holds.
        self._next_handle = 1
        self._handles = {}  # (path, tier, tier_label, presence) -> handle
        self._paths = {}  # handle -> that key, for handles in use
        # Guards open right now per (handle, role): [broadcasts,
        # subscriptions, announced, sessions].
        self._open = collections.defaultdict(lambda: [0, 0, 0, 0])
        # Whether the sidecar understands presence handles (Welcome).
        self.session_presence = False
        # What goes into the next batch.
        self._pending_defines = []
        self._pending_deltas = collections.OrderedDict()  # (handle, role) -> HandleDelta
        self._pending_releases = []
        # Batches sent and not acknowledged yet, by sequence.
        self._next_sequence = 1
        self._acked = 0  # the highest sequence acknowledged
        self.unacked = collections.OrderedDict()
        # Everything bumped in this session per (handle, role, delta field).
        self.sent = collections.Counter()

    @property
    def acked(self):
        """The highest sequence the sidecar acknowledged."""
        return self._acked

    # -- naming -------------------------------------------------------------

    def handle(self, path, tier, tier_label=""):
        """The handle for (path, tier), defined in the next batch if new.

        `tier_label` names a tier beyond external/internal (one path segment);
        the sidecar's node format publishes it as `<label>/publisher.json`, ...
        and its level format counts it nowhere. `tier` stays what a sidecar
        that does not know labels counts the handle in."""
        return self._handle((path, tier, tier_label, False))

    def session_handle(self, auth_root, tier_label=""):
        """The presence handle of `auth_root` ("" for none) in the tier
        `tier_label` ("" for the default tier): open_session/close_session on
        it count the MoQ sessions accepted under that root, for the node
        format's `sessions.json`. Only for a sidecar whose Welcome set
        session_presence (see connect())."""
        if not self.session_presence:
            raise RuntimeError("the sidecar does not understand session presence")
        return self._handle((auth_root, pb.TIER_EXTERNAL, tier_label, True))

    def _handle(self, key):
        if key not in self._handles:
            number = self._next_handle
            self._next_handle += 1
            self._handles[key] = number
            self._paths[number] = key
            self._pending_defines.append(_define(number, key))
        return self._handles[key]

    def release(self, handle):
        """Releases a handle with no open guards (in the next batch)."""
        if handle not in self._paths:
            raise ValueError("unknown handle %d" % handle)
        guards = [self._open[(handle, role)] for role in ROLES]
        if any(count for pair in guards for count in pair):
            raise ValueError("handle %d still has open guards" % handle)
        del self._handles[self._paths.pop(handle)]
        for role in ROLES:
            self._open.pop((handle, role), None)
        self._pending_releases.append(handle)

    # -- bumps --------------------------------------------------------------

    def open_broadcast(self, handle, role, count=1):
        self._bump(handle, role, broadcasts_opened=count)

    def close_broadcast(self, handle, role, count=1):
        self._bump(handle, role, broadcasts_closed=count)

    def open_track(self, handle, role, count=1):
        self._bump(handle, role, subscriptions_opened=count)

    def close_track(self, handle, role, count=1):
        self._bump(handle, role, subscriptions_closed=count)

    def open_announce(self, handle, role, count=1):
        """Announcements (node format only): each adds the path's length in
        bytes to announced_bytes, at open and again at close."""
        self._bump(handle, role, announced_opened=count,
                   announced_bytes=count * len(self._paths[handle][0].encode()))

    def close_announce(self, handle, role, count=1):
        self._bump(handle, role, announced_closed=count,
                   announced_bytes=count * len(self._paths[handle][0].encode()))

    def open_session(self, handle, count=1):
        """Session guards (presence handles only; publisher role)."""
        self._bump(handle, pb.ROLE_PUBLISHER, sessions_opened=count)

    def close_session(self, handle, count=1):
        self._bump(handle, pb.ROLE_PUBLISHER, sessions_closed=count)

    def add(self, handle, role, bytes=0, frames=0, groups=0, fetches=0, datagrams=0):  # pylint: disable=redefined-builtin
        self._bump(handle, role, bytes=bytes, frames=frames, groups=groups, fetches=fetches, datagrams=datagrams)

    def _bump(self, handle, role, **fields):
        if handle not in self._paths:
            raise ValueError("unknown handle %d" % handle)
        guards = self._open[(handle, role)]
        # Opens count before closes, as in the sidecar: a guard opened and
        # closed between two flushes is fine.
        now = [open_now + fields.get(opened, 0) - fields.get(closed, 0)
               for open_now, (opened, closed) in zip(guards, GUARD_FIELDS)]
        if any(count < 0 for count in now):
            raise ValueError("handle %d: closing more guards than are open" % handle)
        guards[:] = now
        delta = self._pending_deltas.get((handle, role))
        if delta is None:
            delta = self._pending_deltas[(handle, role)] = pb.HandleDelta(handle=handle, role=role)
        for name, value in fields.items():
            setattr(delta, name, getattr(delta, name) + value)
            self.sent[(handle, role, name)] += value

    # -- the stream ---------------------------------------------------------

    def connect(self):
        """Opens a stream for the session and acts on the Welcome: resends the
        batches it did not apply, or resyncs when the sidecar lost state.
        Returns the Welcome."""
        if self._stream is not None:
            self._stream.cancel()
        self._stream = _Stream(self._stub)
        opening = pb.Open(session_id=self.session_id.encode(), relay=self.relay_name.encode())
        self._stream.send(pb.SessionRequest(open=opening))
        response = self._recv(self.timeout)
        if response.WhichOneof("response") != "welcome":
            self.break_stream()
            raise RuntimeError("expected welcome, got %s" % response.WhichOneof("response"))
        welcome = response.welcome
        self.limits = welcome.limits
        self.session_presence = welcome.session_presence
        applied = welcome.applied_sequence
        lost = applied < self._acked or (not welcome.resumed and self._welcomed_before)
        self._welcomed_before = True
        if lost:
            self._resync()
        else:
            self._acknowledge(applied)
            for batch in self.unacked.values():  # in order, those after `applied`
                self._stream.send(pb.SessionRequest(batch=batch))
        return welcome

    def _resync(self):
        """The sidecar lost state: one batch with the whole truth now.

        It defines every handle in use, lists the guards open right now
        (resync), and carries the bytes/frames/groups of every batch not
        acknowledged plus what is pending. The guard opens and closes of
        those batches are not resent: the open list already counts them.
        Bumps acknowledged but lost in the crash stay lost (the crash bound).
        """
        sums = collections.OrderedDict()
        deltas = [d for batch in self.unacked.values() for d in batch.deltas]
        deltas += list(self._pending_deltas.values())
        for delta in deltas:
            key = (delta.handle, delta.role)
            if delta.handle not in self._paths:
                continue  # released since: its sums go nowhere now
            total = sums.setdefault(key, pb.HandleDelta(handle=delta.handle, role=delta.role))
            for name in SUM_FIELDS:
                setattr(total, name, getattr(total, name) + getattr(delta, name))
        batch = pb.Batch(sequence=self._take_sequence(), resync=True)
        for number, key in self._paths.items():
            batch.defines.append(_define(number, key))
        for (number, role), (broadcasts, subscriptions, announced, sessions) in self._open.items():
            if number in self._paths and (broadcasts or subscriptions or announced or sessions):
                batch.open.add(handle=number, role=role, broadcasts=broadcasts, subscriptions=subscriptions,
                               announced=announced, sessions=sessions)
        batch.deltas.extend(d for d in sums.values() if any(getattr(d, name) for name in SUM_FIELDS))
        self.unacked.clear()
        self._pending_defines, self._pending_deltas, self._pending_releases = [], collections.OrderedDict(), []
        self._send(batch)

    def flush(self):
        """Sends what was bumped since the last flush; returns the batches
        sent (none when there was nothing). A batch over the Welcome's
        max_batch_entries is split, in the order defines, deltas, releases,
        which keeps every define before its use and every release after the
        closes."""
        self._ensure_connected()
        entries = ([("defines", d) for d in self._pending_defines] +
                   [("deltas", d) for d in self._pending_deltas.values()] +
                   [("releases", r) for r in self._pending_releases])
        self._pending_defines, self._pending_deltas, self._pending_releases = [], collections.OrderedDict(), []
        size = max(1, self.limits.max_batch_entries)
        batches = []
        for start in range(0, len(entries), size):
            batch = pb.Batch(sequence=self._take_sequence())
            for field, entry in entries[start:start + size]:
                getattr(batch, field).append(entry)
            self._send(batch)
            batches.append(batch)
        self._poll_acks()
        return batches

    def wait_acked(self, timeout=None):
        """Waits until every batch sent is acknowledged (bounded). When the
        stream ends first this raises SessionEnded; calling it again opens a
        new stream, which resumes the session and resends what is needed."""
        self._ensure_connected()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self.unacked:
            self._handle_response(self._recv(deadline - time.monotonic()))

    def break_stream(self):
        """Drops the stream without Close, as a broken connection would; the
        session waits for a resume during the sidecar's grace period."""
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None

    def close(self):
        """Sends Close: the sidecar forgets the session (closing any guard
        still open) and ends the stream with OK."""
        self._ensure_connected()
        self._stream.send(pb.SessionRequest(close=pb.Close()))
        self._stream.half_close()
        deadline = time.monotonic() + self.timeout
        try:
            while True:  # the acks still owed, then the end of the stream
                self._handle_response(self._recv(deadline - time.monotonic()))
        except SessionEnded as ended:
            if ended.code != grpc.StatusCode.OK:
                raise

    # -- internals ----------------------------------------------------------

    def _ensure_connected(self):
        if self._stream is None:
            self.connect()

    def _take_sequence(self):
        sequence = self._next_sequence
        self._next_sequence += 1
        return sequence

    def _send(self, batch):
        self.unacked[batch.sequence] = batch
        self._stream.send(pb.SessionRequest(batch=batch))

    def _recv(self, timeout):
        """The next response. A stream that ended, or that gave no answer in
        time, is dropped so that the next call opens a new one."""
        try:
            return self._stream.recv(timeout)
        except (SessionEnded, TimeoutError):
            self.break_stream()
            raise

    def _acknowledge(self, applied_sequence):
        self._acked = max(self._acked, applied_sequence)
        for sequence in [s for s in self.unacked if s <= applied_sequence]:
            del self.unacked[sequence]

    def _handle_response(self, response):
        kind = response.WhichOneof("response")
        if kind != "ack":
            raise RuntimeError("unexpected %s on an open session" % kind)
        self._acknowledge(response.ack.applied_sequence)

    def _poll_acks(self):
        """Takes the acks already arrived, without waiting."""
        while True:
            try:
                self._handle_response(self._stream.recv(0))
            except TimeoutError:
                return  # nothing more for now; the stream stays
            except SessionEnded:
                self.break_stream()
                raise


# ---------------------------------------------------------------------------
# The demo

TIER_NAMES = {pb.TIER_EXTERNAL: "external", pb.TIER_INTERNAL: "internal"}
ROLE_NAMES = {pb.ROLE_PUBLISHER: "publisher", pb.ROLE_SUBSCRIBER: "subscriber"}


def describe_batch(batch):
    parts = ["seq %d" % batch.sequence]
    for define in batch.defines:
        parts.append("define %d=%s/%s" % (define.handle, define.path.decode(errors="replace"), TIER_NAMES[define.tier]))
    for delta in batch.deltas:
        fields = ["%s=%d" % (name, getattr(delta, name)) for name in DELTA_TO_SNAPSHOT if getattr(delta, name)]
        parts.append("delta %d/%s {%s}" % (delta.handle, ROLE_NAMES[delta.role], " ".join(fields)))
    if batch.releases:
        parts.append("release %s" % ",".join(str(r) for r in batch.releases))
    if batch.resync:
        parts.append("resync %s" % ["%d/%s b=%d s=%d" % (o.handle, ROLE_NAMES[o.role], o.broadcasts, o.subscriptions)
                                    for o in batch.open])
    return "  ".join(parts)


def send(relay, what):
    """Flushes the relay's pending bumps and prints the batches."""
    for batch in relay.flush():
        print("sent %-20s %s" % (what, describe_batch(batch)))


def expected_snapshots(relay, handles):
    """What the level should hold: the relay's bumps, per (tier, role)."""
    expected = {}
    for handle, tier in handles:
        for role in ROLES:
            snapshot = expected.setdefault((tier, role), dict.fromkeys(DELTA_TO_SNAPSHOT.values(), 0))
            for delta_field, snapshot_field in DELTA_TO_SNAPSHOT.items():
                snapshot[snapshot_field] += relay.sent[(handle, role, delta_field)]
    return expected


def level_snapshot(level, tier, role):
    name = "%s_%s" % (TIER_NAMES[tier], ROLE_NAMES[role])
    snapshot = getattr(level, name)
    return name, {field: getattr(snapshot, field) for field in DELTA_TO_SNAPSHOT.values()}


def run_demo(channel, timeout):
    stub = pb_grpc.StatsServiceStub(channel)
    info = stub.GetInfo(pb.GetInfoRequest(), timeout=timeout)
    levels = int(info.config.get("stats-levels", "1"))
    print("sidecar %s, stats-levels %d, up %.1f s" % (info.version, levels, info.uptime_seconds))
    if levels < 1:
        print("FAIL: the sidecar's aggregator is disabled (stats-levels 0): nothing to read back")
        return False

    # A top-level segment of our own, so the level holds our counts only.
    level_key = "py-example-%s" % uuid.uuid4().hex[:12]
    path = level_key + "/bbb"

    relay = Relay(channel, timeout=timeout)
    welcome = relay.connect()
    print("session %s: welcome resumed=%s applied_sequence=%d max_handles=%d max_batch_entries=%d" % (
        relay.session_id, welcome.resumed, welcome.applied_sequence, welcome.limits.max_handles,
        welcome.limits.max_batch_entries))

    external = relay.handle(path, pb.TIER_EXTERNAL)
    internal = relay.handle(path, pb.TIER_INTERNAL)
    pub, sub = pb.ROLE_PUBLISHER, pb.ROLE_SUBSCRIBER

    # The broadcast goes out to viewers (publisher role: egress) on two
    # tracks, comes in from its publisher (subscriber role: ingress) on two
    # tracks, and a cluster peer also feeds it on the internal tier.
    relay.open_broadcast(external, pub)
    relay.open_track(external, pub, 2)
    relay.open_broadcast(external, sub)
    relay.open_track(external, sub, 2)
    relay.open_broadcast(internal, sub)
    relay.open_track(internal, sub)
    relay.open_announce(external, pub)
    relay.open_announce(internal, sub)
    # The viewer's MoQ session, under the auth root level_key (only to a
    # sidecar that understands session presence; the node format shows it in
    # sessions.json, the level format nowhere).
    viewer_session = relay.session_handle(level_key) if relay.session_presence else None
    if viewer_session is not None:
        relay.open_session(viewer_session)
    send(relay, "open guards")
    relay.wait_acked()
    print("acknowledged up to %d" % relay.acked)

    for second in range(3):
        relay.add(external, pub, bytes=120000 + second, frames=60, groups=2)
        relay.add(external, sub, bytes=2 * (120000 + second), frames=120, groups=4)
        relay.add(internal, sub, bytes=65000, frames=30, groups=1, datagrams=1)
        relay.add(external, pub, fetches=1)
        send(relay, "traffic, second %d" % (second + 1))

    # Break the stream before the acks come back, then resume the session:
    # the Welcome says what was applied (some, all or none of them, as the
    # race goes), the rest is resent and nothing is counted twice.
    relay.break_stream()
    print("stream broken with %d batches unacknowledged: %s" % (len(relay.unacked), list(relay.unacked)))
    welcome = relay.connect()
    print("resumed=%s applied_sequence=%d; resent %s" % (welcome.resumed, welcome.applied_sequence,
                                                       list(relay.unacked)))
    if not welcome.resumed:
        print("FAIL: the session was not resumed")
        return False

    relay.add(external, pub, bytes=4000, frames=2)
    relay.close_track(external, sub, 2)
    relay.close_broadcast(external, sub)
    relay.close_track(internal, sub)
    relay.close_broadcast(internal, sub)
    relay.close_track(external, pub, 2)
    relay.close_broadcast(external, pub)
    relay.close_announce(internal, sub)
    relay.close_announce(external, pub)
    send(relay, "close guards")
    relay.wait_acked()
    print("every batch acknowledged")

    level = stub.GetLevel(pb.GetLevelRequest(key=level_key), timeout=timeout).level
    print("read back level %r (advertised %s, publishing=%s)" % (level.key, level.advertised_path, level.publishing))
    ok = True
    for (tier, role), want in sorted(expected_snapshots(relay, [(external, pb.TIER_EXTERNAL),
                                                                (internal, pb.TIER_INTERNAL)]).items()):
        name, got = level_snapshot(level, tier, role)
        same = got == want
        ok = ok and same
        print("  %-20s %s %s" % (name, "ok  " if same else "DIFF", got))
        if not same:
            print("  %-20s want %s" % ("", want))

    if viewer_session is not None:
        relay.close_session(viewer_session)
        relay.release(viewer_session)
    relay.release(external)
    relay.release(internal)
    send(relay, "release handles")
    relay.wait_acked()
    relay.close()
    print("session closed")
    return ok


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call of a channel (plaintext
    or TLS: gRPC's own call credentials refuse plaintext)."""

    def __init__(self, token):
        self._header = ("authorization", "Bearer " + token)

    def _details(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _CallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready,
            getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


class _CallDetails(collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                           "wait_for_ready", "compression")),
                   grpc.ClientCallDetails):
    pass


def read_token(path):
    """The first token in a token file: one per line, blank and # lines skipped."""
    with open(path) as f:
        for line in f:
            token = line.strip()
            if token and not token.startswith("#"):
                return token
    raise ValueError("token file %s holds no token" % path)


def open_channel(args):
    """A channel to args.target: TLS when --tls-ca or --tls-cert is given, and
    the bearer token of --auth-token-file on every call."""
    if args.tls_ca or args.tls_cert:
        def read(path):
            with open(path, "rb") as f:
                return f.read()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.tls_ca) if args.tls_ca else None,
            private_key=read(args.tls_key) if args.tls_key else None,
            certificate_chain=read(args.tls_cert) if args.tls_cert else None)
        channel = grpc.secure_channel(args.target, credentials)
    else:
        channel = grpc.insecure_channel(args.target)
    if args.auth_token_file:
        channel = grpc.intercept_channel(channel, _BearerToken(read_token(args.auth_token_file)))
    return channel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="the sidecar's gRPC target, e.g. unix:/abs/path/moq-stats.sock")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds any one wait may take (default 10)")
    env = os.environ.get
    parser.add_argument("--auth-token-file", default=env("MOQ_STATS_AUTH_TOKEN_FILE"),
                        help="bearer token for a sidecar on TCP (env MOQ_STATS_AUTH_TOKEN_FILE)")
    parser.add_argument("--tls-ca", default=env("MOQ_STATS_TLS_CA"),
                        help="CA bundle (PEM) for the sidecar's certificate; turns TLS on (env MOQ_STATS_TLS_CA)")
    parser.add_argument("--tls-cert", default=env("MOQ_STATS_TLS_CERT"),
                        help="client certificate (PEM) for mutual TLS (env MOQ_STATS_TLS_CERT)")
    parser.add_argument("--tls-key", default=env("MOQ_STATS_TLS_KEY"),
                        help="its private key (PEM) (env MOQ_STATS_TLS_KEY)")
    args = parser.parse_args(argv)

    with open_channel(args) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=args.timeout)
        except grpc.FutureTimeoutError:
            print("FAIL: cannot reach %s within %.1f s" % (args.target, args.timeout))
            return 1
        try:
            ok = run_demo(channel, args.timeout)
        except (grpc.RpcError, SessionEnded, TimeoutError, RuntimeError, ValueError) as error:
            print("FAIL: %s" % error)
            return 1
    print("PASS: the counts read back equal what was sent" if ok else "FAIL: the counts read back differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
