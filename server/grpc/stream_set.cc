#include "server/grpc/stream_set.h"

#include <utility>
#include <vector>

namespace moq_stats::server {

void StreamSet::Add(const void* key, Ender end) {
  grpc::Status end_now;
  {
    absl::MutexLock lock(&mu_);
    if (!ended_) {
      streams_.emplace(key, std::move(end));
      return;
    }
    end_now = status_;
  }
  end(end_now);
}

void StreamSet::Remove(const void* key) {
  absl::MutexLock lock(&mu_);
  streams_.erase(key);
}

size_t StreamSet::size() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

void StreamSet::EndAll(const grpc::Status& status) {
  std::vector<Ender> enders;
  {
    absl::MutexLock lock(&mu_);
    ended_ = true;
    status_ = status;
    for (auto& [key, end] : streams_) enders.push_back(end);
  }
  // Outside the lock: ending a stream may lead to its Remove.
  for (auto& end : enders) end(status);
}

}  // namespace moq_stats::server
