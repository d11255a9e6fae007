// A short demonstration of the stats core: a simulated relay publishes two
// broadcasts for a moment while this program follows the stats broadcasts in
// the in-memory origin and prints every frame the tick publishers write.

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/scheduler.h"
#include "origin_bridge/origin.h"
#include "server/stats.h"

namespace moqstats {
namespace {

class FramePrinter {
 public:
  explicit FramePrinter(Origin* origin) : origin_(origin), announcements_(origin->Announced(Path(".stats"))) {}

  // Prints what arrived; returns the number of broadcasts still announced.
  size_t Drain() {
    while (auto a = announcements_->Next()) {
      std::printf("%s %s\n", a->active ? "announce  " : "unannounce", a->path.str().c_str());
      if (!a->active) continue;
      for (Tier tier : kTiers) {
        for (Role role : kRoles) {
          auto consumer = origin_->Subscribe(a->path, TrackName(tier, role));
          if (consumer.ok()) tracks_.push_back({a->path.str(), std::string(TrackName(tier, role)), std::move(*consumer)});
        }
      }
    }
    size_t live = 0;
    for (auto& t : tracks_) {
      while (auto g = t.consumer->Next()) {
        std::printf("  %s %s #%llu %s\n", t.path.c_str(), t.track.c_str(),
                    static_cast<unsigned long long>(g->sequence), g->frame->c_str());
      }
      if (!t.consumer->ended()) ++live;
    }
    return live;
  }

 private:
  struct Track {
    std::string path;
    std::string track;
    std::unique_ptr<TrackConsumer> consumer;
  };
  Origin* origin_;
  std::unique_ptr<AnnouncementConsumer> announcements_;
  std::vector<Track> tracks_;
};

int Main() {
  Origin origin;
  Scheduler scheduler;
  SchedulerThread thread(&scheduler, Clock::Real());
  StatsConfig config;
  config.levels = 2;
  config.node = "demo-node";
  config.interval = absl::Milliseconds(250);
  Stats stats = *Stats::Create(config, &origin, &scheduler, Clock::Real());
  FramePrinter printer(&origin);

  std::printf("moq-stats demo: levels=%u node=%s interval=250ms\n", config.levels, config.node.c_str());
  {
    BroadcastStats bbb = stats.tier(Tier::kExternal).broadcast("anon/bbb");
    BroadcastStats peer = stats.tier(Tier::kInternal).broadcast("anon/bbb");
    PublisherStats publisher = bbb.publisher();
    PublisherTrack video = publisher.track("video");
    SubscriberStats ingest = peer.subscriber();
    SubscriberTrack ingest_video = ingest.track("video");
    for (int i = 0; i < 8; ++i) {
      video.group();
      for (int f = 0; f < 30; ++f) {
        video.frame();
        video.bytes(1200);
        ingest_video.frame();
        ingest_video.bytes(1200);
      }
      absl::SleepFor(absl::Milliseconds(125));
      printer.Drain();
    }
  }
  // The guards are closed: the publishers write their final frames and stop.
  for (int i = 0; i < 40 && printer.Drain() > 0; ++i) absl::SleepFor(absl::Milliseconds(50));
  printer.Drain();
  std::printf("levels=%zu publishers running=%lld frames written=%llu\n", stats.level_count(),
              static_cast<long long>(stats.running_publishers()),
              static_cast<unsigned long long>(stats.frames_written()));
  return 0;
}

}  // namespace
}  // namespace moqstats

int main() {
  // Debian's Abseil is a debug build whose Mutex deadlock detector costs
  // more with every live mutex; tests keep it on, programs turn it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return moqstats::Main();
}
