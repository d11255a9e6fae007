/* A relay that counts through the C ABI (moq_stats.h), for the fault suite:
 * run as a child process, it holds guards on a few broadcasts under
 * <segment>/ (external tier), bumps them and now and then closes and reopens
 * a track or a broadcast guard, keeping its own exact ledger of every bump,
 * until its stdin says "stop" (or closes). It then closes its guards, shuts
 * the library down (waiting for the sidecar to acknowledge everything) and
 * prints its ledger on stdout, one line per role:
 *
 *   ledger <role> <broadcasts> <broadcasts_closed> <subscriptions>
 *          <subscriptions_closed> <bytes> <frames> <groups>
 *   acknowledged <0|1>
 *
 *   fault_c_relay <target> <segment> <seed> [session id]
 *
 * Exit status: 0 when everything was acknowledged; 1 when the shutdown timed
 * out; 2 on bad arguments or a library error. The test may instead SIGKILL
 * it at any moment (a relay that crashes). */

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moq_stats/moq_stats.h"

enum { kBroadcasts = 3, kFields = 7 };
enum { kB, kBc, kS, kSc, kBytes, kFrames, kGroups };

static uint64_t ledger[2][kFields]; /* [role][field] */

static uint64_t next_random(uint64_t* state) {
  /* xorshift64* */
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 2685821657736338717ull;
}

static void die(const char* what, int err) {
  fprintf(stderr, "fault_c_relay: %s: %s\n", what, moq_stats_strerror(err));
  exit(2);
}

/* Whether the test asked to stop: stdin readable (a line or its end). */
static int stop_requested(void) {
  struct pollfd p = {STDIN_FILENO, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s <target> <segment> <seed> [session id]\n", argv[0]);
    return 2;
  }
  uint64_t rng = strtoull(argv[3], NULL, 10) | 1u;
  int err = 0;
  moq_stats_options_t* options = moq_stats_options_create();
  if (options == NULL) die("options", MOQ_STATS_ERR_INVALID_ARGUMENT);
  moq_stats_options_set_relay_name(options, "fault-c-relay", strlen("fault-c-relay"));
  moq_stats_options_set_flush_interval_ms(options, 10);
  moq_stats_options_set_reconnect_min_ms(options, 20);
  moq_stats_options_set_reconnect_max_ms(options, 200);
  if (argc == 5) moq_stats_options_set_session_id(options, argv[4], strlen(argv[4]));
  moq_stats_t* stats = moq_stats_connect(argv[1], strlen(argv[1]), options, &err);
  moq_stats_options_destroy(options);
  if (stats == NULL) die("connect", err);

  moq_stats_broadcast_t* bs[kBroadcasts];
  moq_stats_broadcast_guard_t* pub[kBroadcasts];
  moq_stats_track_guard_t* track[kBroadcasts];
  moq_stats_track_guard_t* ingest[kBroadcasts];
  for (int b = 0; b < kBroadcasts; ++b) {
    char path[256];
    snprintf(path, sizeof path, "%s/c%d", argv[2], b);
    bs[b] = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, path, strlen(path), &err);
    if (bs[b] == NULL) die("broadcast", err);
    pub[b] = moq_stats_broadcast_guard_open(bs[b], MOQ_STATS_ROLE_PUBLISHER, &err);
    if (pub[b] == NULL) die("guard", err);
    ledger[0][kB]++;
    track[b] = moq_stats_broadcast_guard_track(pub[b], "video", 5, &err);
    if (track[b] == NULL) die("track", err);
    ledger[0][kS]++;
    ingest[b] = moq_stats_broadcast_track(bs[b], MOQ_STATS_ROLE_SUBSCRIBER, "ingest", 6, &err);
    if (ingest[b] == NULL) die("ingest", err);
    ledger[1][kS]++;
  }

  const struct timespec pause = {0, 1000000}; /* 1 ms between rounds */
  for (uint64_t round = 0; round < 100000000u && !stop_requested(); ++round) {
    for (int b = 0; b < kBroadcasts; ++b) {
      const uint64_t r = next_random(&rng);
      const uint64_t n = 1 + (r % 1500);
      moq_stats_track_bytes(track[b], n);
      ledger[0][kBytes] += n;
      moq_stats_track_frame(track[b]);
      ledger[0][kFrames]++;
      if (r % 30 == 0) {
        moq_stats_track_group(track[b]);
        ledger[0][kGroups]++;
      }
      moq_stats_track_bytes(ingest[b], 7);
      ledger[1][kBytes] += 7;
      if (r % 97 == 0) { /* a subscription ends and another starts */
        moq_stats_track_guard_close(track[b]);
        ledger[0][kSc]++;
        track[b] = moq_stats_broadcast_guard_track(pub[b], "video", 5, &err);
        if (track[b] == NULL) die("track", err);
        ledger[0][kS]++;
      }
      if (r % 499 == 0) { /* the broadcast guard is replaced, its track with it */
        moq_stats_track_guard_close(track[b]);
        ledger[0][kSc]++;
        moq_stats_broadcast_guard_close(pub[b]);
        ledger[0][kBc]++;
        pub[b] = moq_stats_broadcast_guard_open(bs[b], MOQ_STATS_ROLE_PUBLISHER, &err);
        if (pub[b] == NULL) die("guard", err);
        ledger[0][kB]++;
        track[b] = moq_stats_broadcast_guard_track(pub[b], "video", 5, &err);
        if (track[b] == NULL) die("track", err);
        ledger[0][kS]++;
      }
    }
    nanosleep(&pause, NULL);
  }

  for (int b = 0; b < kBroadcasts; ++b) {
    moq_stats_track_guard_close(ingest[b]);
    ledger[1][kSc]++;
    moq_stats_track_guard_close(track[b]);
    ledger[0][kSc]++;
    moq_stats_broadcast_guard_close(pub[b]);
    ledger[0][kBc]++;
    moq_stats_broadcast_destroy(bs[b]);
  }
  const int acknowledged = moq_stats_shutdown(stats, 10000, &err);
  moq_stats_destroy(stats);
  for (int role = 0; role < 2; ++role) {
    printf("ledger %d", role);
    for (int f = 0; f < kFields; ++f) printf(" %llu", (unsigned long long)ledger[role][f]);
    printf("\n");
  }
  printf("acknowledged %d\n", acknowledged == 1);
  fflush(stdout);
  return acknowledged == 1 ? 0 : 1;
}
