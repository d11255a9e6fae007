#include "tests/integration/test_tools/relay_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats {
namespace integration {
namespace pb = ::moq::stats::v1;

RelayStream::RelayStream(std::shared_ptr<grpc::Channel> channel, absl::Duration lifetime)
    : channel_(std::move(channel)), stub_(pb::StatsService::NewStub(channel_)), lifetime_(lifetime) {}

RelayStream::~RelayStream() {
  if (started() && !finished()) Cancel();
}

void RelayStream::Start() {
  if (started()) return;
  context_.set_deadline(absl::ToChronoTime(absl::Now() + lifetime_));
  // A relay waits for its sidecar to come up rather than failing at once.
  context_.set_wait_for_ready(true);
  stream_ = stub_->Session(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
}

void RelayStream::ReadLoop() {
  pb::SessionResponse response;
  while (stream_->Read(&response)) {
    absl::MutexLock lock(&mu_);
    if (response.has_ack() && response.ack().applied_sequence() > acked_) acked_ = response.ack().applied_sequence();
    responses_.push_back(std::move(response));
    response.Clear();
  }
  absl::MutexLock lock(&mu_);
  ended_ = true;
}

grpc::Status RelayStream::Open(const std::string& session_id, pb::Welcome* welcome, const std::string& relay,
                               absl::Duration timeout) {
  Start();
  pb::SessionRequest request;
  request.mutable_open()->set_session_id(session_id);
  request.mutable_open()->set_relay(relay);
  Write(request);  // a failed write shows as the stream's end below
  std::optional<pb::SessionResponse> response = ReadResponse(timeout);
  if (!response) return Finish(absl::ZeroDuration());
  if (!response->has_welcome()) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("the first response is not a welcome: ", response->ShortDebugString()));
  }
  if (welcome) *welcome = response->welcome();
  return grpc::Status::OK;
}

bool RelayStream::Write(const pb::SessionRequest& request) {
  if (!started() || writes_done_ || finished()) return false;
  return stream_->Write(request);
}

bool RelayStream::Send(const pb::Batch& batch) {
  pb::SessionRequest request;
  *request.mutable_batch() = batch;
  return Write(request);
}

std::optional<pb::SessionResponse> RelayStream::ReadResponse(absl::Duration timeout) {
  if (!started()) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !responses_.empty() || ended_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (responses_.empty()) return std::nullopt;
  pb::SessionResponse response = std::move(responses_.front());
  responses_.pop_front();
  return response;
}

std::optional<pb::Ack> RelayStream::ReadAck(absl::Duration timeout) {
  std::optional<pb::SessionResponse> response = ReadResponse(timeout);
  if (!response || !response->has_ack()) return std::nullopt;
  return response->ack();
}

uint64_t RelayStream::acked() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

grpc::Status RelayStream::WaitAck(uint64_t sequence, absl::Duration timeout) {
  if (!started()) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not started");
  uint64_t acked;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return acked_ >= sequence || ended_; };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    acked = acked_;
    if (acked >= sequence) return grpc::Status::OK;
    if (!ended_) {
      return grpc::Status(
          grpc::StatusCode::DEADLINE_EXCEEDED,
          absl::StrCat("no ack of ", sequence, " within ", absl::FormatDuration(timeout), "; highest ack ", acked));
    }
  }
  grpc::Status status = Finish(absl::ZeroDuration());
  if (status.ok()) {
    return grpc::Status(grpc::StatusCode::UNKNOWN,
                        absl::StrCat("the stream ended with OK before the ack of ", sequence, "; highest ack ", acked));
  }
  return status;
}

void RelayStream::Cancel() {
  if (!started() || finished()) return;
  context_.TryCancel();
  Finish(absl::InfiniteDuration());
}

grpc::Status RelayStream::Close(absl::Duration timeout) {
  if (!started()) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not started");
  if (finished()) return *status_;
  pb::SessionRequest request;
  request.mutable_close();
  Write(request);
  return HalfClose(timeout);
}

grpc::Status RelayStream::HalfClose(absl::Duration timeout) {
  if (!started()) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not started");
  if (finished()) return *status_;
  if (!writes_done_) {
    writes_done_ = true;
    stream_->WritesDone();
  }
  return Finish(timeout);
}

grpc::Status RelayStream::WaitEnd(absl::Duration timeout) {
  if (!started()) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not started");
  return Finish(timeout);
}

grpc::Status RelayStream::Finish(absl::Duration timeout) {
  if (finished()) return *status_;
  bool ended;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_; };
    ended = mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  if (!ended) context_.TryCancel();
  reader_.join();
  grpc::Status status = stream_->Finish();
  status_ = status;
  if (!ended) {
    return grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("the stream did not end within ", absl::FormatDuration(timeout), "; cancelled it"));
  }
  return status;
}

}  // namespace integration
}  // namespace moq_stats
