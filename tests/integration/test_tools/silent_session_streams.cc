#include "tests/integration/test_tools/silent_session_streams.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats {
namespace integration {
namespace pb = ::moq::stats::v1;

// One stream: writes its open (if it has one), reads until the end, and
// reports its welcome and its end to the owner. Never half-closes.
class SilentSessionStreams::Stream final : public grpc::ClientBidiReactor<pb::SessionRequest, pb::SessionResponse> {
 public:
  Stream(SilentSessionStreams* owner, const std::string* session_id) : owner_(owner) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + owner->lifetime_));
    owner->stub_->async()->Session(&context_, this);
    if (session_id != nullptr) {
      open_.mutable_open()->set_session_id(*session_id);
      open_.mutable_open()->set_relay("silent");
      StartWrite(&open_);
    }
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the end; OnDone follows
    if (response_.has_welcome()) owner_->Welcomed();
    StartRead(&response_);
  }

  // The last the stream touches itself: the owner may free it as soon as
  // Ended counted it.
  void OnDone(const grpc::Status& status) override { owner_->Ended(status); }

  void Cancel() { context_.TryCancel(); }

 private:
  SilentSessionStreams* const owner_;
  grpc::ClientContext context_;
  pb::SessionRequest open_;
  pb::SessionResponse response_;
};

SilentSessionStreams::SilentSessionStreams(std::shared_ptr<grpc::Channel> channel, absl::Duration lifetime)
    : stub_(pb::StatsService::NewStub(channel)), lifetime_(lifetime) {}

SilentSessionStreams::~SilentSessionStreams() {
  for (auto& stream : streams_) stream->Cancel();
  // Bounded: every stream has a deadline.
  absl::MutexLock lock(&mu_);
  auto all_ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ == static_cast<int>(streams_.size()); };
  mu_.Await(absl::Condition(&all_ended));
}

void SilentSessionStreams::Start(int count, Mode mode, const std::string& id_prefix) {
  for (int i = 0; i < count; ++i) {
    const std::string id = absl::StrCat(id_prefix, i);
    streams_.push_back(std::make_unique<Stream>(this, mode == Mode::kOpenThenSilent ? &id : nullptr));
  }
}

bool SilentSessionStreams::WaitWelcomed(int count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return welcomed_ >= count; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

bool SilentSessionStreams::WaitEnded(int count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ >= count; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

int SilentSessionStreams::welcomed() const {
  absl::MutexLock lock(&mu_);
  return welcomed_;
}

int SilentSessionStreams::ended() const {
  absl::MutexLock lock(&mu_);
  return ended_;
}

std::map<grpc::StatusCode, int> SilentSessionStreams::ended_by_code() const {
  absl::MutexLock lock(&mu_);
  return codes_;
}

void SilentSessionStreams::Welcomed() {
  absl::MutexLock lock(&mu_);
  ++welcomed_;
}

void SilentSessionStreams::Ended(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  ++ended_;
  ++codes_[status.error_code()];
}

}  // namespace integration
}  // namespace moq_stats
