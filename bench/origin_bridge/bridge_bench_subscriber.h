#ifndef MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SUBSCRIBER_H_
#define MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SUBSCRIBER_H_

// The subscriber process of bridge_bench: a MoQ client that dials the
// publisher over loopback WebSocket (AsyncDial, qmux::Connection client
// perspective), sends its lite-05 SETUP, asks for the announcements under
// the prefix, subscribes to every track of every level and counts the groups
// that arrive, checking each frame's payload names its level, track and
// group sequence.
//
// It runs on one io_context thread. Its main thread talks to the parent over
// stdin/stdout, one line each way:
//   "ready <subscribed> <announced>" once every SUBSCRIBE was answered (or
//   "fail <reason>"), then for each "q" read, one line of counters (see
//   SubscriberSnapshot), until "x" or end of input.

#include <cstdint>
#include <string>

namespace moq_stats::bench {

struct SubscriberArgs {
  uint16_t port = 0;
  uint32_t levels = 10000;
  uint32_t tracks = 4;
  uint32_t frame_size = 200;
  // Unidirectional stream-count credit we grant the publisher (one stream
  // per group).
  uint64_t uni_streams = 10000;
  // Connection-level data credit we grant (initial_max_data); 0 keeps the
  // QMux default (1 MiB).
  uint64_t max_data = 0;
  // Connections the subscriptions are spread over (the first also follows
  // the announcements).
  uint32_t connections = 1;
};

// What the subscriber reports on "q", as one line of space-separated numbers
// in this order.
struct SubscriberSnapshot {
  uint64_t groups = 0;         // complete groups received
  uint64_t bytes = 0;          // frame payload bytes received
  uint64_t bad = 0;            // groups whose payload did not match
  uint64_t skipped = 0;        // sequences jumped over (latest-wins)
  uint64_t cpu_ns = 0;         // this process's user+system CPU
  uint64_t last_group_ns = 0;  // CLOCK_MONOTONIC of the last group
  uint64_t closed = 0;         // connections that ended
};

// The payload the publisher writes for (level, track, sequence): it starts
// with {"l":<level>,"t":<track>,"s":<sequence>, and is padded to
// `frame_size` bytes (at least the prefix and a closing brace).
std::string BenchPayload(uint32_t level, uint32_t track, uint64_t sequence, uint32_t frame_size);

// Parses --subscriber's flags and runs the subscriber; returns the exit code.
int RunSubscriberProcess(const SubscriberArgs& args);

std::string FormatSnapshot(const SubscriberSnapshot& s);
bool ParseSnapshot(const std::string& line, SubscriberSnapshot* s);

}  // namespace moq_stats::bench

#endif  // MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SUBSCRIBER_H_
