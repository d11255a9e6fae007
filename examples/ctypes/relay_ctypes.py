#!/usr/bin/env python3
"""A relay in Python counting its traffic through libmoqstats.so, the C ABI
of moq-stats-sidecar's relay-side library (moq_stats/moq_stats.h), with
nothing but the standard library's ctypes.

The library is found through pkg-config, as any installed package's:

    PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig \\
        python3 relay_ctypes.py --target unix:/run/moq-stats/moq-stats.sock

It plays a relay that carries one broadcast (--path, external tier): one
publisher track receiving --frames frames of --bytes-per-frame bytes in
--groups groups, fanned out to --subscribers subscriber tracks that each send
the same. Then it shuts the library down, which waits for the sidecar to
acknowledge every count, and prints the library's counters. Exit status 0
when the sidecar acknowledged everything.
"""

import argparse
import ctypes
import os
import subprocess
import sys

# moq_stats.h: error codes, tiers and roles.
MOQ_STATS_OK = 0
MOQ_STATS_TIER_EXTERNAL = 0
MOQ_STATS_ROLE_PUBLISHER = 0
MOQ_STATS_ROLE_SUBSCRIBER = 1


class Counters(ctypes.Structure):
    """moq_stats_counters_t. struct_size is set to this struct's size: a
    newer library writes only the fields listed here."""
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("connected", ctypes.c_int),
        ("batches_sent", ctypes.c_uint64),
        ("batches_acked", ctypes.c_uint64),
        ("deltas_sent", ctypes.c_uint64),
        ("reconnects", ctypes.c_uint64),
        ("resyncs", ctypes.c_uint64),
        ("live_handles", ctypes.c_uint64),
        ("pending_batches", ctypes.c_uint64),
        ("last_error_len", ctypes.c_size_t),
    ]


def load_library():
    """libmoqstats.so from the libdir pkg-config reports for moqstats."""
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "moqstats"], check=True,
                            capture_output=True, text=True).stdout.strip()
    lib = ctypes.CDLL(os.path.join(libdir, "libmoqstats.so"))
    handle = ctypes.c_void_p
    err = ctypes.POINTER(ctypes.c_int)
    signatures = {
        "moq_stats_strerror": (ctypes.c_char_p, [ctypes.c_int]),
        "moq_stats_options_create": (handle, []),
        "moq_stats_options_destroy": (None, [handle]),
        "moq_stats_options_set_relay_name": (ctypes.c_int, [handle, ctypes.c_char_p, ctypes.c_size_t]),
        "moq_stats_connect": (handle, [ctypes.c_char_p, ctypes.c_size_t, handle, err]),
        "moq_stats_shutdown": (ctypes.c_int, [handle, ctypes.c_uint32, err]),
        "moq_stats_destroy": (None, [handle]),
        "moq_stats_counters": (ctypes.c_int, [handle, ctypes.POINTER(Counters), ctypes.c_char_p, ctypes.c_size_t]),
        "moq_stats_broadcast": (handle, [handle, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, err]),
        "moq_stats_broadcast_destroy": (None, [handle]),
        "moq_stats_broadcast_guard_open": (handle, [handle, ctypes.c_int, err]),
        "moq_stats_broadcast_guard_close": (None, [handle]),
        "moq_stats_broadcast_guard_track": (handle, [handle, ctypes.c_char_p, ctypes.c_size_t, err]),
        "moq_stats_track_guard_close": (None, [handle]),
        "moq_stats_track_frame": (None, [handle]),
        "moq_stats_track_bytes": (None, [handle, ctypes.c_uint64]),
        "moq_stats_track_group": (None, [handle]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


class Library:
    """The calls of moq_stats.h that make a handle, raising on an error."""

    def __init__(self, lib):
        self.lib = lib

    def make(self, name, *args):
        err = ctypes.c_int(-1)
        result = getattr(self.lib, name)(*args, ctypes.byref(err))
        if err.value != MOQ_STATS_OK or not result:
            raise RuntimeError("%s: %s" % (name, self.lib.moq_stats_strerror(err.value).decode()))
        return result


def send(lib, track, frames, bytes_per_frame, groups):
    """`frames` frames of `bytes_per_frame` bytes, a new group every
    frames/groups frames (groups <= frames)."""
    group_starts = {i * frames // groups for i in range(groups)} if groups else set()
    for i in range(frames):
        if i in group_starts:
            lib.moq_stats_track_group(track)
        lib.moq_stats_track_frame(track)
        lib.moq_stats_track_bytes(track, bytes_per_frame)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help='the sidecar: "unix:/path" or "host:port"')
    parser.add_argument("--path", default="ctypes/demo", help="the broadcast path")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--bytes-per-frame", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=3, help="at most --frames")
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--deadline-ms", type=int, default=10000, help="how long shutdown waits for acks")
    args = parser.parse_args()
    if not 0 <= args.groups <= args.frames:
        parser.error("--groups must be between 0 and --frames")

    lib = load_library()
    c = Library(lib)
    options = lib.moq_stats_options_create()
    lib.moq_stats_options_set_relay_name(options, b"ctypes-example", len(b"ctypes-example"))
    target = args.target.encode()
    stats = c.make("moq_stats_connect", target, len(target), options)
    lib.moq_stats_options_destroy(options)
    try:
        path = args.path.encode()
        broadcast = c.make("moq_stats_broadcast", stats, MOQ_STATS_TIER_EXTERNAL, path, len(path))
        # The relay subscribes to the broadcast's publisher (ingress: the
        # subscriber role) and serves each of its subscribers (egress: the
        # publisher role).
        ingress = c.make("moq_stats_broadcast_guard_open", broadcast, MOQ_STATS_ROLE_SUBSCRIBER)
        egress = c.make("moq_stats_broadcast_guard_open", broadcast, MOQ_STATS_ROLE_PUBLISHER)
        ingress_track = c.make("moq_stats_broadcast_guard_track", ingress, b"video", 5)
        send(lib, ingress_track, args.frames, args.bytes_per_frame, args.groups)
        for _ in range(args.subscribers):
            egress_track = c.make("moq_stats_broadcast_guard_track", egress, b"video", 5)
            send(lib, egress_track, args.frames, args.bytes_per_frame, args.groups)
            lib.moq_stats_track_guard_close(egress_track)
        lib.moq_stats_track_guard_close(ingress_track)
        lib.moq_stats_broadcast_guard_close(egress)
        lib.moq_stats_broadcast_guard_close(ingress)
        lib.moq_stats_broadcast_destroy(broadcast)

        err = ctypes.c_int(-1)
        acknowledged = lib.moq_stats_shutdown(stats, args.deadline_ms, ctypes.byref(err))
        counters = Counters(struct_size=ctypes.sizeof(Counters))
        last_error = ctypes.create_string_buffer(256)
        code = lib.moq_stats_counters(stats, ctypes.byref(counters), last_error, len(last_error))
        if code != MOQ_STATS_OK:
            raise RuntimeError("moq_stats_counters: %s" % lib.moq_stats_strerror(code).decode())
        print("relay_ctypes: acknowledged=%d batches_sent=%d batches_acked=%d deltas_sent=%d last_error=%r" %
              (acknowledged, counters.batches_sent, counters.batches_acked, counters.deltas_sent,
               last_error.value.decode(errors="replace")))
        return 0 if acknowledged == 1 else 1
    finally:
        lib.moq_stats_destroy(stats)


if __name__ == "__main__":
    sys.exit(main())
