#include "server/admin/sse_watch.h"

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/json_string.h"
#include "common/logging.h"
#include "server/stats/tier.h"

namespace moq_stats::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr char kResponseHeader[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "X-Accel-Buffering: no\r\n"
    "\r\n"
    // EventSource reconnects this long after the connection ends.
    "retry: 2000\n\n";

// Appends one record of a "watch" event: {"announce":{"path":..,"active":..}}
// or {"frame":{"path":..,"track":..,"sequence":..,"payload":<the frame>}}.
// A level frame is compact JSON (no newline), so it is embedded as is.
void AppendRecord(const WatchQueue::Event& event, std::string* out) {
  if (event.kind == WatchQueue::Event::Kind::kFrame) {
    out->append("{\"frame\":{\"path\":");
    AppendJsonString(event.path, out);
    out->append(",\"track\":");
    AppendJsonString(event.track, out);
    absl::StrAppend(out, ",\"sequence\":", event.group.sequence, ",\"payload\":");
    const bool payload =
        event.group.frame && !event.group.frame->empty() && event.group.frame->find('\n') == std::string::npos;
    out->append(payload ? *event.group.frame : std::string("null"));
    out->append("}}");
    return;
  }
  out->append("{\"announce\":{\"path\":");
  AppendJsonString(event.path, out);
  out->append(event.kind == WatchQueue::Event::Kind::kAnnounce ? ",\"active\":true}}" : ",\"active\":false}}");
}

class SseWatchImpl : public std::enable_shared_from_this<SseWatchImpl> {
 public:
  SseWatchImpl(tcp::socket socket, Origin* origin, const SseWatchOptions& options, std::shared_ptr<void> slot)
      : origin_(origin),
        options_(options),
        slot_(std::move(slot)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        queue_(options.limits) {}

  ~SseWatchImpl() {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    std::unique_ptr<AnnouncementConsumer> announcements;
    absl::flat_hash_map<std::string, Subscriptions> subscriptions;
    {
      absl::MutexLock announce_lock(&announce_mu_);
      announcements = std::move(announcements_);
    }
    {
      absl::MutexLock lock(&mu_);
      subscriptions = std::move(subscriptions_);
    }
    // Destroying the consumers (outside mu_) waits for any notification
    // still running; none starts after.
    announcements.reset();
    subscriptions.clear();
  }

  // On the socket's executor.
  void Start(const Path& prefix) {
    std::unique_ptr<AnnouncementConsumer> announcements = origin_->Announced(prefix);
    announcements->SetNotify([this] { OnAnnouncements(); });
    {
      absl::MutexLock lock(&announce_mu_);
      announcements_ = std::move(announcements);
    }
    OnAnnouncements();  // what was announced before the notification was set
    writing_ = std::string(kResponseHeader);
    Write();
    ReadUntilClosed();
    Tick();
  }

 private:
  struct Subscription {
    std::string path;
    std::string track;
    std::unique_ptr<TrackConsumer> consumer;
  };
  using Subscriptions = std::vector<std::unique_ptr<Subscription>>;

  // --- The origin's side (any thread), as the Watch RPC's stream does it.

  void OnAnnouncements() {
    absl::MutexLock announce_lock(&announce_mu_);
    if (!announcements_) return;
    while (std::optional<Announcement> announcement = announcements_->Next()) {
      if (announcement->active) {
        Announced(announcement->path);
      } else {
        Ended(announcement->path);
      }
    }
  }

  void Announced(const Path& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(announce_mu_) {
    const std::string key = path.str();
    {
      absl::MutexLock lock(&mu_);
      if (closing_ || !queue_.status().ok()) return;
      (void)queue_.Announce(key);
    }
    Subscriptions subscribed;
    for (Tier tier : kTiers) {
      for (Role role : kRoles) {
        std::string name(TrackName(tier, role));
        absl::StatusOr<std::unique_ptr<TrackConsumer>> consumer = origin_->Subscribe(path, name);
        if (!consumer.ok()) continue;  // the broadcast ended already; its end follows
        auto subscription = std::make_unique<Subscription>(Subscription{key, std::move(name), *std::move(consumer)});
        Subscription* raw = subscription.get();
        raw->consumer->SetNotify([this, raw] { OnGroups(raw); });
        subscribed.push_back(std::move(subscription));
      }
    }
    absl::MutexLock lock(&mu_);
    if (closing_) return;  // destroyed on return, outside mu_
    Subscriptions& subscriptions = subscriptions_[key];
    for (auto& subscription : subscribed) {
      DrainLocked(*subscription);
      subscriptions.push_back(std::move(subscription));
    }
  }

  void Ended(const Path& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(announce_mu_) {
    Subscriptions ended;  // destroyed on return, outside mu_
    absl::MutexLock lock(&mu_);
    auto it = subscriptions_.find(path.str());
    if (it != subscriptions_.end()) {
      for (auto& subscription : it->second) DrainLocked(*subscription);
      ended = std::move(it->second);
      subscriptions_.erase(it);
    }
    if (!closing_) (void)queue_.End(path.str());
  }

  void OnGroups(Subscription* subscription) {
    absl::MutexLock lock(&mu_);
    auto it = subscriptions_.find(subscription->path);
    if (it == subscriptions_.end()) return;
    for (const auto& listed : it->second) {
      if (listed.get() == subscription) {
        DrainLocked(*subscription);
        return;
      }
    }
  }

  void DrainLocked(Subscription& subscription) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (std::optional<Group> group = subscription.consumer->Next()) {
      if (!closing_) (void)queue_.Frame(subscription.path, subscription.track, *std::move(group));
    }
  }

  // --- The connection's side (the socket's executor).

  // Every flush_interval: writes what waits, sends a heartbeat when idle,
  // and drops a stream that overflowed or whose write stalled.
  void Tick() {
    if (!socket_.is_open()) return;
    const auto now = std::chrono::steady_clock::now();
    if (in_flight_) {
      if (now - write_started_ > absl::ToChronoNanoseconds(options_.write_timeout)) {
        MOQSTATS_LOG(INFO) << "admin: dropping a watch stream whose client stopped reading";
        Close();
        return;
      }
    } else if (!Flush()) {
      return;
    } else if (!in_flight_ && now - last_write_ >= absl::ToChronoNanoseconds(options_.heartbeat)) {
      writing_ = ":\n\n";
      Write();
    }
    timer_.expires_after(absl::ToChronoNanoseconds(options_.flush_interval));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Tick();
    });
  }

  // Writes what waits, if nothing is in flight. False when the stream was
  // closed for overflowing.
  bool Flush() {
    if (in_flight_ || !socket_.is_open()) return true;
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      // Everything waiting (up to max_write_bytes) goes out as one event:
      // a browser spends far more per event than per record.
      while (writing_.size() < options_.max_write_bytes) {
        std::optional<WatchQueue::Event> event = queue_.Pop();
        if (!event) break;
        writing_.append(writing_.empty() ? "event: watch\ndata: [" : ",");
        AppendRecord(*event, &writing_);
      }
      if (!writing_.empty()) writing_.append("]\n\n");
      status = queue_.status();
    }
    if (!status.ok()) {
      MOQSTATS_LOG(INFO) << "admin: dropping a watch stream: " << status.message();
      Close();
      return false;
    }
    if (!writing_.empty()) Write();
    return true;
  }

  void Write() {
    in_flight_ = true;
    write_started_ = std::chrono::steady_clock::now();
    asio::async_write(socket_, asio::buffer(writing_), [self = shared_from_this()](error_code ec, std::size_t) {
      self->in_flight_ = false;
      self->writing_.clear();
      self->last_write_ = std::chrono::steady_clock::now();
      if (ec) {
        self->Close();
        return;
      }
      self->Flush();  // more may have waited behind this write
    });
  }

  // The client sends nothing after its request; reading tells when it goes.
  void ReadUntilClosed() {
    socket_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->Close();
        return;
      }
      self->ReadUntilClosed();
    });
  }

  void Close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

  Origin* const origin_;
  const SseWatchOptions options_;
  const std::shared_ptr<void> slot_;

  // Used only on the socket's executor.
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string writing_;
  bool in_flight_ = false;
  std::chrono::steady_clock::time_point write_started_;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::array<char, 512> discard_;

  // Lock order: announce_mu_, then a consumer's notification, then mu_.
  absl::Mutex announce_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<AnnouncementConsumer> announcements_ ABSL_GUARDED_BY(announce_mu_);
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Subscriptions> subscriptions_ ABSL_GUARDED_BY(mu_);
  WatchQueue queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void SseWatch::Start(tcp::socket socket, Origin* origin, const Path& prefix, const SseWatchOptions& options,
                     std::shared_ptr<void> slot) {
  auto watch = std::make_shared<SseWatchImpl>(std::move(socket), origin, options, std::move(slot));
  watch->Start(prefix);
}

}  // namespace moq_stats::server
