// The relay side of the `moq-stats top` measurement (README, "moq-stats
// top"): one session holding N broadcasts "<i>/live" in the external tier,
// each with one publisher track (one viewer), sending frames of
// 1000 * (i % 100 + 1) bytes once a second, so that the sidecar holds N + 1
// levels (with --stats-levels=1) whose rates all move. Runs for the given
// seconds, then shuts the library down.
//
//   build/bench/top_feeder unix:PATH [levels=10000] [seconds=60]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
// stats.h leaves a parameter unnamed-but-unused, which -Wextra refuses.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "moq_stats/stats.h"
#pragma GCC diagnostic pop

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: top_feeder unix:PATH [levels] [seconds]\n");
    return 2;
  }
  const int levels = argc > 2 ? std::atoi(argv[2]) : 10000;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 60;
  moq_stats::Stats stats = moq_stats::Stats::Connect(argv[1]);
  moq_stats::StatsHandle external = stats.tier(moq_stats::Tier::kExternal);
  std::vector<moq_stats::PublisherStats> broadcasts;
  std::vector<moq_stats::PublisherTrack> tracks;
  broadcasts.reserve(levels);
  tracks.reserve(levels);
  for (int i = 0; i < levels; ++i) {
    moq_stats::BroadcastStats b = external.broadcast(std::to_string(i) + "/live");
    broadcasts.push_back(b.publisher());
    tracks.push_back(b.publisher_track("video"));
  }
  const absl::Time start = absl::Now();
  for (int s = 0; s < seconds; ++s) {
    for (int i = 0; i < levels; ++i) {
      tracks[i].bytes(1000 * (i % 100 + 1));
      tracks[i].frame();
    }
    absl::SleepFor(start + absl::Seconds(s + 1) - absl::Now());
  }
  tracks.clear();
  broadcasts.clear();
  return stats.Shutdown(std::chrono::seconds(5)) ? 0 : 1;
}
