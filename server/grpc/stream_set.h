#ifndef MOQ_STATS_SERVER_GRPC_STREAM_SET_H_
#define MOQ_STATS_SERVER_GRPC_STREAM_SET_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"

namespace moq_stats::server {

// The long-lived streams a service has open, so that a graceful shutdown can
// end them all at once instead of waiting for its deadline. Streams add
// themselves when created and remove themselves in OnDone.
//
// Safe for concurrent access from multiple threads.
class StreamSet {
 public:
  using Ender = std::function<void(const grpc::Status&)>;

  // `key` identifies the stream (its address); `end` ends it.
  void Add(const void* key, Ender end);
  void Remove(const void* key);
  size_t size() const;

  // Ends every stream with `status`. Streams added later are ended at once.
  void EndAll(const grpc::Status& status);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<const void*, Ender> streams_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// A handle on a reactor that callbacks may hold past its life (the origin's
// notifications, the registry's take-over, a StreamSet's ender): what Bind
// returns runs its function on the stream only until Clear, which the stream
// calls first thing in OnDone before freeing itself. No lock of the link is
// held while the function runs, so it may take any lock (and callbacks of
// one stream may run at once on several threads: the stream's own locks
// order them); Clear waits for the running ones to return, so it must not
// be called from one.
//
// Safe for concurrent access from multiple threads.
template <typename Stream>
class StreamLink {
 public:
  explicit StreamLink(Stream* stream) : state_(std::make_shared<State>()) {
    absl::MutexLock lock(&state_->mu);
    state_->stream = stream;
  }

  // A callable that does `fn(stream, args...)` while the stream lives and
  // nothing after Clear. Holds the stream weakly.
  template <typename Fn>
  auto Bind(Fn fn) const {
    return [weak = std::weak_ptr<State>(state_), fn = std::move(fn)](auto&&... args) {
      std::shared_ptr<State> state = weak.lock();
      if (!state) return;
      Stream* stream;
      {
        absl::MutexLock lock(&state->mu);
        if (state->stream == nullptr) return;
        stream = state->stream;
        ++state->running;
      }
      fn(*stream, std::forward<decltype(args)>(args)...);
      absl::MutexLock lock(&state->mu);
      --state->running;
    };
  }

  // Bound callables do nothing from now on; returns once none is running.
  void Clear() const {
    absl::MutexLock lock(&state_->mu);
    state_->stream = nullptr;
    state_->mu.Await(absl::Condition(
        +[](int* running) { return *running == 0; }, &state_->running));
  }

 private:
  struct State {
    absl::Mutex mu;
    Stream* stream ABSL_GUARDED_BY(mu) = nullptr;
    int running ABSL_GUARDED_BY(mu) = 0;  // bound callables inside fn now
  };
  const std::shared_ptr<State> state_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_GRPC_STREAM_SET_H_
