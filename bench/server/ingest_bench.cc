// Streams batches of handle-deltas into the real moq-stats-sidecar daemon over
// its unix socket and reports how many it applies per second of wall time and
// per second of the daemon's own CPU time, for 1 and for 50 sessions sending
// the same total: first with the same number of handles in all (1024), then
// with 1024 handles in each of the 50 sessions, which shows what a larger
// working set of handles costs. Every count is checked against the daemon's
// root level at the end, so a figure is only printed for deltas that were
// really applied.
//
//   ingest_bench [--batches=N] [--batch=256] [--window=32]
//
// The daemon's CPU time comes from /proc/<pid>/stat (user + system).

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/tools/bench_daemon.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats::server {
namespace {

namespace pb = ::moq::stats::v1;

struct Options {
  int total_batches = 20000;  // over all sessions
  int batch = 256;            // deltas per batch
  int window = 32;            // batches in flight per session
};

// One relay session: defines its handles, then sends batches with a window
// of unacknowledged ones.
class Relay {
 public:
  Relay(pb::StatsService::Stub* stub, int index, int handles, const Options& options)
      : options_(options), handles_(handles) {
    stream_ = stub->Session(&context_);
    pb::SessionRequest open;
    open.mutable_open()->set_session_id(absl::StrCat("bench-", index));
    stream_->Write(open);
    pb::SessionResponse response;
    stream_->Read(&response);  // welcome
    pb::SessionRequest define;
    pb::Batch* batch = define.mutable_batch();
    batch->set_sequence(++sequence_);
    for (int h = 0; h < handles; ++h) {
      pb::Define* d = batch->add_defines();
      d->set_handle(h);
      d->set_path(absl::StrCat("bench/s", index, "/b", h));
      d->set_tier(pb::TIER_EXTERNAL);
    }
    stream_->Write(define);
    stream_->Read(&response);  // its ack
  }

  // Sends `batches` batches; returns once all are acknowledged.
  void Run(int batches) {
    std::atomic<uint64_t> acked{sequence_};
    const uint64_t last = sequence_ + static_cast<uint64_t>(batches);
    std::thread reader([&] {
      pb::SessionResponse response;
      while (acked.load() < last && stream_->Read(&response)) {
        if (response.has_ack()) acked.store(response.ack().applied_sequence());
      }
    });
    pb::SessionRequest request;
    pb::Batch* batch = request.mutable_batch();
    for (int i = 0; i < options_.batch; ++i) {
      pb::HandleDelta* d = batch->add_deltas();
      d->set_role(pb::ROLE_PUBLISHER);
      d->set_bytes(1200);
      d->set_frames(1);
    }
    int next_handle = 0;
    while (sequence_ < last) {
      while (sequence_ - acked.load() >= static_cast<uint64_t>(options_.window)) std::this_thread::yield();
      batch->set_sequence(++sequence_);
      for (int i = 0; i < options_.batch; ++i) {
        batch->mutable_deltas(i)->set_handle(next_handle);
        next_handle = (next_handle + 1) % handles_;
      }
      if (!stream_->Write(request)) break;
    }
    reader.join();
    ok_ = acked.load() == last;
  }

  bool ok() const { return ok_; }
  void Close() {
    pb::SessionRequest close;
    close.mutable_close();
    stream_->Write(close);
    stream_->WritesDone();
    stream_->Finish().ok();
  }

 private:
  const Options options_;
  const int handles_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::SessionRequest, pb::SessionResponse>> stream_;
  uint64_t sequence_ = 0;
  bool ok_ = false;
};

struct Result {
  int sessions = 0;
  int handles = 0;  // per session
  uint64_t deltas = 0;
  double wall_seconds = 0;
  double daemon_cpu_seconds = 0;
  bool exact = false;
};

Result RunOnce(int sessions, int handles, const Options& options) {
  Result result;
  result.sessions = sessions;
  result.handles = handles;
  {
    bench::BenchDaemon daemon({"--stats-levels=1", "--max-handles=1000000", "--max-batch-entries=100000"});
    auto channel = grpc::CreateChannel(daemon.target(), grpc::InsecureChannelCredentials());
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "the daemon did not come up\n");
      return result;
    }
    auto stub = pb::StatsService::NewStub(channel);
    std::vector<std::unique_ptr<Relay>> relays;
    for (int i = 0; i < sessions; ++i) relays.push_back(std::make_unique<Relay>(stub.get(), i, handles, options));

    const int per_session = options.total_batches / sessions;
    result.deltas = uint64_t(per_session) * sessions * options.batch;
    const double cpu_before = daemon.CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (auto& relay : relays) threads.emplace_back([&relay, per_session] { relay->Run(per_session); });
    for (auto& t : threads) t.join();
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.daemon_cpu_seconds = daemon.CpuSeconds() - cpu_before;

    bool all_ok = true;
    for (auto& relay : relays) all_ok = all_ok && relay->ok();
    grpc::ClientContext context;
    pb::GetLevelRequest request;
    pb::GetLevelResponse response;
    grpc::Status status = stub->GetLevel(&context, request, &response);
    result.exact = all_ok && status.ok() && response.level().external_publisher().frames() == result.deltas &&
                   response.level().external_publisher().bytes() == result.deltas * 1200;
    for (auto& relay : relays) relay->Close();
  }
  return result;
}

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char* v = value("--batches=")) {
      options.total_batches = std::atoi(v);
    } else if (const char* v = value("--batch=")) {
      options.batch = std::atoi(v);
    } else if (const char* v = value("--window=")) {
      options.window = std::atoi(v);
    } else {
      std::fprintf(stderr, "usage: %s [--batches=N] [--batch=N] [--window=N]\n", argv[0]);
      return 2;
    }
  }
  std::printf("ingest_bench: %d batches of %d handle-deltas in all, window %d batches per session\n",
              options.total_batches, options.batch, options.window);
  std::printf("%-9s %9s %10s %14s %16s %24s %s\n", "sessions", "handles", "deltas", "deltas/s wall", "daemon CPU s/1M",
              "deltas per daemon CPU-s", "exact");
  bool exact = true;
  struct Case {
    int sessions;
    int handles;  // per session
  };
  for (Case c : {Case{1, 1024}, Case{50, 20}, Case{50, 1024}}) {
    Result r = RunOnce(c.sessions, c.handles, options);
    exact = exact && r.exact;
    std::printf("%-9d %9d %10llu %14.0f %16.3f %24.0f %s\n", r.sessions, r.sessions * r.handles,
                static_cast<unsigned long long>(r.deltas), r.deltas / r.wall_seconds,
                r.daemon_cpu_seconds * 1e6 / static_cast<double>(r.deltas),
                static_cast<double>(r.deltas) / r.daemon_cpu_seconds, r.exact ? "yes" : "NO");
  }
  return exact ? 0 : 1;
}

}  // namespace
}  // namespace moq_stats::server

int main(int argc, char** argv) { return moq_stats::server::Main(argc, argv); }
