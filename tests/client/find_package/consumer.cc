// Counts with a disabled library: proves the headers and the link work.
#include "moq_stats/moq_stats.h"
#include "moq_stats/stats.h"

int main() {
  moq_stats::Stats stats = moq_stats::Stats::Disabled();
  moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast("anon/bbb");
  moq_stats::PublisherStats publisher = bs.publisher();
  moq_stats::PublisherTrack track = publisher.track("video");
  track.bytes(1200);
  return bs.empty() && stats.Shutdown(std::chrono::milliseconds(0)) ? 0 : 1;
}
