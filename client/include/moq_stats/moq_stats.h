#ifndef MOQ_STATS_MOQ_STATS_H_
#define MOQ_STATS_MOQ_STATS_H_

/* The C ABI of the relay-side library of moq-stats-sidecar: what a relay
 * written in C, Rust, Go or Python links to count its traffic. It is a thin
 * layer over the C++ API of moq_stats/stats.h, with the same meaning: read
 * that header for what the counters are and how they reach the sidecar.
 *
 *   int err;
 *   moq_stats_t* stats = moq_stats_connect("unix:/run/moq-stats/moq-stats.sock", 34, NULL, &err);
 *   moq_stats_broadcast_t* bs =
 *       moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, "anon/bbb", 8, &err);
 *   moq_stats_broadcast_guard_t* publisher =
 *       moq_stats_broadcast_guard_open(bs, MOQ_STATS_ROLE_PUBLISHER, &err);  // broadcasts += 1
 *   moq_stats_track_guard_t* track =
 *       moq_stats_broadcast_guard_track(publisher, "video", 5, &err);        // subscriptions += 1
 *   moq_stats_track_bytes(track, 1200);                                      // one atomic add each
 *   moq_stats_track_frame(track);
 *   moq_stats_track_group(track);
 *   moq_stats_track_guard_close(track);          // subscriptions_closed += 1
 *   moq_stats_broadcast_guard_close(publisher);  // broadcasts_closed += 1
 *   moq_stats_broadcast_destroy(bs);
 *   moq_stats_shutdown(stats, 2000, &err);
 *   moq_stats_destroy(stats);
 *
 * Conventions, for every function below:
 *  - Handles are opaque pointers. Each is made by one function and freed by
 *    exactly one call of its destroy/close function; freeing NULL is a no-op.
 *    A handle may be freed in any order relative to the others: guards keep
 *    what they count alive, and every handle may outlive the moq_stats_t it
 *    came from (its bumps then go nowhere).
 *  - Strings are a pointer and a byte length, need not be NUL-terminated and
 *    are copied or only read during the call; NULL with length 0 is the empty
 *    string. Strings returned are copied into a caller's buffer.
 *  - Errors are MOQ_STATS_* codes. Functions that make a handle return NULL
 *    on error and store the code in `*err` when `err` is not NULL; `*err` is
 *    set on every call, MOQ_STATS_OK on success. Other functions return the
 *    code, or take `err` the same way.
 *  - A NULL handle, a NULL output pointer, a NULL string with a non-zero
 *    length or a tier or role out of range is MOQ_STATS_ERR_INVALID_ARGUMENT
 *    (or a no-op where a function reports nothing): never a crash. A handle
 *    already freed, or not made by this library, is undefined behaviour.
 *  - No C++ exception crosses this interface; one caught at the boundary is
 *    MOQ_STATS_ERR_OUT_OF_MEMORY (std::bad_alloc) or MOQ_STATS_ERR_INTERNAL.
 *  - Thread-safety is stated per type. A handle must never be freed while
 *    another thread may still use it.
 *  - Nothing here blocks on the sidecar except moq_stats_shutdown (bounded by
 *    its deadline); a sidecar that is down never makes a call fail.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors */

enum {
  MOQ_STATS_OK = 0,
  /* A NULL handle or output pointer, a NULL string with a non-zero length, a
   * tier or role out of range, an option out of range. Nothing was done. */
  MOQ_STATS_ERR_INVALID_ARGUMENT = 1,
  /* An allocation failed (std::bad_alloc caught at the boundary). Nothing
   * was made; the library's state is as before the call. */
  MOQ_STATS_ERR_OUT_OF_MEMORY = 2,
  /* Any other C++ exception caught at the boundary: a bug of this library or
   * a failure of the system under it (e.g. no thread could be started). */
  MOQ_STATS_ERR_INTERNAL = 3
};

/* A short English description of `code`, e.g. "invalid argument"; for an
 * unknown code, "unknown error code". Never NULL; static storage, never
 * freed. Thread-safe. */
const char* moq_stats_strerror(int code);

/* ------------------------------------------------------------------------ */
/* Tiers and roles: ints, so that a bad value from a foreign caller is an
 * error code, not undefined behaviour. */

/* Traffic class: customer-facing (external) or cluster-peer (internal). */
enum { MOQ_STATS_TIER_EXTERNAL = 0, MOQ_STATS_TIER_INTERNAL = 1 };

/* Direction: the publisher role is egress, the subscriber role ingress. */
enum { MOQ_STATS_ROLE_PUBLISHER = 0, MOQ_STATS_ROLE_SUBSCRIBER = 1 };

/* ------------------------------------------------------------------------ */
/* Opaque handles */

/* The library: one per relay process (a moq_stats::Stats). */
typedef struct moq_stats_t moq_stats_t;
/* Connect options (a moq_stats::Options). */
typedef struct moq_stats_options_t moq_stats_options_t;
/* The handle of one (broadcast path, tier) (a moq_stats::BroadcastStats). */
typedef struct moq_stats_broadcast_t moq_stats_broadcast_t;
/* An open broadcast of one role (a PublisherStats or SubscriberStats). */
typedef struct moq_stats_broadcast_guard_t moq_stats_broadcast_guard_t;
/* An open track of one role (a PublisherTrack or SubscriberTrack). */
typedef struct moq_stats_track_guard_t moq_stats_track_guard_t;

/* An open announcement of one role (an AnnounceGuard). */
typedef struct moq_stats_announce_guard_t moq_stats_announce_guard_t;
/* A session guard: one MoQ session accepted under an auth root, in a tier. */
typedef struct moq_stats_session_guard_t moq_stats_session_guard_t;

/* ------------------------------------------------------------------------ */
/* Options: made with the defaults below, changed with setters, read by
 * moq_stats_connect (which copies them: destroy them any time after). Not
 * thread-safe: use one options object from one thread at a time.
 *
 *   session_id          ""       names the session to the sidecar, the same
 *                                for every reconnect; empty: a random id
 *   relay_name          ""       shown in the sidecar's logs
 *   prefix              ".stats" paths under it are counted nowhere; keep it
 *                                equal to the sidecar's --stats-prefix
 *   flush_interval_ms   50       how often changes are sent; at least 1
 *   max_batch_entries   1024     entries per batch (fewer than 3 counts as 3;
 *                                the sidecar's limit wins when lower)
 *   max_inflight        16       batches sent and not yet acknowledged before
 *                                the flusher waits (0 counts as 1)
 *   reconnect_min_ms    100      reconnect backoff, doubling from min to max
 *   reconnect_max_ms    5000     with jitter; 1 <= min <= max <= 2^31 - 1
 *
 * Each setter returns MOQ_STATS_ERR_INVALID_ARGUMENT for NULL options or a
 * NULL string with a non-zero length, MOQ_STATS_ERR_OUT_OF_MEMORY when a
 * string could not be copied, else MOQ_STATS_OK. Numbers are checked by
 * moq_stats_connect, since min and max are set one at a time. */

/* A new options object with the defaults, freed with
 * moq_stats_options_destroy; NULL when out of memory. */
moq_stats_options_t* moq_stats_options_create(void);
void moq_stats_options_destroy(moq_stats_options_t* options);

int moq_stats_options_set_session_id(moq_stats_options_t* options, const char* session_id, size_t session_id_len);
int moq_stats_options_set_relay_name(moq_stats_options_t* options, const char* relay_name, size_t relay_name_len);
int moq_stats_options_set_prefix(moq_stats_options_t* options, const char* prefix, size_t prefix_len);
int moq_stats_options_set_flush_interval_ms(moq_stats_options_t* options, uint32_t flush_interval_ms);
int moq_stats_options_set_max_batch_entries(moq_stats_options_t* options, uint32_t max_batch_entries);
int moq_stats_options_set_max_inflight(moq_stats_options_t* options, uint32_t max_inflight);
int moq_stats_options_set_reconnect_min_ms(moq_stats_options_t* options, uint32_t reconnect_min_ms);
int moq_stats_options_set_reconnect_max_ms(moq_stats_options_t* options, uint32_t reconnect_max_ms);
/* Credentials for a sidecar on TCP (a unix socket needs none); each a file
 * path, empty for none. The token file's first token is sent as
 * `authorization: Bearer TOKEN`. TLS is used when `ca_file` or `cert_file`
 * is set: `ca_file` checks the sidecar's certificate (empty: the system
 * roots), `cert_file` and `key_file` are the client's for mutual TLS. The
 * files are read by moq_stats_connect; one that cannot be read leaves the
 * library unconnected, with the reason in moq_stats_counters' last_error. */
int moq_stats_options_set_auth_token_file(moq_stats_options_t* options, const char* path, size_t path_len);
int moq_stats_options_set_tls_files(moq_stats_options_t* options, const char* ca_file, size_t ca_file_len,
                                    const char* cert_file, size_t cert_file_len, const char* key_file,
                                    size_t key_file_len);

/* ------------------------------------------------------------------------ */
/* The library. Every function on a moq_stats_t is safe for concurrent use
 * from multiple threads, except moq_stats_destroy. */

/* Starts the library's background flusher, which connects to `target`
 * ("unix:/path" or "host:port", target_len bytes) and keeps reconnecting:
 * never blocks, and an unreachable sidecar is not an error. `options` NULL
 * means the defaults; they are copied. Returns NULL with `*err` set on
 * error: MOQ_STATS_ERR_INVALID_ARGUMENT for an empty or NULL target or an
 * option out of range, MOQ_STATS_ERR_INTERNAL when the flusher thread could
 * not start. Free with moq_stats_destroy. */
moq_stats_t* moq_stats_connect(const char* target, size_t target_len, const moq_stats_options_t* options, int* err);

/* A no-op library: every broadcast handle from it is empty and nothing is
 * sent; every call on it succeeds. NULL only when out of memory. Free with
 * moq_stats_destroy. */
moq_stats_t* moq_stats_disabled(void);

/* 1 when `stats` sends counts (made by moq_stats_connect), 0 when disabled
 * or NULL. */
int moq_stats_enabled(const moq_stats_t* stats);

/* Flushes what is pending, waits up to `deadline_ms` for the sidecar to
 * acknowledge it, and closes the session (the sidecar then forgets it).
 * Returns 1 when everything was acknowledged (always, for a disabled
 * library), 0 otherwise: the deadline passed or the sidecar could not be
 * reached (`*err` is still MOQ_STATS_OK), or an error (`*err` says which).
 * Blocks the caller up to the deadline. After it, bumps are still safe but
 * no longer sent; calling it again returns 0 at once. */
int moq_stats_shutdown(moq_stats_t* stats, uint32_t deadline_ms, int* err);

/* Frees the library: stops the flusher and drops the stream. Without
 * moq_stats_shutdown first, at most one flush interval of counts is lost and
 * the sidecar closes the guards left open after its grace period. Handles
 * made from it stay valid (their bumps go nowhere). May block briefly while
 * the flusher thread ends. No other thread may use `stats` during or after
 * the call. NULL is a no-op. */
void moq_stats_destroy(moq_stats_t* stats);

/* The library's own counters, for a relay's logs and metrics.
 *
 * The struct can grow without breaking callers built against an older
 * header: fields are only ever appended, and the caller says how large its
 * struct is. Set `struct_size` to sizeof(moq_stats_counters_t) as the caller
 * was compiled (MOQ_STATS_COUNTERS_INIT does it) before each
 * moq_stats_counters call. The library then writes exactly the fields that
 * lie wholly within the first `struct_size` bytes and nothing past them:
 * an older caller's smaller struct gets the fields it knows, and a newer
 * caller's fields unknown to an older library are left as the caller set
 * them (zero them first). `struct_size` itself is never written.
 *
 *   moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
 *   moq_stats_counters(stats, &counters, NULL, 0); */
typedef struct moq_stats_counters_t {
  size_t struct_size;    /* set by the caller; see above */
  int connected;         /* 1 when a stream is open and welcomed */
  uint64_t batches_sent; /* including resends */
  uint64_t batches_acked;
  uint64_t deltas_sent;     /* handle-deltas in the batches sent */
  uint64_t reconnects;      /* streams opened after the first */
  uint64_t resyncs;         /* times the sidecar had lost the session's state */
  uint64_t live_handles;    /* broadcast handles alive in the library */
  uint64_t pending_batches; /* sent and not acknowledged */
  /* The byte length of the last stream error (0 if none), whether or not it
   * fit the caller's buffer: it was cut when last_error_len >= the buffer's
   * capacity. */
  size_t last_error_len;
} moq_stats_counters_t;

/* An initializer for a zeroed moq_stats_counters_t of this header's size
 * (every field spelt out, so -Wmissing-field-initializers stays quiet). */
#define MOQ_STATS_COUNTERS_INIT \
  { sizeof(moq_stats_counters_t), 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Reads the counters of `stats` into `*counters` (all zero for a disabled
 * library) and copies the last stream error into `last_error`, a buffer of
 * `last_error_cap` bytes owned by the caller: at most last_error_cap - 1
 * bytes and a terminating NUL, like snprintf. `last_error` may be NULL when
 * `last_error_cap` is 0 (to learn only the length). Takes the library's lock
 * briefly: call it for logs and metrics, not per frame. Returns
 * MOQ_STATS_ERR_INVALID_ARGUMENT for NULL `stats` or `counters`, a
 * `counters->struct_size` too small to hold `connected` (0: not set), or a
 * NULL buffer with a non-zero capacity (nothing is written then). */
int moq_stats_counters(const moq_stats_t* stats, moq_stats_counters_t* counters, char* last_error,
                       size_t last_error_cap);

/* ------------------------------------------------------------------------ */
/* Broadcast handles. Safe for concurrent use from multiple threads, except
 * moq_stats_broadcast_destroy. A handle keeps the counts of its (path, tier)
 * flowing while it or any guard opened from it lives. */

/* The handle of `path` (path_len bytes, normalised: "//a//b/" is "a/b") in
 * `tier`. Handles of one (path, tier) share their counts. Takes the
 * library's lock: call it when a broadcast starts, not per frame.
 *
 * The handle is EMPTY, and every guard and bump from it a no-op, for a path
 * under the configured prefix, a path the sidecar would refuse (not UTF-8,
 * over 1024 bytes, over 32 segments) and a disabled library. An empty handle
 * is a success (not NULL, `*err` MOQ_STATS_OK), so a relay need not branch on
 * it; test with moq_stats_broadcast_empty.
 *
 * NULL on error: MOQ_STATS_ERR_INVALID_ARGUMENT for NULL `stats`, a tier out
 * of range or a NULL path with a non-zero length. Free with
 * moq_stats_broadcast_destroy. */
moq_stats_broadcast_t* moq_stats_broadcast(const moq_stats_t* stats, int tier, const char* path, size_t path_len,
                                           int* err);

/* The handle of `path` in the tier named `tier_label` (tier_label_len
 * bytes): "" and "external" are MOQ_STATS_TIER_EXTERNAL, "internal" is
 * MOQ_STATS_TIER_INTERNAL, and any other one path segment (UTF-8, at most 64
 * bytes, not "." or "..") is a named tier, which the sidecar's node format
 * publishes as `<tier>/publisher.json`, ... and the level format counts
 * nowhere. Otherwise as moq_stats_broadcast; MOQ_STATS_ERR_INVALID_ARGUMENT
 * also for an invalid label. */
moq_stats_broadcast_t* moq_stats_broadcast_named(const moq_stats_t* stats, const char* tier_label,
                                                 size_t tier_label_len, const char* path, size_t path_len, int* err);

/* 1 when `broadcast` is empty (counts nothing) or NULL, else 0. */
int moq_stats_broadcast_empty(const moq_stats_broadcast_t* broadcast);

/* Frees the handle; guards opened from it stay valid. NULL is a no-op. */
void moq_stats_broadcast_destroy(moq_stats_broadcast_t* broadcast);

/* ------------------------------------------------------------------------ */
/* Broadcast guards: the record of one open broadcast in one role. Opening
 * counts broadcasts += 1, closing broadcasts_closed += 1, exactly once. Use a
 * guard from one thread at a time. */

/* Opens a broadcast guard of `role` on `broadcast` (a no-op guard on an
 * empty handle). NULL on error: MOQ_STATS_ERR_INVALID_ARGUMENT for NULL
 * `broadcast` or a role out of range, MOQ_STATS_ERR_OUT_OF_MEMORY. Close
 * with moq_stats_broadcast_guard_close. */
moq_stats_broadcast_guard_t* moq_stats_broadcast_guard_open(const moq_stats_broadcast_t* broadcast, int role, int* err);

/* The role of `guard`, or -1 when NULL. */
int moq_stats_broadcast_guard_role(const moq_stats_broadcast_guard_t* guard);

/* Closes the guard (broadcasts_closed += 1) and frees it. Track guards
 * opened from it stay open and valid. NULL is a no-op. */
void moq_stats_broadcast_guard_close(moq_stats_broadcast_guard_t* guard);

/* ------------------------------------------------------------------------ */
/* Track guards: the record of one open track (subscription) in one role.
 * Opening counts subscriptions += 1, closing subscriptions_closed += 1,
 * exactly once. The bumps may be called from any number of threads at once;
 * opening and closing must not race with them. */

/* Opens a track guard under `guard`, in its role. `name` (name_len bytes) is
 * reserved for per-track counters and not used yet. NULL on error:
 * MOQ_STATS_ERR_INVALID_ARGUMENT for NULL `guard` or a NULL name with a
 * non-zero length, MOQ_STATS_ERR_OUT_OF_MEMORY. Close with
 * moq_stats_track_guard_close. */
moq_stats_track_guard_t* moq_stats_broadcast_guard_track(const moq_stats_broadcast_guard_t* guard, const char* name,
                                                         size_t name_len, int* err);

/* Opens a track guard of `role` straight from a broadcast handle, without a
 * broadcast guard (the broadcast's lifetime is counted elsewhere). Errors
 * as above, and MOQ_STATS_ERR_INVALID_ARGUMENT for a role out of range. */
moq_stats_track_guard_t* moq_stats_broadcast_track(const moq_stats_broadcast_t* broadcast, int role, const char* name,
                                                   size_t name_len, int* err);

/* The role of `track`, or -1 when NULL. */
int moq_stats_track_guard_role(const moq_stats_track_guard_t* track);

/* Closes the guard (subscriptions_closed += 1) and frees it. NULL is a
 * no-op. */
void moq_stats_track_guard_close(moq_stats_track_guard_t* track);

/* The hot path: one relaxed atomic add each, in the guard's role. No lock,
 * no allocation, no system call, never blocks, never fails. A NULL track or
 * a guard from an empty handle is a no-op. */
void moq_stats_track_frame(const moq_stats_track_guard_t* track);             /* frames += 1 */
void moq_stats_track_bytes(const moq_stats_track_guard_t* track, uint64_t n); /* bytes += n */
void moq_stats_track_group(const moq_stats_track_guard_t* track);             /* groups += 1 */
/* datagrams += 1: a group of one frame carried as a datagram; count its
 * group, frame and bytes too, as for any group. Counted by the node format
 * only, as are the fetches below. */
void moq_stats_track_datagram(const moq_stats_track_guard_t* track);
void moq_stats_track_fetch(const moq_stats_track_guard_t* track);               /* fetches += 1 */
void moq_stats_broadcast_guard_fetch(const moq_stats_broadcast_guard_t* guard); /* fetches += 1 */

/* ------------------------------------------------------------------------ */
/* Announce guards: the record of one announcement of a broadcast in one
 * role (publisher: announced to a peer; subscriber: a peer's announcement
 * received). Opening counts announced += 1, closing announced_closed += 1,
 * exactly once, each adding the path's length in bytes to announced_bytes.
 * Counted by the node format only. */

/* Opens an announce guard of `role` on `broadcast` (a no-op guard on an
 * empty handle). NULL on error: MOQ_STATS_ERR_INVALID_ARGUMENT for NULL
 * `broadcast` or a role out of range, MOQ_STATS_ERR_OUT_OF_MEMORY. Close
 * with moq_stats_announce_guard_close. */
moq_stats_announce_guard_t* moq_stats_announce_guard_open(const moq_stats_broadcast_t* broadcast, int role, int* err);

/* Closes the guard (announced_closed += 1) and frees it. NULL is a no-op. */
void moq_stats_announce_guard_close(moq_stats_announce_guard_t* guard);

/* ------------------------------------------------------------------------ */
/* Session guards: the record of one MoQ session the relay accepted, for the
 * node format's `sessions.json` (auth root -> sessions, sessions_closed).
 * Opening counts sessions += 1, closing sessions_closed += 1, exactly once.
 * Sent only to a sidecar that says it understands session presence. */

/* Opens a session guard for `auth_root` (auth_root_len bytes; the path the
 * session's token scopes it to, "" for none) in the tier named `tier_label`
 * ("" for the default tier; as for moq_stats_broadcast_named). Takes the
 * library's lock: call it when a session starts. A disabled library or a
 * root the sidecar would refuse gives an empty guard (a success; test with
 * moq_stats_session_guard_empty). NULL on error:
 * MOQ_STATS_ERR_INVALID_ARGUMENT for NULL `stats`, an invalid label or a
 * NULL string with a non-zero length, MOQ_STATS_ERR_OUT_OF_MEMORY. Close
 * with moq_stats_session_guard_close. */
moq_stats_session_guard_t* moq_stats_session_guard_open(const moq_stats_t* stats, const char* tier_label,
                                                        size_t tier_label_len, const char* auth_root,
                                                        size_t auth_root_len, int* err);

/* 1 when `guard` counts nothing or is NULL, else 0. */
int moq_stats_session_guard_empty(const moq_stats_session_guard_t* guard);

/* Closes the guard (sessions_closed += 1) and frees it. NULL is a no-op. */
void moq_stats_session_guard_close(moq_stats_session_guard_t* guard);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOQ_STATS_MOQ_STATS_H_ */
