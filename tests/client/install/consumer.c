/* A relay in C that finds the installed library through pkg-config:
 *   cc consumer.c $(pkg-config --cflags --libs moqstats)
 * It links libmoqstats.so and uses the C ABI without a sidecar: a disabled
 * library, then one whose sidecar is not there (connecting never fails). */
#include <stdio.h>
#include <string.h>

#include "moq_stats/moq_stats.h"

int main(void) {
  int err = -1;
  moq_stats_counters_t counters = MOQ_STATS_COUNTERS_INIT;
  moq_stats_t* stats = moq_stats_connect("unix:/nonexistent/moq-stats.sock", 32, NULL, &err);
  moq_stats_broadcast_t* broadcast;
  moq_stats_track_guard_t* track;
  if (stats == NULL || err != MOQ_STATS_OK) {
    fprintf(stderr, "moq_stats_connect: %s\n", moq_stats_strerror(err));
    return 1;
  }
  broadcast = moq_stats_broadcast(stats, MOQ_STATS_TIER_EXTERNAL, "demo/bbb", 8, &err);
  track = moq_stats_broadcast_track(broadcast, MOQ_STATS_ROLE_PUBLISHER, "video", 5, &err);
  moq_stats_track_bytes(track, 1200);
  moq_stats_track_frame(track);
  if (moq_stats_counters(stats, &counters, NULL, 0) != MOQ_STATS_OK || counters.live_handles != 1) {
    fprintf(stderr, "moq_stats_counters: live_handles %llu, want 1\n", (unsigned long long)counters.live_handles);
    return 1;
  }
  moq_stats_track_guard_close(track);
  moq_stats_broadcast_destroy(broadcast);
  moq_stats_destroy(stats);
  if (strcmp(moq_stats_strerror(MOQ_STATS_ERR_INVALID_ARGUMENT), "invalid argument") != 0) return 1;
  printf("consumer: linked libmoqstats.so through pkg-config\n");
  return 0;
}
