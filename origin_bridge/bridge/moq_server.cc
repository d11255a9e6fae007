#include "origin_bridge/bridge/moq_server.h"

#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "common/logging.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::bridge {

namespace {

// Connections the listener admits beyond max_sessions (handshakes under way).
constexpr size_t kHandshakeSlack = 16;

}  // namespace

absl::StatusOr<std::shared_ptr<MoqServer>> MoqServer::Start(boost::asio::io_context& io, Origin* origin,
                                                            MoqServerOptions options, StatusBoard* board) {
  std::shared_ptr<MoqServer> server(new MoqServer(io, origin, std::move(options), board));
  std::weak_ptr<MoqServer> weak = server;
  WebSocketListener::Options listen;
  // Room for every session plus a few handshakes, so a client over the
  // limit still completes its handshake and is closed, rather than reset.
  listen.max_connections = server->options_.max_sessions + kHandshakeSlack;
  absl::StatusOr<std::unique_ptr<WebSocketListener>> listener = WebSocketListener::Bind(
      io, server->options_.host, server->options_.port,
      [weak](std::unique_ptr<Transport> transport) {
        if (auto self = weak.lock()) self->OnAccepted(std::move(transport));
      },
      listen);
  std::string address = FormatHostPort(server->options_.host, server->options_.port);
  if (!listener.ok()) {
    board->EditServe([&](ServeStatus& serve) { serve.last_error = std::string(listener.status().message()); });
    return absl::Status(listener.status().code(),
                        absl::StrCat("cannot listen on ", address, ": ", listener.status().message()));
  }
  server->idle_wake_->server = server;
  {
    absl::MutexLock lock(&server->idle_wake_->mu);
    server->idle_wake_->io = &io;
  }
  server->listener_ = *std::move(listener);
  server->port_ = server->listener_->port();
  std::string bound = FormatHostPort(server->options_.host, server->port_);
  board->EditServe([&](ServeStatus& serve) {
    serve.enabled = true;
    serve.listen = bound;
    serve.last_error.clear();
  });
  MOQSTATS_LOG(INFO) << "serving moq-lite over WebSocket on ws://" << bound << "/";
  return server;
}

MoqServer::MoqServer(boost::asio::io_context& io, Origin* origin, MoqServerOptions options, StatusBoard* board)
    : io_(io), origin_(origin), options_(std::move(options)), board_(board), next_session_id_(uint64_t{1} << 63) {
  options_.session.perspective = qmux::Perspective::kServer;
  if (options_.idle_timeout > absl::ZeroDuration() && options_.scheduler != nullptr) {
    idle_.emplace(options_.idle_timeout);
  }
}

MoqServer::~MoqServer() {
  absl::MutexLock lock(&idle_wake_->mu);
  idle_wake_->io = nullptr;
}

void MoqServer::IdleWake::Post() {
  absl::MutexLock lock(&mu);
  if (io == nullptr) return;
  boost::asio::post(*io, [weak = server] {
    if (auto self = weak.lock()) self->SweepIdle();
  });
}

void MoqServer::OnAccepted(std::unique_ptr<Transport> transport) {
  if (stopped_) {
    transport->Close();
    return;
  }
  if (sessions_.size() >= options_.max_sessions) {
    // Logged once per interval with the count (a client retrying in a loop
    // must not flood the log); all are counted.
    ++refused_total_;
    if (uint64_t count = refusals_.Refused(options_.clock->Now())) {
      MOQSTATS_LOG(WARNING) << "refused " << count << " moq client(s) (the last " << transport->peer()
                            << "): " << sessions_.size() << " sessions open (the limit); " << refused_total_
                            << " refused so far";
    }
    board_->EditServe([](ServeStatus& serve) { ++serve.sessions_refused; });
    const uint64_t id = next_refused_id_++;
    Transport* raw = transport.get();
    refused_.emplace(id, std::move(transport));
    Transport::Handlers handlers;
    handlers.on_bytes = [](std::string_view) {};
    // Released from a posted handler, never inside its own callback.
    std::weak_ptr<MoqServer> weak = weak_from_this();
    handlers.on_closed = [weak, id, io = &io_](absl::Status) {
      boost::asio::post(*io, [weak, id] {
        if (auto self = weak.lock()) self->refused_.erase(id);
      });
    };
    raw->Start(std::move(handlers));
    raw->Close();
    return;
  }
  uint64_t id = next_session_id_++;
  std::weak_ptr<MoqServer> weak = weak_from_this();
  std::shared_ptr<MoqSession> session = MoqSession::Create(io_, std::move(transport), origin_, options_.session, board_,
                                                           id, [weak, id](const CloseInfo&) {
                                                             if (auto self = weak.lock()) self->OnSessionEnded(id);
                                                           });
  sessions_[id] = session;
  board_->EditServe([this](ServeStatus& serve) {
    serve.sessions = sessions_.size();
    ++serve.sessions_total;
  });
  if (idle_) {
    idle_->Track(id, options_.clock->Now());
    session->set_on_subscribed([weak, id](bool subscribed) {
      if (auto self = weak.lock()) self->OnSubscribed(id, subscribed);
    });
    ScheduleIdleSweep();
  }
  session->Start();
}

void MoqServer::OnSubscribed(uint64_t id, bool subscribed) {
  if (!idle_) return;
  idle_->SetSubscribed(id, subscribed, options_.clock->Now());
  if (!subscribed) ScheduleIdleSweep();
}

void MoqServer::ScheduleIdleSweep() {
  if (!idle_ || stopped_) return;
  std::optional<absl::Time> next = idle_->NextDeadline();
  // Deadlines only grow (now + timeout), so a sweep already due by `next`
  // schedules this one when it runs.
  if (!next.has_value() || *next >= idle_sweep_at_) return;
  idle_sweep_at_ = *next;
  options_.scheduler->ScheduleAt(*next, [wake = idle_wake_] { wake->Post(); });
}

void MoqServer::SweepIdle() {
  idle_sweep_at_ = absl::InfiniteFuture();
  if (!idle_ || stopped_) return;
  for (uint64_t id : idle_->TakeExpired(options_.clock->Now())) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    // Held here: Close may end the session and erase it from sessions_.
    std::shared_ptr<MoqSession> session = it->second;
    board_->EditServe([](ServeStatus& serve) { ++serve.sessions_idle_closed; });
    MOQSTATS_LOG(DEBUG) << "moq session with " << session->peer() << ": no subscription for "
                        << absl::FormatDuration(options_.idle_timeout) << "; closing it to free its slot";
    session->Close(static_cast<uint64_t>(lite::ErrorCode::kTimeout), "idle: no subscription");
  }
  ScheduleIdleSweep();
}

void MoqServer::OnSessionEnded(uint64_t id) {
  if (idle_) idle_->Forget(id);
  sessions_.erase(id);
  board_->EditServe([this](ServeStatus& serve) { serve.sessions = sessions_.size(); });
}

void MoqServer::Stop() {
  stopped_ = true;
  {
    absl::MutexLock lock(&idle_wake_->mu);
    idle_wake_->io = nullptr;
  }
  if (listener_) listener_->Stop();
  // Close may end a session at once; iterate over a copy.
  std::vector<std::shared_ptr<MoqSession>> sessions;
  for (const auto& [id, session] : sessions_) sessions.push_back(session);
  for (const auto& session : sessions) session->Close(0, "the sidecar is shutting down");
}

}  // namespace moq_stats::bridge
