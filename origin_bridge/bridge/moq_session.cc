#include "origin_bridge/bridge/moq_session.h"

#include <chrono>
#include <random>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logging.h"

namespace moq_stats::bridge {
namespace {

// Bytes a transport may hold unwritten before the session stops handing it
// records (a peer that grants credit but reads slowly must not grow our
// memory; the publisher holds the newest group per subscription instead).
constexpr uint64_t kMaxTransportQueuedBytes = 1 << 20;

// 2020-01-01T00:00:00Z, the zero of lite-05 frame timestamps.
constexpr int64_t kTimestampEpochUnixSeconds = 1577836800;

// Bidirectional streams allowed beyond max_subscriptions.
constexpr uint64_t kExtraBidiStreams = 64;

std::vector<std::string> OfferedAlpns() {
  std::vector<std::string> alpns;
  for (lite::Version v : OfferedVersions()) alpns.emplace_back(lite::VersionAlpn(v));
  return alpns;
}

std::optional<lite::Version> VersionFromAlpn(const std::string& alpn) {
  for (lite::Version v : OfferedVersions()) {
    if (lite::VersionAlpn(v) == alpn) return v;
  }
  return std::nullopt;
}

// The application protocol both sides agree on over TCP: the server's first
// entry that the client also offered.
std::optional<lite::Version> NegotiateTcpVersion(qmux::Perspective perspective, const std::vector<std::string>& peer) {
  std::vector<std::string> ours = OfferedAlpns();
  bool server = perspective == qmux::Perspective::kServer;
  const std::vector<std::string>& server_list = server ? ours : peer;
  const std::vector<std::string>& client_list = server ? peer : ours;
  for (const std::string& candidate : server_list) {
    for (const std::string& offered : client_list) {
      if (candidate == offered) return VersionFromAlpn(candidate);
    }
  }
  return std::nullopt;
}

std::string DescribeClose(const CloseInfo& info) {
  return absl::StrCat(info.by_peer ? "by the peer" : "by us", ", ",
                      info.application ? "application code " : "transport code ", info.code,
                      info.reason.empty() ? "" : absl::StrCat(" (", info.reason, ")"));
}

}  // namespace

lite::PublisherOptions SessionPublisherOptions() {
  lite::PublisherOptions options;
  options.origin_id = 0;
  options.max_queued_bytes = 1 << 20;
  options.clock = Clock::Real();
  options.timestamp_epoch = absl::FromUnixSeconds(kTimestampEpochUnixSeconds);
  return options;
}

uint64_t ProcessOriginId() {
  static const uint64_t id = [] {
    std::random_device device;
    uint64_t value = 0;
    // Bounded: a zero draw is vanishingly rare; fall back to 1.
    for (int i = 0; i < 8 && value == 0; ++i) {
      value = ((uint64_t{device()} << 32) | device()) & ((uint64_t{1} << 62) - 1);
    }
    return value == 0 ? uint64_t{1} : value;
  }();
  return id;
}

// Forwards the connection's events to the publisher, creating it on the
// first event when the version was not known before (TCP).
class MoqSession::EventShim : public StreamEvents {
 public:
  explicit EventShim(MoqSession* session) : session_(session) {}

  void OnStreamOpened(uint64_t id) override {
    if (auto* p = session_->EnsurePublisher()) p->OnStreamOpened(id);
  }
  void OnStreamData(uint64_t id, std::string_view data, bool fin) override {
    if (auto* p = session_->EnsurePublisher()) p->OnStreamData(id, data, fin);
  }
  void OnStreamReset(uint64_t id, uint64_t code) override {
    if (auto* p = session_->EnsurePublisher()) p->OnStreamReset(id, code);
  }
  void OnStopSending(uint64_t id, uint64_t code) override {
    if (auto* p = session_->EnsurePublisher()) p->OnStopSending(id, code);
  }
  void OnStreamCreditAvailable() override {
    if (auto* p = session_->EnsurePublisher()) p->OnStreamCreditAvailable();
  }
  void OnClosed(const CloseInfo& info) override {
    if (session_->publisher_) session_->publisher_->OnClosed(info);
  }

 private:
  MoqSession* const session_;
};

// Shared with the wake callback, which may outlive the session.
struct MoqSession::WakeState {
  boost::asio::io_context* io = nullptr;
  std::weak_ptr<MoqSession> session;
  // True while a Poll is posted and has not started; makes wakes coalesce.
  // seq_cst: a wake after OnWake cleared it must post again.
  std::atomic<bool> pending{false};
};

std::shared_ptr<MoqSession> MoqSession::Create(boost::asio::io_context& io, std::unique_ptr<Transport> transport,
                                               Origin* origin, MoqSessionOptions options, StatusBoard* board,
                                               uint64_t session_id, EndedHandler on_ended) {
  std::shared_ptr<MoqSession> session(
      new MoqSession(io, std::move(transport), origin, options, board, session_id, std::move(on_ended)));
  session->wake_->session = session;
  return session;
}

MoqSession::MoqSession(boost::asio::io_context& io, std::unique_ptr<Transport> transport, Origin* origin,
                       MoqSessionOptions options, StatusBoard* board, uint64_t session_id, EndedHandler on_ended)
    : io_(io),
      transport_(std::move(transport)),
      origin_(origin),
      options_(options),
      board_(board),
      session_id_(session_id),
      on_ended_(std::move(on_ended)),
      peer_(transport_->peer()),
      wake_(std::make_shared<WakeState>()),
      setup_timer_(io) {
  wake_->io = &io_;
  qmux::ConnectionOptions connection;
  connection.perspective = options_.perspective;
  connection.mode = transport_->mode();
  if (std::optional<Negotiated> negotiated = transport_->negotiated()) {
    version_ = negotiated->version;
    subprotocol_ = negotiated->subprotocol;
    connection.records = negotiated->qmux_records;
    connection.local = qmux::LocalTransportParameters(connection.mode);
  } else {
    connection.local = qmux::LocalTransportParameters(connection.mode, OfferedAlpns());
  }
  // Every subscription is a bidirectional stream the peer keeps open: allow
  // as many as the publisher serves (plus announce, track and fetch
  // streams), rather than QMux's default of 100.
  connection.local.initial_max_streams_bidi = options_.publisher.max_subscriptions + kExtraBidiStreams;
  shim_ = std::make_unique<EventShim>(this);
  connection_ = std::make_unique<qmux::Connection>(connection, shim_.get());
}

MoqSession::~MoqSession() {
  if (board_ != nullptr) board_->RemoveSession(session_id_);
}

std::optional<lite::Version> MoqSession::version() const {
  if (publisher_) return publisher_->version();
  return std::nullopt;
}

void MoqSession::Start() {
  if (started_) return;
  started_ = true;
  std::weak_ptr<MoqSession> weak = weak_from_this();
  Transport::Handlers handlers;
  handlers.on_bytes = [weak](std::string_view bytes) {
    if (auto self = weak.lock()) self->OnBytes(bytes);
  };
  handlers.on_closed = [weak](absl::Status status) {
    if (auto self = weak.lock()) self->OnTransportClosed(status);
  };
  handlers.on_drained = [weak] {
    if (auto self = weak.lock()) self->AfterEvent();
  };
  transport_->Start(std::move(handlers));
  if (version_.has_value()) EnsurePublisher();
  setup_timer_.expires_after(absl::ToChronoMilliseconds(options_.setup_timeout));
  setup_timer_.async_wait([weak](const boost::system::error_code& error) {
    if (error) return;  // cancelled: the session ended
    if (auto self = weak.lock()) self->OnSetupTimeout();
  });
  AfterEvent();
}

void MoqSession::OnSetupTimeout() {
  if (ended_ || connection_->closed() || connection_->peer_parameters().has_value()) return;
  MOQSTATS_LOG(WARNING) << "moq session with " << peer_ << ": no QMux transport parameters within "
                        << absl::ToInt64Milliseconds(options_.setup_timeout) << " ms; closing";
  connection_->Close(static_cast<uint64_t>(lite::ErrorCode::kTimeout), "no transport parameters in time");
  AfterEvent();
}

lite::PublisherSession* MoqSession::EnsurePublisher() {
  if (publisher_) return publisher_.get();
  if (connection_->closed()) return nullptr;
  if (!version_.has_value()) {
    const std::optional<qmux::TransportParameters>& peer = connection_->peer_parameters();
    if (!peer.has_value()) return nullptr;
    version_ = NegotiateTcpVersion(options_.perspective, peer->application_protocols);
    if (!version_.has_value()) {
      MOQSTATS_LOG(WARNING) << "moq session with " << peer_ << ": no common application protocol";
      connection_->Close(kUnknownAlpnCode, "no common application protocol");
      return nullptr;
    }
  }
  lite::PublisherOptions options = options_.publisher;
  options.version = *version_;
  if (options.origin_id == 0) options.origin_id = ProcessOriginId();
  options.setup_path.reset();
  const bool uri_less = transport_->mode() == qmux::RecordMode::kTcp;
  if (uri_less && !options_.request_target.empty() && options_.request_target != "/") {
    if (*version_ == lite::Version::kLite05) {
      options.setup_path = options_.request_target;
    } else {
      MOQSTATS_LOG(WARNING) << "moq session with " << peer_ << ": " << lite::VersionAlpn(*version_)
                            << " has no SETUP to carry the request path; the relay will not see it";
    }
  }
  std::shared_ptr<WakeState> wake = wake_;
  publisher_ = std::make_unique<lite::PublisherSession>(options, connection_.get(), origin_, [wake] {
    if (wake->pending.exchange(true)) return;
    boost::asio::post(*wake->io, [wake] {
      if (auto self = wake->session.lock()) self->OnWake();
    });
  });
  publisher_->Start();
  if (on_version_) on_version_(*version_);
  MOQSTATS_LOG(INFO) << "moq session with " << peer_ << ": " << lite::VersionAlpn(*version_)
                     << (subprotocol_.empty() ? "" : absl::StrCat(" (subprotocol ", subprotocol_, ")"));
  return publisher_.get();
}

void MoqSession::OnBytes(std::string_view bytes) {
  if (ended_ || connection_->closed()) return;
  connection_->OnBytesReceived(bytes);
  if (!publisher_) EnsurePublisher();
  // Credit the peer returned shows as records to take; FlushToTransport
  // then polls, releasing groups the publisher held.
  AfterEvent();
}

void MoqSession::OnWake() {
  wake_->pending.store(false);
  if (ended_ || !publisher_ || connection_->closed()) return;
  publisher_->Poll();
  AfterEvent();
}

void MoqSession::Close(uint64_t code, const std::string& reason) {
  if (ended_) return;
  if (!connection_->closed()) {
    if (publisher_) publisher_->Poll();
    connection_->Close(code, reason);
  }
  AfterEvent();
}

SessionCounters MoqSession::counters() const {
  SessionCounters out;
  if (publisher_) {
    const lite::PublisherCounters& p = publisher_->counters();
    out.announced_broadcasts = p.announced_broadcasts;
    out.subscriptions_active = p.subscriptions_active;
    out.subscriptions_served = p.subscriptions_served;
    out.groups_sent = p.groups_sent;
    out.group_bytes_sent = p.group_bytes_sent;
    out.groups_skipped = p.groups_skipped;
  }
  const qmux::ConnectionCounters& c = connection_->counters();
  out.wire_bytes_sent = c.bytes_sent;
  out.wire_bytes_received = c.bytes_received;
  return out;
}

void MoqSession::AfterEvent() {
  if (transport_closed_) return;
  FlushToTransport();
  if (!connection_->closed() && connection_->queued_bytes() > options_.max_unsent_bytes) {
    MOQSTATS_LOG(WARNING) << "moq session with " << peer_ << ": peer is not reading (" << connection_->queued_bytes()
                          << " bytes unsent); closing";
    connection_->Close(static_cast<uint64_t>(lite::ErrorCode::kLagged), "peer is not reading");
    FlushToTransport();
  }
  // Before the board: whoever sees the gauge there sees the report made.
  if (on_subscribed_ && !ended_) {
    const bool subscribed =
        publisher_ != nullptr && !connection_->closed() && publisher_->counters().subscriptions_active > 0;
    if (subscribed != subscribed_) {
      subscribed_ = subscribed;
      on_subscribed_(subscribed);
    }
  }
  if (board_ != nullptr && !ended_) {
    SessionCounters c = counters();
    // A session whose connection closed no longer announces or serves.
    if (connection_->closed()) c.announced_broadcasts = c.subscriptions_active = 0;
    board_->UpdateSession(session_id_, c);
  }
  if (connection_->closed() && !transport_close_requested_) {
    transport_close_requested_ = true;
    transport_->Close();  // may report on_closed before returning
  }
}

void MoqSession::FlushToTransport() {
  // Two rounds at most: draining the connection can let the publisher
  // release groups it held while the connection's queue was over its cap.
  for (int round = 0; round < 2; ++round) {
    // The socket is behind: leave the records in the connection (its queue
    // then makes the publisher hold groups, newest per subscription) until
    // the transport reports it drained. A close frame always goes.
    if (!connection_->closed() && transport_->queued_bytes() >= kMaxTransportQueuedBytes) return;
    std::vector<std::string> out = connection_->TakeOutgoing();
    if (out.empty()) return;
    transport_->Send(std::move(out));
    if (round == 1 || publisher_ == nullptr || connection_->closed()) return;
    publisher_->Poll();
  }
}

void MoqSession::OnTransportClosed(const absl::Status& status) {
  if (transport_closed_) return;
  if (!connection_->closed()) {
    connection_->OnTransportClosed(status.ok() ? "transport closed" : std::string(status.message()));
  }
  if (board_ != nullptr && !ended_) board_->UpdateSession(session_id_, counters());
  transport_closed_ = true;
  Finish();
}

void MoqSession::Finish() {
  if (ended_) return;
  ended_ = true;
  setup_timer_.cancel();
  CloseInfo info;
  if (connection_->close_info().has_value()) info = *connection_->close_info();
  MOQSTATS_LOG(INFO) << "moq session with " << peer_ << " ended " << DescribeClose(info);
  if (board_ != nullptr) board_->RemoveSession(session_id_);
  if (on_ended_) {
    std::weak_ptr<MoqSession> weak = weak_from_this();
    boost::asio::post(io_, [weak, info] {
      if (auto self = weak.lock()) {
        EndedHandler handler = std::move(self->on_ended_);
        if (handler) handler(info);
      }
    });
  }
}

}  // namespace moq_stats::bridge
