#include "bench/origin_bridge/bridge_bench_server.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/record.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bench {
namespace {

// The io thread's own CPU time: the breakdown must not count time the
// thread spent descheduled (two cores, shared with the writer and the
// subscriber process).
uint64_t Now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// One client: the wiring of bridge::MoqSession, timed.
class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(boost::asio::io_context& io, std::unique_ptr<bridge::Transport> transport, Origin* origin,
                uint64_t bidi_streams, ServerCounters* timing)
      : io_(io), transport_(std::move(transport)), origin_(origin), timing_(timing) {
    bridge::Negotiated n = transport_->negotiated().value_or(bridge::Negotiated{});
    qmux::ConnectionOptions options;
    options.perspective = qmux::Perspective::kServer;
    options.mode = transport_->mode();
    options.records = n.qmux_records;
    options.local = qmux::LocalTransportParameters(options.mode);
    options.local.initial_max_streams_bidi = bidi_streams;
    connection_ = std::make_unique<qmux::Connection>(options, nullptr);
    version_ = n.version;
  }

  void Start() {
    wake_ = std::make_shared<Wake>();
    wake_->io = &io_;
    wake_->session = weak_from_this();
    lite::PublisherOptions options;
    options.version = version_;
    options.origin_id = 12345;
    std::shared_ptr<Wake> wake = wake_;
    publisher_ = std::make_unique<lite::PublisherSession>(options, connection_.get(), origin_, [wake] {
      if (wake->pending.exchange(true)) return;
      boost::asio::post(*wake->io, [wake] {
        if (auto self = wake->session.lock()) self->OnWake();
      });
    });
    connection_->set_events(publisher_.get());
    std::weak_ptr<ServerSession> weak = weak_from_this();
    bridge::Transport::Handlers handlers;
    handlers.on_bytes = [weak](std::string_view bytes) {
      if (auto self = weak.lock()) {
        const uint64_t t0 = Now();
        self->connection_->OnBytesReceived(bytes);
        self->timing_->receive_ns += Now() - t0;
        self->Flush();
      }
    };
    handlers.on_closed = [weak](absl::Status) {
      if (auto self = weak.lock()) {
        self->transport_closed_ = true;
        self->connection_->OnTransportClosed("transport closed");
      }
    };
    transport_->Start(std::move(handlers));
    publisher_->Start();
    Flush();
  }

  void AddCounters(ServerCounters* out) const {
    const lite::PublisherCounters& p = publisher_->counters();
    out->publisher.groups_sent += p.groups_sent;
    out->publisher.group_bytes_sent += p.group_bytes_sent;
    out->publisher.groups_skipped += p.groups_skipped;
    out->publisher.subscriptions_active += p.subscriptions_active;
    out->publisher.announced_broadcasts += p.announced_broadcasts;
    out->wire_bytes_sent += connection_->counters().bytes_sent;
  }

  void Close() {
    if (!connection_->closed()) connection_->Close(0, "bench over");
    Flush();
    if (!transport_closed_) transport_->Close();
  }

 private:
  struct Wake {
    boost::asio::io_context* io = nullptr;
    std::weak_ptr<ServerSession> session;
    std::atomic<bool> pending{false};  // seq_cst: a wake after OnWake cleared it posts again
  };

  void OnWake() {
    wake_->pending.store(false);
    if (connection_->closed()) return;
    const uint64_t t0 = Now();
    publisher_->Poll();
    timing_->poll_ns += Now() - t0;
    ++timing_->polls;
    Flush();
  }

  void Flush() {
    if (transport_closed_) return;
    uint64_t t0 = Now();
    std::vector<std::string> out = connection_->TakeOutgoing();
    uint64_t t1 = Now();
    timing_->take_ns += t1 - t0;
    if (!out.empty()) {
      transport_->Send(std::move(out));
      timing_->send_ns += Now() - t1;
    }
  }

  boost::asio::io_context& io_;
  std::unique_ptr<bridge::Transport> transport_;
  Origin* const origin_;
  ServerCounters* const timing_;  // io thread only
  lite::Version version_;
  std::unique_ptr<qmux::Connection> connection_;
  std::unique_ptr<lite::PublisherSession> publisher_;
  std::shared_ptr<Wake> wake_;
  bool transport_closed_ = false;
};

}  // namespace

struct BenchServer::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<bridge::WebSocketListener> listener;
  std::vector<std::shared_ptr<ServerSession>> sessions;  // io thread
  ServerCounters timing;                                 // io thread
  std::thread thread;
  clockid_t clock = CLOCK_THREAD_CPUTIME_ID;
  bool stopped = false;
};

absl::StatusOr<std::unique_ptr<BenchServer>> BenchServer::Start(Origin* origin, uint64_t bidi_streams) {
  auto impl = std::make_unique<Impl>();
  Impl* raw = impl.get();
  bridge::WebSocketListener::Options options;
  options.idle_timeout_ms = 0;
  absl::StatusOr<std::unique_ptr<bridge::WebSocketListener>> listener = bridge::WebSocketListener::Bind(
      impl->io, "127.0.0.1", 0,
      [raw, origin, bidi_streams](std::unique_ptr<bridge::Transport> transport) {
        auto session =
            std::make_shared<ServerSession>(raw->io, std::move(transport), origin, bidi_streams, &raw->timing);
        session->Start();
        raw->sessions.push_back(std::move(session));
      },
      options);
  if (!listener.ok()) return listener.status();
  impl->listener = *std::move(listener);
  impl->thread = std::thread([raw] { raw->io.run(); });
  pthread_getcpuclockid(impl->thread.native_handle(), &impl->clock);
  return std::unique_ptr<BenchServer>(new BenchServer(std::move(impl)));
}

BenchServer::BenchServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BenchServer::~BenchServer() { Stop(); }

uint16_t BenchServer::port() const { return impl_->listener->port(); }
clockid_t BenchServer::thread_clock() const { return impl_->clock; }

ServerCounters BenchServer::counters() {
  auto promise = std::make_shared<std::promise<ServerCounters>>();
  std::future<ServerCounters> future = promise->get_future();
  Impl* impl = impl_.get();
  boost::asio::post(impl->io, [impl, promise] {
    ServerCounters c = impl->timing;
    c.publisher = {};
    for (const auto& s : impl->sessions) s->AddCounters(&c);
    promise->set_value(c);
  });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return {};
  return future.get();
}

void BenchServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_.get();
  boost::asio::post(impl->io, [impl] {
    impl->listener->Stop();
    for (auto& s : impl->sessions) s->Close();
  });
  // Give the closes a moment to go out, then stop the loop.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  boost::asio::post(impl->io, [impl] {
    impl->sessions.clear();
    impl->io.stop();
  });
  impl->thread.join();
}

uint64_t ClockNs(clockid_t clock) {
  timespec ts;
  if (clock_gettime(clock, &ts) != 0) return 0;
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

uint64_t MonotonicNs() { return ClockNs(CLOCK_MONOTONIC); }

uint64_t ProcessCpuNs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) { return uint64_t(tv.tv_sec) * 1000000000u + uint64_t(tv.tv_usec) * 1000u; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

clockid_t ThreadClockOfTid(int tid) {
  // What glibc's pthread_getcpuclockid computes: a per-thread CPU clock,
  // scheduler accounting (CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD_MASK).
  return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6);
}

std::vector<int> ThreadIds() {
  std::vector<int> ids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return ids;
  for (int guard = 0; guard < 100000; ++guard) {
    dirent* e = readdir(dir);
    if (e == nullptr) break;
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') ids.push_back(std::atoi(e->d_name));
  }
  closedir(dir);
  return ids;
}

}  // namespace moq_stats::bench
