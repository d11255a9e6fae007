// End to end: one relay process (this one) bumping through the relay-side
// library into the real moq-stats-sidecar daemon, started as a child process
// as ingest_bench does.
//
// Each case starts a fresh daemon (its defaults: levels 1, ticks every 1 s,
// checkpoints every 1 s), connects a library Stats to it, opens a publisher
// broadcast guard and a track guard on each of B broadcasts "r<i>/live" (so
// each broadcast has a level of its own besides the root), and lets N threads
// call TrackGuard::bytes(n) as fast as they can (or at a paced rate) for a
// fixed time, each thread round-robin over its own share of the broadcasts.
// Then it drops the guards, shuts the library down, and checks that the
// daemon's root level and every broadcast's level hold exactly what was
// bumped.
//
// Reported per case: bumps per second sustained (wall), the handle-deltas the
// library's flusher sent per second, and the daemon's CPU share over the
// bumping window, from /proc/<pid>/stat (utime + stime) over wall time.
//
// The library coalesces bumps: every flush interval it sends one delta per
// handle and role that changed, however many bumps that was. So the daemon's
// load follows the number of live handles and the flush interval, not the
// bump rate. The cases show that: 16 and 1024 broadcasts at full speed and at
// a paced 100k bumps/s (enough to change every handle in every 50 ms flush),
// 1024 broadcasts with a 250 ms flush interval, and 16384 broadcasts.
//
// /proc counts CPU time in clock ticks (10 ms at CLK_TCK 100): over a 5 s
// window the daemon's share is known to 0.2%.
//
//   e2e_bench [--threads=N] [--seconds=S]
//
// Exits 1 if any case is not exact.

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/tools/bench_daemon.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "moq_stats/stats.h"

extern char** environ;

namespace moq_stats {
namespace bench {
namespace {

namespace pb = ::moq::stats::v1;

struct Case {
  int broadcasts;
  double paced_rate;  // bumps per second over all threads; 0 = as fast as possible
  int flush_ms;
};

struct Result {
  bool ok = false;  // set up and ran
  uint64_t bumps = 0;
  double wall_seconds = 0;
  double daemon_cpu_seconds = 0;
  uint64_t deltas_sent = 0;   // by the flusher during the window
  uint64_t batches_sent = 0;  // by the flusher during the window
  bool flushed = false;       // Shutdown acknowledged everything
  bool exact = false;
  std::string mismatch;  // the first difference found, if any
};

std::string BroadcastPath(int i) { return absl::StrCat("r", i, "/live"); }
std::string LevelKey(int i) { return absl::StrCat("r", i); }

// Every level the daemon holds, by key.
bool ListAllLevels(pb::StatsService::Stub* stub, std::map<std::string, pb::Level>* out, std::string* error) {
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::ListLevelsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    pb::ListLevelsResponse response;
    grpc::Status status = stub->ListLevels(&context, request, &response);
    if (!status.ok()) {
      *error = absl::StrCat("ListLevels: ", status.error_message());
      return false;
    }
    for (const pb::Level& level : response.levels()) (*out)[level.key()] = level;
    token = response.next_page_token();
  } while (!token.empty());
  return true;
}

// Compares one level's external publisher counters with what was bumped.
bool Check(const std::map<std::string, pb::Level>& levels, const std::string& key, uint64_t guards, uint64_t bytes,
           std::string* mismatch) {
  auto it = levels.find(key);
  if (it == levels.end()) {
    *mismatch = absl::StrCat("level \"", key, "\" missing");
    return false;
  }
  const pb::Snapshot& s = it->second.external_publisher();
  const bool equal = s.broadcasts() == guards && s.broadcasts_closed() == guards && s.subscriptions() == guards &&
                     s.subscriptions_closed() == guards && s.bytes() == bytes && s.frames() == 0 && s.groups() == 0;
  if (!equal) {
    *mismatch = absl::StrCat("level \"", key, "\": expected ", guards, " guards opened and closed and ", bytes,
                             " bytes; daemon has broadcasts ", s.broadcasts(), "/", s.broadcasts_closed(),
                             " subscriptions ", s.subscriptions(), "/", s.subscriptions_closed(), " bytes ", s.bytes(),
                             " frames ", s.frames(), " groups ", s.groups());
  }
  return equal;
}

Result RunCase(const Case& c, int threads, double seconds) {
  Result result;
  bench::BenchDaemon daemon;
  if (!daemon.started()) {
    result.mismatch = "could not start the daemon";
    return result;
  }
  auto channel = grpc::CreateChannel(daemon.target(), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    result.mismatch = "the daemon did not come up";
    return result;
  }
  auto stub = pb::StatsService::NewStub(channel);

  moq_stats::Options options;
  options.relay_name = "e2e_bench";
  options.flush_interval = std::chrono::milliseconds(c.flush_ms);
  moq_stats::Stats stats = moq_stats::Stats::Connect(daemon.target(), options);

  // Guards: a broadcast guard and a track guard per broadcast.
  std::vector<moq_stats::PublisherStats> publishers;
  std::vector<moq_stats::PublisherTrack> tracks;
  publishers.reserve(static_cast<size_t>(c.broadcasts));
  tracks.reserve(static_cast<size_t>(c.broadcasts));
  moq_stats::StatsHandle external = stats.tier(moq_stats::Tier::kExternal);
  for (int i = 0; i < c.broadcasts; ++i) {
    // publisher_track rather than publishers.back().track(): the same
    // counts, but BroadcastGuard<R>::track leaves its `name` unused, which
    // -Wextra -Werror refuses when it is instantiated.
    moq_stats::BroadcastStats broadcast = external.broadcast(BroadcastPath(i));
    publishers.push_back(broadcast.publisher());
    tracks.push_back(broadcast.publisher_track("video"));
  }
  // Connected, and the defines sent and acknowledged, before the window.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    moq_stats::ClientCounters counters = stats.counters();
    if (counters.connected && counters.batches_acked > 0 && counters.pending_batches == 0) break;
    if (std::chrono::steady_clock::now() > until) {
      result.mismatch = "the library did not connect: " + counters.last_error;
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  // Thread t bumps the broadcasts i with i % threads == t, in order, by
  // 1000 + t bytes: its q-th bump (from 0) goes to its (q % m)-th broadcast.
  std::vector<std::vector<const moq_stats::PublisherTrack*>> mine(static_cast<size_t>(threads));
  for (int i = 0; i < c.broadcasts; ++i)
    mine[static_cast<size_t>(i % threads)].push_back(&tracks[static_cast<size_t>(i)]);
  std::vector<uint64_t> bumps(static_cast<size_t>(threads), 0);
  // Written once by main, read by the bump threads: only a flag, ordering
  // nothing (the joins order the results), so relaxed.
  std::atomic<bool> go{false}, stop{false};
  constexpr uint64_t kChunk = 1024;  // bumps between two looks at `stop`
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::vector<const moq_stats::PublisherTrack*>& own = mine[static_cast<size_t>(t)];
      const uint64_t n = 1000 + static_cast<uint64_t>(t);
      const size_t m = own.size();
      const double rate = c.paced_rate / threads;  // this thread's share
      while (!go.load(std::memory_order_relaxed)) std::this_thread::yield();
      const auto start = std::chrono::steady_clock::now();
      uint64_t k = 0;
      size_t j = 0;
      if (m == 0) return;
      while (!stop.load(std::memory_order_relaxed)) {
        for (uint64_t r = 0; r < kChunk; ++r) {
          own[j]->bytes(n);
          if (++j == m) j = 0;
        }
        k += kChunk;
        if (rate > 0) {
          std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                    std::chrono::duration<double>(static_cast<double>(k) / rate)));
        }
      }
      bumps[static_cast<size_t>(t)] = k;
    });
  }

  const moq_stats::ClientCounters before = stats.counters();
  const double cpu_before = daemon.CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_relaxed);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true, std::memory_order_relaxed);
  for (std::thread& w : workers) w.join();
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.daemon_cpu_seconds = daemon.CpuSeconds() - cpu_before;
  const moq_stats::ClientCounters after = stats.counters();
  result.deltas_sent = after.deltas_sent - before.deltas_sent;
  result.batches_sent = after.batches_sent - before.batches_sent;
  for (uint64_t b : bumps) result.bumps += b;

  // Close every guard, flush, close the session.
  tracks.clear();
  publishers.clear();
  result.flushed = stats.Shutdown(std::chrono::seconds(10));
  result.ok = true;

  // What the daemon must hold: per broadcast, one guard of each kind opened
  // and closed and the bytes of its bumps; the root, the sums.
  std::map<std::string, pb::Level> levels;
  if (!ListAllLevels(stub.get(), &levels, &result.mismatch)) return result;
  bool exact = result.flushed;
  if (!result.flushed) result.mismatch = "Shutdown did not get everything acknowledged";
  uint64_t total_bytes = 0;
  for (int t = 0; t < threads; ++t) {
    const size_t m = mine[static_cast<size_t>(t)].size();
    if (m == 0) continue;
    const uint64_t k = bumps[static_cast<size_t>(t)];
    const uint64_t n = 1000 + static_cast<uint64_t>(t);
    for (size_t idx = 0; idx < m; ++idx) {
      const int i = static_cast<int>(idx) * threads + t;  // the broadcast of thread t's idx-th slot
      const uint64_t count = k / m + (idx < k % m ? 1 : 0);
      total_bytes += count * n;
      std::string mismatch;
      if (!Check(levels, LevelKey(i), 1, count * n, &mismatch) && exact) {
        exact = false;
        result.mismatch = mismatch;
      }
    }
  }
  std::string mismatch;
  if (!Check(levels, "", static_cast<uint64_t>(c.broadcasts), total_bytes, &mismatch) && exact) {
    exact = false;
    result.mismatch = mismatch;
  }
  result.exact = exact;
  return result;
}

int Main(int argc, char** argv) {
  int threads = 2;
  double seconds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char* v = value("--threads=")) {
      threads = std::atoi(v);
    } else if (const char* v = value("--seconds=")) {
      seconds = std::atof(v);
    } else {
      std::fprintf(stderr, "usage: %s [--threads=N (1..64)] [--seconds=S (0.5..60)]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || threads > 64 || !(seconds >= 0.5 && seconds <= 60)) {
    std::fprintf(stderr, "--threads must be 1..64 and --seconds 0.5..60\n");
    return 2;
  }

  const Case cases[] = {
      {16, 0, 50}, {1024, 0, 50}, {16, 100'000, 50}, {1024, 100'000, 50}, {1024, 0, 250}, {16384, 0, 50},
  };
  std::printf(
      "e2e_bench: %d bump thread(s) in this relay process, %.1f s per case, %u cores; daemon on its "
      "defaults (levels 1, 1 s ticks, 1 s checkpoints)\n",
      threads, seconds, std::thread::hardware_concurrency());
  std::printf("%-10s %-7s %-6s %14s %11s %10s %11s %15s %10s %s\n", "broadcasts", "rate", "flush", "bumps/s",
              "deltas/s", "batches/s", "daemon CPU", "daemon us/delta", "< 1/4 core", "exact");
  bool all_exact = true;
  for (const Case& c : cases) {
    Result r = RunCase(c, threads, seconds);
    all_exact = all_exact && r.exact;
    const double share = r.wall_seconds > 0 ? r.daemon_cpu_seconds / r.wall_seconds : 0;
    const std::string rate = c.paced_rate > 0 ? absl::StrCat(static_cast<int64_t>(c.paced_rate / 1000), "k/s") : "max";
    std::printf("%-10d %-7s %-6s %14.0f %11.0f %10.1f %10.1f%% %15.2f %10s %s\n", c.broadcasts, rate.c_str(),
                absl::StrCat(c.flush_ms, "ms").c_str(), r.wall_seconds > 0 ? r.bumps / r.wall_seconds : 0,
                r.wall_seconds > 0 ? r.deltas_sent / r.wall_seconds : 0,
                r.wall_seconds > 0 ? r.batches_sent / r.wall_seconds : 0, share * 100,
                r.deltas_sent > 0 ? r.daemon_cpu_seconds * 1e6 / static_cast<double>(r.deltas_sent) : 0,
                share < 0.25 ? "yes" : "NO", r.exact ? "yes" : "no");
    if (!r.exact) std::printf("    not exact: %s\n", r.mismatch.c_str());
    std::fflush(stdout);
  }
  std::printf("exact: %s\n", all_exact ? "yes" : "no");
  return all_exact ? 0 : 1;
}

}  // namespace
}  // namespace bench
}  // namespace moq_stats

int main(int argc, char** argv) { return moq_stats::bench::Main(argc, argv); }
