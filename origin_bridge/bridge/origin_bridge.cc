#include "origin_bridge/bridge/origin_bridge.h"

#include <chrono>
#include <functional>
#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/logging.h"
#include "origin_bridge/bridge/dialer.h"
#include "origin_bridge/bridge/moq_server.h"

namespace moq_stats::bridge {

absl::StatusOr<std::unique_ptr<OriginBridge>> OriginBridge::Start(Origin* origin, BridgeOptions options) {
  std::unique_ptr<OriginBridge> bridge(new OriginBridge(origin, std::move(options)));
  if (absl::Status s = bridge->Init(); !s.ok()) return s;
  return bridge;
}

OriginBridge::OriginBridge(Origin* origin, BridgeOptions options)
    : origin_(origin), options_(std::move(options)), work_(boost::asio::make_work_guard(io_)) {}

absl::Status OriginBridge::Init() {
  std::optional<DialTarget> target;
  if (!options_.origin_url.empty()) {
    absl::StatusOr<DialTarget> parsed = ParseOriginUrl(options_.origin_url);
    if (!parsed.ok()) return parsed.status();
    target = *parsed;
  }
  if (options_.moq_listen.has_value()) {
    MoqServerOptions serve;
    serve.host = options_.moq_listen->host;
    serve.port = options_.moq_listen->port;
    serve.max_sessions = options_.max_serve_sessions;
    serve.session = options_.session;
    serve.idle_timeout = options_.serve_idle_timeout;
    serve.clock = options_.clock;
    serve.scheduler = options_.scheduler;
    if (serve.scheduler == nullptr && serve.idle_timeout > absl::ZeroDuration()) {
      own_scheduler_ = std::make_unique<Scheduler>();
      own_scheduler_thread_ = std::make_unique<SchedulerThread>(own_scheduler_.get(), options_.clock);
      serve.scheduler = own_scheduler_.get();
    }
    absl::StatusOr<std::shared_ptr<MoqServer>> server = MoqServer::Start(io_, origin_, serve, &board_);
    if (server.ok()) {
      server_ = *std::move(server);
      serve_port_ = server_->port();
    } else if (options_.listen_failure_is_fatal) {
      return server.status();
    } else {
      MOQSTATS_LOG(WARNING) << server.status().message() << "; not serving MoQ clients";
    }
  }
  if (target.has_value()) {
    DialerOptions dial;
    dial.target = *target;
    dial.redacted_url = RedactOriginUrl(options_.origin_url);
    dial.dial_timeout = options_.dial_timeout;
    dial.backoff = options_.backoff;
    dial.seed = options_.backoff_seed != 0 ? options_.backoff_seed : std::random_device()();
    dial.session = options_.session;
    dialer_ = Dialer::Create(io_, origin_, dial, &board_);
    boost::asio::post(io_, [dialer = dialer_] { dialer->Start(); });
  }
  thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

BridgeStatus OriginBridge::status() const { return board_.Snapshot(); }

void OriginBridge::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (!thread_.joinable()) return;
  // Close every session on the io thread, then poll there until they are
  // gone or the time is up.
  auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.stop_timeout);
  auto closed = std::make_shared<absl::Notification>();
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  // Checks every few milliseconds whether every session is gone.
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, closed, deadline, timer, weak = std::weak_ptr<std::function<void()>>(check)] {
    bool busy = (dialer_ && dialer_->has_session()) || (server_ && server_->session_count() > 0);
    if (!busy || std::chrono::steady_clock::now() >= deadline) {
      closed->Notify();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(5));
    timer->async_wait([weak](const boost::system::error_code&) {
      if (auto again = weak.lock()) (*again)();
    });
  };
  boost::asio::post(io_, [this, check] {
    if (dialer_) dialer_->Stop();
    if (server_) server_->Stop();
    (*check)();
  });
  closed->WaitForNotificationWithTimeout(options_.stop_timeout + absl::Seconds(1));
  if (!closed->HasBeenNotified()) MOQSTATS_LOG(WARNING) << "bridge sessions did not close in time";
  // Tear down on the io thread: sessions and listeners are destroyed there.
  auto torn_down = std::make_shared<absl::Notification>();
  boost::asio::post(io_, [this, torn_down] {
    dialer_.reset();
    server_.reset();
    torn_down->Notify();
  });
  torn_down->WaitForNotificationWithTimeout(absl::Seconds(5));
  work_.reset();
  io_.stop();
  thread_.join();
}

OriginBridge::~OriginBridge() { Stop(); }

}  // namespace moq_stats::bridge
