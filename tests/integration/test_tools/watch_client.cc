#include "tests/integration/test_tools/watch_client.h"

#include <algorithm>
#include <utility>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/test_tools/count_model.h"

namespace moq_stats {
namespace integration {
namespace pb = ::moq::stats::v1;

WatchClient::WatchClient(std::shared_ptr<grpc::Channel> channel, const std::string& prefix, absl::Duration lifetime)
    : stub_(pb::StatsService::NewStub(channel)) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + lifetime));
  request_.set_prefix(prefix);
  stream_ = stub_->Watch(&context_, request_);
  reader_ = std::thread([this] { ReadLoop(); });
}

WatchClient::~WatchClient() { Cancel(); }

void WatchClient::ReadLoop() {
  pb::WatchEvent event;
  while (stream_->Read(&event)) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
    event.Clear();
  }
  absl::MutexLock lock(&mu_);
  ended_ = true;
}

bool WatchClient::WaitFor(const std::function<bool(const Events&)>& done, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  // Evaluated under mu_ each time an event arrives (the reader's unlock
  // re-checks the condition).
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ || done(events_); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return done(events_);
}

WatchClient::Events WatchClient::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

grpc::Status WatchClient::Cancel() {
  if (finished_) return status_;
  context_.TryCancel();
  reader_.join();
  status_ = stream_->Finish();
  finished_ = true;
  return status_;
}

grpc::Status WatchClient::WaitEnd(absl::Duration timeout) {
  if (finished_) return status_;
  bool ended;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_; };
    ended = mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  grpc::Status status = Cancel();
  if (!ended) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        absl::StrCat("the watch did not end within ", absl::FormatDuration(timeout)));
  }
  return status;
}

UnreadWatch::UnreadWatch(std::shared_ptr<grpc::Channel> channel, const std::string& prefix, absl::Duration lifetime)
    : stub_(pb::StatsService::NewStub(channel)) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + lifetime));
  pb::WatchRequest request;
  request.set_prefix(prefix);
  stream_ = stub_->Watch(&context_, request);
}

UnreadWatch::~UnreadWatch() {
  if (finished_) return;
  context_.TryCancel();
  stream_->Finish();
}

UnreadWatch::Outcome UnreadWatch::ReadToEnd(absl::Duration quiet, absl::Duration timeout) {
  Outcome outcome;
  if (finished_) return outcome;
  absl::Mutex mu;
  bool ended = false;
  size_t events = 0;
  std::thread reader([&] {
    pb::WatchEvent event;
    while (stream_->Read(&event)) {
      absl::MutexLock lock(&mu);
      ++events;
    }
    absl::MutexLock lock(&mu);
    ended = true;
  });
  {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu);
    for (;;) {
      const size_t seen = events;
      auto moved = [&] { return ended || events != seen; };
      if (!mu.AwaitWithDeadline(absl::Condition(&moved), std::min(deadline, absl::Now() + quiet))) break;
      if (ended || absl::Now() >= deadline) break;
    }
    outcome.ended = ended;
  }
  if (!outcome.ended) context_.TryCancel();
  reader.join();
  outcome.events = events;
  outcome.status = stream_->Finish();
  finished_ = true;
  return outcome;
}

BroadcastHistory HistoryOf(const WatchClient::Events& events, const std::string& path) {
  BroadcastHistory history;
  for (const pb::WatchEvent& event : events) {
    if (event.has_announce() && event.announce().path() == path) {
      if (event.announce().active()) {
        history.announced = true;
      } else {
        history.ended = true;
        break;
      }
    } else if (event.has_frame() && event.frame().path() == path) {
      history.frames.push_back(event.frame());
    }
  }
  return history;
}

FrameCounts ParseFrameCounts(const std::string& payload) {
  google::protobuf::Struct json;
  FrameCounts out;
  if (!google::protobuf::util::JsonStringToMessage(payload, &json).ok()) return out;
  auto number = [&json](const char* name) -> uint64_t {
    auto it = json.fields().find(name);
    return it == json.fields().end() ? 0 : static_cast<uint64_t>(it->second.number_value());
  };
  out.snapshot = MakeSnapshot(number("broadcasts"), number("broadcasts_closed"), number("subscriptions"),
                              number("subscriptions_closed"), number("bytes"), number("frames"), number("groups"));
  out.ok = true;
  return out;
}

std::string Summarize(const WatchClient::Events& events) {
  std::string out = absl::StrCat(events.size(), " watch events:\n");
  for (const pb::WatchEvent& event : events) {
    if (event.has_announce()) {
      absl::StrAppend(&out, "  ", event.announce().active() ? "+" : "-", event.announce().path(), "\n");
    } else {
      absl::StrAppend(&out, "  ", event.frame().path(), " ", event.frame().track(), " #", event.frame().sequence(), " ",
                      event.frame().payload(), "\n");
    }
  }
  return out;
}

}  // namespace integration
}  // namespace moq_stats
