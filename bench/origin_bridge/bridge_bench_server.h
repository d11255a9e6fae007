#ifndef MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SERVER_H_
#define MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SERVER_H_

// The publisher side of bridge_bench when built from the bridge's pieces
// rather than the OriginBridge: a WebSocketListener on 127.0.0.1, and for
// each client the same wiring MoqSession uses (Transport -> qmux::Connection
// server perspective -> lite::PublisherSession, a coalesced wake posting one
// Poll, outgoing records handed to the transport after every event), on one
// io_context thread of its own. The one difference: the bidirectional
// stream-count credit it grants is a parameter, so one client can hold more
// than 100 subscriptions.
//
// Also: the CPU clocks of single threads, for the measurements.
//
// Start/Stop from one thread; everything else runs on the io thread.

#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "origin/origin.h"
#include "origin_bridge/lite/publisher_session.h"

namespace moq_stats::bench {

struct ServerCounters {
  lite::PublisherCounters publisher;  // summed over sessions
  uint64_t wire_bytes_sent = 0;
  uint64_t polls = 0;       // Poll() calls from wakes
  uint64_t poll_ns = 0;     // io thread CPU inside Poll()
  uint64_t receive_ns = 0;  // time inside Connection::OnBytesReceived (incl. publisher events)
  uint64_t take_ns = 0;     // time inside Connection::TakeOutgoing
  uint64_t send_ns = 0;     // time inside Transport::Send
};

class BenchServer {
 public:
  // `origin` is borrowed and must outlive the server.
  static absl::StatusOr<std::unique_ptr<BenchServer>> Start(Origin* origin, uint64_t bidi_streams);
  ~BenchServer();
  BenchServer(const BenchServer&) = delete;
  BenchServer& operator=(const BenchServer&) = delete;

  uint16_t port() const;
  // The io thread's CPU clock.
  clockid_t thread_clock() const;
  // Read on the io thread (blocks until it answers, bounded by 5 s).
  ServerCounters counters();
  void Stop();

  struct Impl;

 private:
  explicit BenchServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// CPU time of a clock, in ns.
uint64_t ClockNs(clockid_t clock);
// CLOCK_MONOTONIC, in ns.
uint64_t MonotonicNs();
// This process's user + system CPU time (getrusage), in ns.
uint64_t ProcessCpuNs();
// The CPU clock of thread `tid` of this process (Linux).
clockid_t ThreadClockOfTid(int tid);
// Thread ids of this process now.
std::vector<int> ThreadIds();

}  // namespace moq_stats::bench

#endif  // MOQ_STATS_BENCH_ORIGIN_BRIDGE_BRIDGE_BENCH_SERVER_H_
