// A relay that goes away without Shutdown, for client_outage_integration_test: run
// as a child process (fork and exec, so that it starts with a gRPC of its
// own rather than a copy of the test's), it connects the client library to
// the sidecar, opens guards and bumps them, waits until the sidecar has
// acknowledged them, and then _exits with its guards still open and its
// session never closed.
//
//   abandoning_relay <target> <broadcast path>
//
// Exit status: 0 once a batch was acknowledged; 2 on bad arguments; 3 when
// no batch was acknowledged within 10 s.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "moq_stats/stats.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <target> <broadcast path>\n", argv[0]);
    return 2;
  }
  moq_stats::Options options;
  options.relay_name = "abandoning-relay";
  options.flush_interval = std::chrono::milliseconds(10);
  options.reconnect_min = std::chrono::milliseconds(20);
  options.reconnect_max = std::chrono::milliseconds(200);
  moq_stats::Stats stats = moq_stats::Stats::Connect(argv[1], options);

  moq_stats::BroadcastStats bs = stats.tier(moq_stats::Tier::kExternal).broadcast(argv[2]);
  moq_stats::PublisherStats publisher = bs.publisher();
  moq_stats::PublisherTrack video = publisher.track("video");
  moq_stats::PublisherTrack audio = publisher.track("audio");
  moq_stats::SubscriberStats subscriber = bs.subscriber();
  moq_stats::SubscriberTrack ingest = bs.subscriber_track("ingest");
  for (int i = 0; i < 1000; ++i) {
    video.bytes(1000);
    video.frame();
    audio.bytes(100);
    ingest.bytes(1100);
  }
  video.group();

  // Acknowledged: a batch, and then (after a few flush intervals, so that
  // every bump above was collected) everything in flight.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto wait_for = [&](auto done) {
    while (!done(stats.counters())) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "nothing acknowledged within 10 s: %s\n", stats.counters().last_error.c_str());
        std::fflush(stderr);
        _exit(3);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  wait_for([](const moq_stats::ClientCounters& c) { return c.batches_acked >= 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  wait_for([](const moq_stats::ClientCounters& c) { return c.connected && c.pending_batches == 0; });
  // Gone: no Shutdown, no destructor, the guards left open.
  _exit(0);
}
