/* The C ABI of moq_stats/moq_stats.h, driven from C (compiled as C11 with
 * -Wall -Wextra -Werror): every function, its error paths and a session with
 * the sidecar whose target is argv[1].
 *
 *   c_api_test unix:/path/to/sidecar.sock
 *
 * Exit status 0 when every check passed; otherwise each failed check is
 * printed and the status is 1 (2 for a bad command line). The counts bumped
 * on the sidecar are read back by c_api_integration_test.cc, which runs this
 * program against a real daemon: keep the two in step (see RunSession). */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "moq_stats/moq_stats.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* `code` is `want`, else prints both with their text. */
#define CHECK_CODE(code, want)                                                                 \
  do {                                                                                         \
    int got_ = (code);                                                                         \
    if (got_ != (want)) {                                                                      \
      fprintf(stderr, "%s:%d: %s is %d (%s), want %s (%s)\n", __FILE__, __LINE__, #code, got_, \
              moq_stats_strerror(got_), #want, moq_stats_strerror(want));                      \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

/* Stops here: what follows needs `cond`. */
#define REQUIRE(cond)                                                                   \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "%s:%d: required check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                         \
    }                                                                                   \
  } while (0)

/* A string literal as pointer and length. */
#define STR(s) (s), (sizeof(s) - 1)

static void SleepMs(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static int CheckErrors(void) {
  const int codes[] = {MOQ_STATS_OK, MOQ_STATS_ERR_INVALID_ARGUMENT, MOQ_STATS_ERR_OUT_OF_MEMORY,
                       MOQ_STATS_ERR_INTERNAL};
  size_t i, j;
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); ++i) {
    const char* text = moq_stats_strerror(codes[i]);
    CHECK(text != NULL && text[0] != '\0');
    for (j = 0; j < i; ++j) CHECK(strcmp(text, moq_stats_strerror(codes[j])) != 0);
  }
  CHECK(moq_stats_strerror(-1) != NULL && moq_stats_strerror(-1)[0] != '\0');
  CHECK(moq_stats_strerror(12345) != NULL && moq_stats_strerror(12345)[0] != '\0');
  return 0;
}

/* Every function given NULL handles, NULL strings with a length, a tier or
 * role out of range: an error code or a no-op, never a crash. */
static int CheckNullAndBadArguments(const moq_stats_t* stats) {
  int err = -1;
  moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
  char buffer[8];
  moq_stats_options_t* options;
  moq_stats_broadcast_t* broadcast;
  moq_stats_broadcast_t* empty;
  moq_stats_broadcast_guard_t* guard;

  /* Options. */
  CHECK_CODE(moq_stats_options_set_session_id(NULL, STR("x")), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_relay_name(NULL, STR("x")), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_prefix(NULL, STR("x")), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_flush_interval_ms(NULL, 10), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_max_batch_entries(NULL, 10), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_max_inflight(NULL, 10), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_reconnect_min_ms(NULL, 10), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_reconnect_max_ms(NULL, 10), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_auth_token_file(NULL, STR("x")), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_tls_files(NULL, STR("a"), STR("b"), STR("c")), MOQ_STATS_ERR_INVALID_ARGUMENT);
  moq_stats_options_destroy(NULL);

  options = moq_stats_options_create();
  REQUIRE(options != NULL);
  CHECK_CODE(moq_stats_options_set_session_id(options, NULL, 3), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_relay_name(options, NULL, 3), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_auth_token_file(options, NULL, 3), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_tls_files(options, NULL, 0, NULL, 2, NULL, 0), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_tls_files(options, NULL, 0, NULL, 0, NULL, 0), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_prefix(options, NULL, 3), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_session_id(options, NULL, 0), MOQ_STATS_OK); /* the empty string */

  /* Connect: no target, and options out of range. */
  err = -1;
  CHECK(moq_stats_connect(NULL, 5, NULL, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_connect("", 0, NULL, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(moq_stats_connect(NULL, 0, NULL, NULL) == NULL); /* err may be NULL */
  CHECK_CODE(moq_stats_options_set_flush_interval_ms(options, 0), MOQ_STATS_OK);
  err = -1;
  CHECK(moq_stats_connect(STR("unix:/nonexistent/s.sock"), options, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_flush_interval_ms(options, 10), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_min_ms(options, 500), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_max_ms(options, 100), MOQ_STATS_OK);
  err = -1;
  CHECK(moq_stats_connect(STR("unix:/nonexistent/s.sock"), options, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_options_set_reconnect_min_ms(options, 0), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_max_ms(options, 100), MOQ_STATS_OK);
  err = -1;
  CHECK(moq_stats_connect(STR("unix:/nonexistent/s.sock"), options, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  moq_stats_options_destroy(options);

  /* The library. */
  CHECK(moq_stats_enabled(NULL) == 0);
  err = -1;
  CHECK(moq_stats_shutdown(NULL, 10, &err) == 0);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(moq_stats_shutdown(NULL, 10, NULL) == 0);
  moq_stats_destroy(NULL);
  CHECK_CODE(moq_stats_counters(NULL, &counters, buffer, sizeof(buffer)), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_counters(stats, NULL, buffer, sizeof(buffer)), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK_CODE(moq_stats_counters(stats, &counters, NULL, sizeof(buffer)), MOQ_STATS_ERR_INVALID_ARGUMENT);
  /* struct_size not set, or too small for the first field: nothing written. */
  counters.struct_size = 0;
  counters.connected = 7;
  CHECK_CODE(moq_stats_counters(stats, &counters, buffer, sizeof(buffer)), MOQ_STATS_ERR_INVALID_ARGUMENT);
  counters.struct_size = sizeof(size_t) + 1;
  CHECK_CODE(moq_stats_counters(stats, &counters, buffer, sizeof(buffer)), MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(counters.connected == 7);
  counters.struct_size = sizeof(counters);

  /* Broadcast handles. */
  err = -1;
  CHECK(moq_stats_broadcast(NULL, MOQ_STATS_TIER_EXTERNAL, STR("a/b"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(moq_stats_broadcast(NULL, MOQ_STATS_TIER_EXTERNAL, STR("a/b"), NULL) == NULL);
  err = -1;
  CHECK(moq_stats_broadcast(stats, 2, STR("a/b"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast(stats, -1, STR("a/b"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, NULL, 3, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(moq_stats_broadcast_empty(NULL) == 1);
  moq_stats_broadcast_destroy(NULL);

  /* Broadcast guards. */
  err = -1;
  CHECK(moq_stats_broadcast_guard_open(NULL, MOQ_STATS_ROLE_PUBLISHER, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  broadcast = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR("capi/unused"), &err);
  REQUIRE(broadcast != NULL);
  err = -1;
  CHECK(moq_stats_broadcast_guard_open(broadcast, 2, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast_guard_open(broadcast, -1, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  CHECK(moq_stats_broadcast_guard_role(NULL) == -1);
  moq_stats_broadcast_guard_close(NULL);

  /* Track guards. */
  err = -1;
  CHECK(moq_stats_broadcast_guard_track(NULL, STR("video"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast_track(NULL, MOQ_STATS_ROLE_PUBLISHER, STR("video"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast_track(broadcast, 7, STR("video"), &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_broadcast_track(broadcast, MOQ_STATS_ROLE_SUBSCRIBER, NULL, 5, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  /* A NULL name with a length on a real guard: one on an empty handle, so
   * that the guard counts nothing. (Had any failed call above opened a
   * guard, the sidecar would count it: the integration test checks that the
   * totals are exactly those of RunSession.) */
  empty = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR(".stats/capi"), &err);
  REQUIRE(empty != NULL && moq_stats_broadcast_empty(empty) == 1);
  guard = moq_stats_broadcast_guard_open(empty, MOQ_STATS_ROLE_SUBSCRIBER, &err);
  REQUIRE(guard != NULL);
  err = -1;
  CHECK(moq_stats_broadcast_guard_track(guard, NULL, 5, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  moq_stats_broadcast_guard_close(guard);
  moq_stats_broadcast_destroy(empty);
  CHECK(moq_stats_track_guard_role(NULL) == -1);
  moq_stats_track_guard_close(NULL);
  moq_stats_track_frame(NULL);
  moq_stats_track_bytes(NULL, 100);
  moq_stats_track_group(NULL);
  moq_stats_track_datagram(NULL);
  moq_stats_track_fetch(NULL);
  moq_stats_broadcast_guard_fetch(NULL);
  err = -1;
  CHECK(moq_stats_announce_guard_open(NULL, MOQ_STATS_ROLE_PUBLISHER, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  err = -1;
  CHECK(moq_stats_announce_guard_open(broadcast, 7, &err) == NULL);
  CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
  moq_stats_announce_guard_close(NULL);
  moq_stats_broadcast_destroy(broadcast);
  return 0;
}

/* A disabled library: everything succeeds and counts nothing. */
static int CheckDisabled(void) {
  int err = -1;
  moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
  char buffer[16] = "unchanged";
  moq_stats_t* stats = moq_stats_disabled();
  moq_stats_broadcast_t* broadcast;
  moq_stats_broadcast_guard_t* guard;
  moq_stats_track_guard_t* track;
  moq_stats_track_guard_t* direct;

  REQUIRE(stats != NULL);
  CHECK(moq_stats_enabled(stats) == 0);
  broadcast = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR("capi/disabled"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(broadcast != NULL);
  CHECK(moq_stats_broadcast_empty(broadcast) == 1);
  err = -1;
  guard = moq_stats_broadcast_guard_open(broadcast, MOQ_STATS_ROLE_PUBLISHER, &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(guard != NULL);
  err = -1;
  track = moq_stats_broadcast_guard_track(guard, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(track != NULL);
  err = -1;
  direct = moq_stats_broadcast_track(broadcast, MOQ_STATS_ROLE_SUBSCRIBER, STR("audio"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(direct != NULL);
  moq_stats_track_frame(track);
  moq_stats_track_bytes(track, 100);
  moq_stats_track_group(track);
  moq_stats_track_frame(direct);
  moq_stats_track_datagram(direct);
  moq_stats_track_fetch(direct);
  moq_stats_broadcast_guard_fetch(guard);
  {
    moq_stats_announce_guard_t* announce = moq_stats_announce_guard_open(broadcast, MOQ_STATS_ROLE_PUBLISHER, &err);
    CHECK_CODE(err, MOQ_STATS_OK);
    CHECK(announce != NULL);
    moq_stats_announce_guard_close(announce);
  }
  moq_stats_track_guard_close(direct);
  moq_stats_track_guard_close(track);
  moq_stats_broadcast_guard_close(guard);
  moq_stats_broadcast_destroy(broadcast);

  memset(&counters, 0xff, sizeof(counters));

  counters.struct_size = sizeof(counters);
  CHECK_CODE(moq_stats_counters(stats, &counters, buffer, sizeof(buffer)), MOQ_STATS_OK);
  CHECK(counters.connected == 0);
  CHECK(counters.batches_sent == 0);
  CHECK(counters.batches_acked == 0);
  CHECK(counters.deltas_sent == 0);
  CHECK(counters.reconnects == 0);
  CHECK(counters.resyncs == 0);
  CHECK(counters.live_handles == 0);
  CHECK(counters.pending_batches == 0);
  CHECK(counters.last_error_len == 0);
  CHECK(buffer[0] == '\0');

  err = -1;
  CHECK(moq_stats_shutdown(stats, 100, &err) == 1);
  CHECK_CODE(err, MOQ_STATS_OK);
  moq_stats_destroy(stats);
  return 0;
}

/* A sidecar that is not there: connecting succeeds, the stream error shows
 * in the counters, shutdown gives up at its deadline. Handles outlive the
 * library. */
static int CheckUnreachable(void) {
  int err = -1;
  int i;
  moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
  char full[512];
  char small[4];
  size_t cut;
  moq_stats_options_t* options = moq_stats_options_create();
  moq_stats_t* stats;
  moq_stats_broadcast_t* broadcast;
  moq_stats_track_guard_t* track;

  REQUIRE(options != NULL);
  CHECK_CODE(moq_stats_options_set_flush_interval_ms(options, 5), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_min_ms(options, 5), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_max_ms(options, 20), MOQ_STATS_OK);
  stats = moq_stats_connect(STR("unix:/nonexistent-moq-stats-dir/s.sock"), options, &err);
  moq_stats_options_destroy(options); /* copied by connect */
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(stats != NULL);
  CHECK(moq_stats_enabled(stats) == 1);

  /* Up to 10 s for the first stream to fail. */
  memset(&counters, 0, sizeof(counters));
  counters.struct_size = sizeof(counters);
  for (i = 0; i < 1000; ++i) {
    CHECK_CODE(moq_stats_counters(stats, &counters, NULL, 0), MOQ_STATS_OK);
    if (counters.last_error_len > 0) break;
    SleepMs(10);
  }
  REQUIRE(counters.last_error_len > 0);
  CHECK(counters.connected == 0);

  /* The whole text, then cut to 3 bytes and a NUL (the error can only grow
   * in between: each stream failure writes the same text). */
  CHECK_CODE(moq_stats_counters(stats, &counters, full, sizeof(full)), MOQ_STATS_OK);
  CHECK(counters.last_error_len < sizeof(full));
  CHECK(strlen(full) == counters.last_error_len);
  CHECK(strstr(full, "nonexistent-moq-stats-dir") != NULL);
  memset(small, 'x', sizeof(small));
  CHECK_CODE(moq_stats_counters(stats, &counters, small, sizeof(small)), MOQ_STATS_OK);
  cut = counters.last_error_len < sizeof(small) - 1 ? counters.last_error_len : sizeof(small) - 1;
  CHECK(small[cut] == '\0');
  CHECK(strncmp(small, full, cut) == 0);

  broadcast = moq_stats_broadcast(stats, MOQ_STATS_TIER_INTERNAL, STR("capi/unreachable"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(broadcast != NULL);
  CHECK(moq_stats_broadcast_empty(broadcast) == 0);
  track = moq_stats_broadcast_track(broadcast, MOQ_STATS_ROLE_PUBLISHER, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(track != NULL);
  moq_stats_track_frame(track);

  err = -1;
  CHECK(moq_stats_shutdown(stats, 50, &err) == 0); /* nothing acknowledged */
  CHECK_CODE(err, MOQ_STATS_OK);
  moq_stats_destroy(stats);

  /* The library is gone; its handles are still safe. */
  moq_stats_track_frame(track);
  moq_stats_track_bytes(track, 10);
  moq_stats_track_group(track);
  CHECK(moq_stats_track_guard_role(track) == MOQ_STATS_ROLE_PUBLISHER);
  moq_stats_track_guard_close(track);
  moq_stats_broadcast_destroy(broadcast);
  return 0;
}

/* moq_stats_counters_t as a caller built against an older header would have
 * it: the first fields only. */
typedef struct {
  size_t struct_size;
  int connected;
  uint64_t batches_sent;
  uint64_t batches_acked;
} OlderCounters;

/* The size rule of moq_stats_counters_t, on a shut-down library whose
 * counters no longer change (`expected` read from it): an older caller's
 * smaller struct gets its fields and not a byte past them; a newer caller's
 * fields unknown to the library keep what the caller put there. */
static int CheckOlderAndNewerCallers(const moq_stats_t* stats, const moq_stats_counters_t* expected) {
  struct {
    OlderCounters counters;
    unsigned char after[sizeof(moq_stats_counters_t)];
  } older;
  struct {
    moq_stats_counters_t counters;
    uint64_t added_later;
  } newer;
  size_t i;
  int untouched = 1;

  memset(&older, 0xab, sizeof(older));
  older.counters.struct_size = sizeof(OlderCounters);
  CHECK_CODE(moq_stats_counters(stats, (moq_stats_counters_t*)&older, NULL, 0), MOQ_STATS_OK);
  CHECK(older.counters.struct_size == sizeof(OlderCounters));
  CHECK(older.counters.connected == expected->connected);
  CHECK(older.counters.batches_sent == expected->batches_sent);
  CHECK(older.counters.batches_acked == expected->batches_acked);
  for (i = 0; i < sizeof(older.after); ++i) untouched = untouched && older.after[i] == 0xab;
  CHECK(untouched);

  memset(&newer, 0xcd, sizeof(newer));
  newer.counters.struct_size = sizeof(newer);
  CHECK_CODE(moq_stats_counters(stats, &newer.counters, NULL, 0), MOQ_STATS_OK);
  CHECK(newer.counters.struct_size == sizeof(newer));
  CHECK(newer.counters.batches_acked == expected->batches_acked);
  CHECK(newer.counters.deltas_sent == expected->deltas_sent);
  CHECK(newer.counters.last_error_len == expected->last_error_len);
  CHECK(newer.added_later == UINT64_C(0xcdcdcdcdcdcdcdcd));
  return 0;
}

/* Bumps `frames` frames of `bytes_per_frame` bytes and `groups` groups. */
static void Bump(const moq_stats_track_guard_t* track, int frames, uint64_t bytes_per_frame, int groups) {
  int i;
  for (i = 0; i < frames; ++i) {
    moq_stats_track_frame(track);
    moq_stats_track_bytes(track, bytes_per_frame);
  }
  for (i = 0; i < groups; ++i) moq_stats_track_group(track);
}

/* The session whose counts c_api_integration_test.cc reads back. On the
 * sidecar, exactly (every level of capi/live/cam1, nothing elsewhere):
 *   external publisher   broadcasts 1/1  subscriptions 1/1  frames 1000  bytes 100000  groups 10
 *   external subscriber  broadcasts 0/0  subscriptions 1/1  frames 300   bytes 15000   groups 3
 *   internal subscriber  broadcasts 1/1  subscriptions 2/2  frames 20    bytes 400     groups 2
 *   internal publisher   nothing
 * and the counters only the node format publishes:
 *   external publisher   announced 1/1 (announced_bytes 2 x 14), fetches 3, datagrams 5
 *   internal subscriber  announced 2/2 (announced_bytes 4 x 14), fetches 1
 * The bumps on the paths under the prefix and on an invalid path count
 * nowhere in the levels, nor do the named tier `edge` and the session
 * guards (the node format's alone). */
static int RunSession(const char* target) {
  int err = -1;
  int i;
  moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
  char last_error[256];
  moq_stats_options_t* options = moq_stats_options_create();
  moq_stats_t* stats;
  moq_stats_broadcast_t* external;
  moq_stats_broadcast_t* internal;
  moq_stats_broadcast_t* under_prefix;
  moq_stats_broadcast_t* invalid;
  moq_stats_broadcast_guard_t* publisher;
  moq_stats_broadcast_guard_t* subscriber;
  moq_stats_broadcast_guard_t* nowhere_guard;
  moq_stats_track_guard_t* video;
  moq_stats_track_guard_t* watcher;
  moq_stats_track_guard_t* peer_audio;
  moq_stats_track_guard_t* peer_video;
  moq_stats_track_guard_t* nowhere_track;
  moq_stats_track_guard_t* invalid_track;

  REQUIRE(options != NULL);
  CHECK_CODE(moq_stats_options_set_session_id(options, STR("c-api-test")), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_relay_name(options, STR("c_api_test")), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_prefix(options, STR(".stats")), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_flush_interval_ms(options, 10), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_max_batch_entries(options, 64), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_max_inflight(options, 4), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_min_ms(options, 10), MOQ_STATS_OK);
  CHECK_CODE(moq_stats_options_set_reconnect_max_ms(options, 200), MOQ_STATS_OK);
  stats = moq_stats_connect(target, strlen(target), options, &err);
  moq_stats_options_destroy(options);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(stats != NULL);
  CHECK(moq_stats_enabled(stats) == 1);

  if (CheckNullAndBadArguments(stats) != 0) return 1;

  /* One path in both tiers (the second spelled to be normalised), a path
   * under the prefix and one the sidecar would refuse (not UTF-8). */
  external = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR("capi/live/cam1"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  internal = moq_stats_broadcast(stats, MOQ_STATS_TIER_INTERNAL, STR("//capi//live/cam1/"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  under_prefix = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR(".stats/capi/live"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  invalid = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR("capi/\xff\xfe"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(external != NULL && internal != NULL && under_prefix != NULL && invalid != NULL);
  CHECK(moq_stats_broadcast_empty(external) == 0);
  CHECK(moq_stats_broadcast_empty(internal) == 0);
  CHECK(moq_stats_broadcast_empty(under_prefix) == 1);
  CHECK(moq_stats_broadcast_empty(invalid) == 1);

  /* Up to 10 s for the stream to be welcomed. */
  memset(&counters, 0, sizeof(counters));
  counters.struct_size = sizeof(counters);
  for (i = 0; i < 1000; ++i) {
    CHECK_CODE(moq_stats_counters(stats, &counters, last_error, sizeof(last_error)), MOQ_STATS_OK);
    if (counters.connected) break;
    SleepMs(10);
  }
  if (!counters.connected) fprintf(stderr, "not connected to %s; last error: %s\n", target, last_error);
  REQUIRE(counters.connected == 1);
  /* The two non-empty handles, and capi/unused from CheckNullAndBadArguments
   * unless the flusher released it already. */
  CHECK(counters.live_handles >= 2 && counters.live_handles <= 3);

  /* External: a publisher broadcast guard and a track under it; a
   * subscriber track straight from the handle. */
  publisher = moq_stats_broadcast_guard_open(external, MOQ_STATS_ROLE_PUBLISHER, &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(publisher != NULL);
  CHECK(moq_stats_broadcast_guard_role(publisher) == MOQ_STATS_ROLE_PUBLISHER);
  video = moq_stats_broadcast_guard_track(publisher, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(video != NULL);
  CHECK(moq_stats_track_guard_role(video) == MOQ_STATS_ROLE_PUBLISHER);
  watcher = moq_stats_broadcast_track(external, MOQ_STATS_ROLE_SUBSCRIBER, NULL, 0, &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(watcher != NULL);
  CHECK(moq_stats_track_guard_role(watcher) == MOQ_STATS_ROLE_SUBSCRIBER);

  /* Internal: a subscriber broadcast guard with two tracks. */
  subscriber = moq_stats_broadcast_guard_open(internal, MOQ_STATS_ROLE_SUBSCRIBER, &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(subscriber != NULL);
  CHECK(moq_stats_broadcast_guard_role(subscriber) == MOQ_STATS_ROLE_SUBSCRIBER);
  peer_audio = moq_stats_broadcast_guard_track(subscriber, STR("audio"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  peer_video = moq_stats_broadcast_guard_track(subscriber, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(peer_audio != NULL && peer_video != NULL);
  CHECK(moq_stats_track_guard_role(peer_audio) == MOQ_STATS_ROLE_SUBSCRIBER);

  /* Empty handles give working no-op guards. */
  nowhere_guard = moq_stats_broadcast_guard_open(under_prefix, MOQ_STATS_ROLE_PUBLISHER, &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(nowhere_guard != NULL);
  nowhere_track = moq_stats_broadcast_guard_track(nowhere_guard, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  invalid_track = moq_stats_broadcast_track(invalid, MOQ_STATS_ROLE_SUBSCRIBER, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  REQUIRE(nowhere_track != NULL && invalid_track != NULL);

  Bump(video, 1000, 100, 10);
  Bump(watcher, 300, 50, 3);
  Bump(peer_audio, 10, 20, 1);
  Bump(peer_video, 10, 20, 1);
  Bump(nowhere_track, 77, 7, 7);
  Bump(invalid_track, 77, 7, 7);
  {
    /* Announcements are guards of their own; fetches and datagrams sums. */
    moq_stats_announce_guard_t* announced = moq_stats_announce_guard_open(external, MOQ_STATS_ROLE_PUBLISHER, &err);
    moq_stats_announce_guard_t* peer_first = moq_stats_announce_guard_open(internal, MOQ_STATS_ROLE_SUBSCRIBER, &err);
    moq_stats_announce_guard_t* peer_second = moq_stats_announce_guard_open(internal, MOQ_STATS_ROLE_SUBSCRIBER, &err);
    moq_stats_announce_guard_t* nowhere = moq_stats_announce_guard_open(under_prefix, MOQ_STATS_ROLE_PUBLISHER, &err);
    CHECK_CODE(err, MOQ_STATS_OK);
    REQUIRE(announced != NULL && peer_first != NULL && peer_second != NULL && nowhere != NULL);
    for (i = 0; i < 5; ++i) moq_stats_track_datagram(video);
    moq_stats_track_fetch(video);
    moq_stats_track_fetch(video);
    moq_stats_broadcast_guard_fetch(publisher);
    moq_stats_broadcast_guard_fetch(subscriber);
    moq_stats_track_fetch(nowhere_track);
    moq_stats_announce_guard_close(nowhere);
    moq_stats_announce_guard_close(peer_second);
    moq_stats_announce_guard_close(peer_first);
    moq_stats_announce_guard_close(announced);
  }

  {
    /* Session presence and a named tier: the node format counts them, the
     * levels read back (listed above) do not. The sidecar acknowledging
     * everything at shutdown says it accepted them. */
    moq_stats_broadcast_t* edge = moq_stats_broadcast_named(stats, STR("edge"), STR("capi/live/cam1"), &err);
    moq_stats_track_guard_t* edge_track;
    moq_stats_session_guard_t* session;
    moq_stats_session_guard_t* edge_session;
    CHECK_CODE(err, MOQ_STATS_OK);
    REQUIRE(edge != NULL);
    CHECK(moq_stats_broadcast_empty(edge) == 0);
    edge_track = moq_stats_broadcast_track(edge, MOQ_STATS_ROLE_PUBLISHER, STR("video"), &err);
    CHECK_CODE(err, MOQ_STATS_OK);
    REQUIRE(edge_track != NULL);
    Bump(edge_track, 5, 5, 5);
    session = moq_stats_session_guard_open(stats, STR(""), STR("capi"), &err);
    CHECK_CODE(err, MOQ_STATS_OK);
    edge_session = moq_stats_session_guard_open(stats, STR("edge"), STR(""), &err);
    CHECK_CODE(err, MOQ_STATS_OK);
    REQUIRE(session != NULL && edge_session != NULL);
    CHECK(moq_stats_session_guard_empty(session) == 0);
    CHECK(moq_stats_session_guard_empty(edge_session) == 0);
    /* Bad arguments: a label that is not one path segment, no library. */
    CHECK(moq_stats_broadcast_named(stats, STR("a/b"), STR("capi/x"), &err) == NULL);
    CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
    CHECK(moq_stats_session_guard_open(stats, STR(".."), STR("capi"), &err) == NULL);
    CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
    CHECK(moq_stats_session_guard_open(NULL, STR(""), STR("capi"), &err) == NULL);
    CHECK_CODE(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
    CHECK(moq_stats_session_guard_empty(NULL) == 1);
    moq_stats_session_guard_close(NULL);
    moq_stats_session_guard_close(edge_session);
    moq_stats_session_guard_close(session);
    moq_stats_track_guard_close(edge_track);
    moq_stats_broadcast_destroy(edge);
  }

  /* The broadcast handles go first: the guards keep what they count. */
  moq_stats_broadcast_destroy(external);
  moq_stats_broadcast_destroy(internal);
  moq_stats_broadcast_destroy(under_prefix);
  moq_stats_broadcast_destroy(invalid);
  moq_stats_track_guard_close(video);
  moq_stats_broadcast_guard_close(publisher);
  moq_stats_track_guard_close(watcher);
  moq_stats_track_guard_close(peer_audio);
  moq_stats_track_guard_close(peer_video);
  moq_stats_broadcast_guard_close(subscriber);
  moq_stats_track_guard_close(nowhere_track);
  moq_stats_broadcast_guard_close(nowhere_guard);
  moq_stats_track_guard_close(invalid_track);

  err = -1;
  CHECK(moq_stats_shutdown(stats, 10000, &err) == 1);
  CHECK_CODE(err, MOQ_STATS_OK);
  CHECK_CODE(moq_stats_counters(stats, &counters, last_error, sizeof(last_error)), MOQ_STATS_OK);
  CHECK(counters.pending_batches == 0);
  CHECK(counters.batches_acked >= 1);
  CHECK(counters.batches_sent >= counters.batches_acked);
  CHECK(counters.deltas_sent >= 3); /* at least one per (handle, role) bumped: 3 */
  CHECK(counters.reconnects == 0);
  CHECK(counters.resyncs == 0);
  if (counters.last_error_len != 0) fprintf(stderr, "unexpected stream error: %s\n", last_error);
  CHECK(counters.last_error_len == 0);
  if (CheckOlderAndNewerCallers(stats, &counters) != 0) return 1;

  /* Once shut down: nothing more to acknowledge, and bumps stay safe. */
  err = -1;
  CHECK(moq_stats_shutdown(stats, 100, &err) == 0);
  CHECK_CODE(err, MOQ_STATS_OK);
  external = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, STR("capi/after"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  video = moq_stats_broadcast_track(external, MOQ_STATS_ROLE_PUBLISHER, STR("video"), &err);
  CHECK_CODE(err, MOQ_STATS_OK);
  moq_stats_track_frame(video);
  moq_stats_track_guard_close(video);
  moq_stats_broadcast_destroy(external);

  moq_stats_destroy(stats);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <sidecar target, e.g. unix:/path/s.sock>\n", argc > 0 ? argv[0] : "c_api_test");
    return 2;
  }
  if (CheckErrors() != 0 || CheckDisabled() != 0 || CheckUnreachable() != 0 || RunSession(argv[1]) != 0) {
    fprintf(stderr, "c_api_test: stopped at a required check (%d checks failed before)\n", failures);
    return 1;
  }
  if (failures != 0) {
    fprintf(stderr, "c_api_test: %d checks failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
