#include "client/src/client_core.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/src/channel_security.h"
#include "common/path.h"

namespace moq_stats {
namespace internal {
namespace pb = ::moq::stats::v1;

namespace {

std::string RandomSessionId() {
  std::random_device rd;
  std::mt19937_64 rng((uint64_t{rd()} << 32) ^ rd());
  uint64_t a = rng(), b = rng();
  // A version-4 UUID.
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

absl::Duration ToDuration(std::chrono::milliseconds ms) { return absl::Milliseconds(ms.count()); }

// The most bytes of one part of a resync sent in parts.
constexpr size_t kResyncPartBytes = size_t{4} << 20;

}  // namespace

// The transport: one Session stream. Reports everything to the core; freed
// in OnDone after telling the core.
class ClientCore::Stream final : public grpc::ClientBidiReactor<pb::SessionRequest, pb::SessionResponse> {
 public:
  explicit Stream(ClientCore* core) : core_(core) {}

  void Start(pb::StatsService::Stub* stub, const pb::SessionRequest& open) {
    open_ = open;
    stub->async()->Session(&context_, this);
    // The core starts writes from its flusher thread, outside any reaction:
    // the hold keeps gRPC from finishing the call until the read side has
    // ended and no such write can start any more (see Write).
    AddHold();
    StartWrite(&open_);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  // Starts writing `request`, which must live until OnWriteDone; false when
  // the stream is ending and nothing can be written.
  bool Write(const pb::SessionRequest* request, bool last) {
    absl::MutexLock lock(&write_mu_);
    if (ending_) return false;
    if (last) {
      StartWriteLast(request, grpc::WriteOptions());
    } else {
      StartWrite(request);
    }
    return true;
  }

  // gRPC holds one reference until OnDone; the core takes one while it
  // cancels. The last one deletes the stream and then tells the core, so the
  // core can wait until the stream's context (and its hold on the channel)
  // is gone.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    ClientCore* core = core_;
    delete this;
    core->OnStreamDeleted();
  }

  void OnWriteDone(bool ok) override { core_->OnWriteDone(this, ok); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      // The stream is ending: no write may start after this, and OnDone
      // may follow once the hold is gone.
      {
        absl::MutexLock lock(&write_mu_);
        ending_ = true;
      }
      RemoveHold();
      return;
    }
    if (response_.has_welcome()) {
      core_->OnWelcome(this, response_.welcome());
    } else if (response_.has_ack()) {
      core_->OnAck(this, response_.ack().applied_sequence());
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    core_->OnStreamDone(this, status);
    Unref();
  }

 private:
  ClientCore* const core_;
  std::atomic<int> refs_{1};
  absl::Mutex write_mu_;
  bool ending_ ABSL_GUARDED_BY(write_mu_) = false;
  grpc::ClientContext context_;
  pb::SessionRequest open_;
  pb::SessionResponse response_;
};

ClientCore::ClientCore(std::string target, Options options)
    : target_(std::move(target)),
      options_(std::move(options)),
      session_id_(options_.session_id.empty() ? RandomSessionId() : options_.session_id),
      prefix_(moq_stats::Path(options_.prefix).str()),
      state_(options_.max_batch_entries, options_.max_inflight_batches),
      backoff_(ToDuration(options_.reconnect_min)),
      rng_(std::random_device{}()) {
  grpc::ChannelArguments args;
  // Our own backoff paces the streams; the channel should try to connect
  // again promptly when asked.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(options_.reconnect_min.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.reconnect_max.count()));
  absl::StatusOr<ChannelSecurity> security = LoadChannelSecurity(
      {options_.auth_token_file, options_.tls_ca_file, options_.tls_cert_file, options_.tls_key_file});
  if (security.ok()) {
    channel_ = NewSecuredChannel(target_, *security, args);
  } else {
    // Streams go out without the credentials and are refused; the reason
    // stays visible.
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
    absl::MutexLock lock(&mu_);
    last_error_ = absl::StrCat("credentials: ", security.status().message());
  }
  stub_ = pb::StatsService::NewStub(channel_);
  flusher_ = std::thread([this] { FlusherLoop(); });
}

ClientCore::~ClientCore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    sending_ = false;
    wake_ = true;
  }
  flusher_.join();
  Stream* stream = nullptr;
  {
    absl::MutexLock lock(&mu_);
    // stream_ is cleared (under mu_) before gRPC lets go of the stream, so a
    // reference taken here keeps it alive through the cancel.
    stream = stream_;
    if (stream) stream->Ref();
  }
  if (stream) {
    stream->Cancel();
    stream->Unref();
  }
  // Every stream must be deleted (its context holds the channel) before the
  // channel goes with this core.
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* alive) { return *alive == 0; }, &streams_alive_));
}

std::shared_ptr<Handle> ClientCore::GetHandle(std::string_view raw, Tier tier, std::string_view label, bool presence) {
  if (!moq_stats::ValidatePath(raw).ok()) return nullptr;
  moq_stats::Path path(raw);
  // An auth root is no broadcast: the stats prefix does not apply to it.
  if (!presence && !prefix_.empty() && path.has_prefix(moq_stats::Path(prefix_))) return nullptr;
  absl::MutexLock lock(&mu_);
  auto key = std::make_tuple(path.str(), tier, std::string(label), presence);
  auto it = handles_.find(key);
  if (it != handles_.end()) return it->second;
  auto handle = std::make_shared<Handle>(path.str(), tier, next_handle_id_++, std::string(label), presence);
  handles_.emplace(key, handle);
  state_.Track(handle);
  return handle;
}

void ClientCore::FlusherLoop() {
  for (;;) {
    Stream* to_start = nullptr;
    pb::SessionRequest open;
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), ToDuration(options_.flush_interval));
      wake_ = false;
      if (stopping_ && !sending_) return;
      to_start = RoundLocked();
      if (to_start) {
        open.mutable_open()->set_session_id(session_id_);
        open.mutable_open()->set_relay(options_.relay_name);
      }
    }
    if (to_start) to_start->Start(stub_.get(), open);
    KickWrite();
  }
}

ClientCore::Stream* ClientCore::RoundLocked() {
  ReleaseUnreferencedLocked();
  if (!sending_) return nullptr;
  if (stream_ == nullptr) {
    if (absl::Now() < next_attempt_) return nullptr;
    stream_ = new Stream(this);
    ++streams_alive_;
    welcomed_ = false;
    // The stream starts by writing its open: no other write until it is done.
    writing_ = true;
    open_in_flight_ = true;
    ++streams_opened_;
    return stream_;
  }
  if (welcomed_ && !close_queued_) QueueLocked(state_.Collect());
  return nullptr;
}

void ClientCore::ReleaseUnreferencedLocked() {
  // A handle nobody else references can only be handed out again by
  // GetHandle (under mu_): drop it from the table,
  // so a later broadcast() of the path makes a new handle, and let the
  // session send its last counts and release it.
  for (auto it = handles_.begin(); it != handles_.end();) {
    // The library itself holds two references: this table's and the
    // session state's.
    if (it->second.use_count() == 2) {
      state_.Release(it->second->id);
      it = handles_.erase(it);
    } else {
      ++it;
    }
  }
}

void ClientCore::QueueLocked(std::vector<pb::Batch> batches) {
  for (pb::Batch& batch : batches) {
    deltas_sent_ += static_cast<uint64_t>(batch.deltas_size());
    ++batches_sent_;
    Request request;
    *request.mutable_batch() = std::move(batch);
    writes_.push_back(std::move(request));
  }
}

void ClientCore::KickWrite() {
  Stream* stream;
  const Request* request;
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || writes_.empty() || stream_ == nullptr || !welcomed_) return;
    writing_ = true;
    stream = stream_;
    // Alive until Unref: stream_ is cleared under mu_ before gRPC lets go.
    stream->Ref();
    // Stays in writes_ until its OnWriteDone (writes_ is only cleared once
    // the stream is done, after every write completed).
    request = &writes_.front();
  }
  if (!stream->Write(request, request->has_close())) {
    // The stream is ending; OnStreamDone resets the writing state.
  }
  stream->Unref();
}

void ClientCore::OnWelcome(Stream* stream, const pb::Welcome& welcome) {
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_) return;
    welcomed_ = true;
    backoff_ = ToDuration(options_.reconnect_min);
    // The sidecar refuses batches over its limit: stay within it.
    uint32_t entries = options_.max_batch_entries;
    if (welcome.limits().max_batch_entries() != 0) entries = std::min(entries, welcome.limits().max_batch_entries());
    state_.SetMaxBatchEntries(entries);
    // Writes queued for the old stream are replaced by what the session
    // state says to resend. (None of them is in flight: only the open can
    // be, and it is not in writes_.)
    writes_.clear();
    // A sidecar that takes a resync in parts gets one whose parts fit its
    // 16 MiB message cap with room to spare; an older one gets one batch.
    state_.SetResyncPartBytes(welcome.resync_parts() ? kResyncPartBytes : 0);
    state_.SetSessionPresence(welcome.session_presence());
    QueueLocked(state_.OnWelcome(welcome.resumed(), welcome.applied_sequence(), welcome.expired_applied_sequence()));
    if (close_queued_) {
      Request close;
      close.mutable_close();
      writes_.push_back(std::move(close));
    }
  }
  KickWrite();
}

void ClientCore::OnAck(Stream* stream, uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (stream != stream_) return;
  state_.OnAck(sequence);
  // Shutdown waits for the last counts: send them as soon as there is room
  // for them in flight, rather than at the next flush interval.
  if (stopping_) wake_ = true;
}

void ClientCore::OnWriteDone(Stream* stream, bool ok) {
  {
    absl::MutexLock lock(&mu_);
    if (stream != stream_) return;
    writing_ = false;
    if (!ok) return;  // the stream is ending; OnStreamDone follows
    if (open_in_flight_) {
      open_in_flight_ = false;  // the open is not in writes_
    } else if (!writes_.empty()) {
      writes_.pop_front();
    }
  }
  KickWrite();
}

void ClientCore::OnStreamDone(Stream* stream, const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  if (stream != stream_) return;
  stream_ = nullptr;
  welcomed_ = false;
  writing_ = false;
  open_in_flight_ = false;
  writes_.clear();
  if (close_queued_ && status.ok()) {
    sending_ = false;  // the session is closed
    return;
  }
  last_error_ = absl::StrCat("stream to ", target_,
                             " ended: ", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                             status.error_message().empty() ? "" : ": ", status.error_message());
  // Back off with jitter, doubling up to the maximum.
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  next_attempt_ = absl::Now() + backoff_ * jitter(rng_);
  backoff_ = std::min(backoff_ * 2, ToDuration(options_.reconnect_max));
}

void ClientCore::OnStreamDeleted() {
  absl::MutexLock lock(&mu_);
  --streams_alive_;
}

bool ClientCore::Shutdown(std::chrono::milliseconds deadline) {
  const absl::Time until = absl::Now() + ToDuration(deadline);
  bool flushed;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // Collect what is pending now, not at the next flush interval; from here
    // on every ack wakes the flusher too (OnAck). A condition must not wake
    // it: absl evaluates conditions whenever mu_ is released, so the flusher
    // releasing mu_ would wake it again, without end.
    wake_ = true;
    // Everything flushed and acknowledged, or the deadline.
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !sending_ || (welcomed_ && state_.Idle()); };
    flushed = mu_.AwaitWithDeadline(absl::Condition(&idle), until) && sending_;
    if (flushed && !close_queued_) {
      close_queued_ = true;
      Request close;
      close.mutable_close();
      writes_.push_back(std::move(close));
    }
  }
  KickWrite();
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !sending_; };
    closed = mu_.AwaitWithDeadline(absl::Condition(&done), until);
    sending_ = false;
    wake_ = true;
  }
  return flushed && closed;
}

ClientCounters ClientCore::counters() const {
  absl::MutexLock lock(&mu_);
  ClientCounters c;
  c.connected = stream_ != nullptr && welcomed_;
  c.batches_sent = batches_sent_;
  c.batches_acked = state_.batches_acked();
  c.deltas_sent = deltas_sent_;
  c.reconnects = streams_opened_ > 0 ? streams_opened_ - 1 : 0;
  c.resyncs = state_.resyncs();
  c.live_handles = handles_.size();
  c.pending_batches = state_.inflight();
  c.last_error = last_error_;
  return c;
}

}  // namespace internal
}  // namespace moq_stats
