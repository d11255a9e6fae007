#ifndef MOQSTATS_SERVER_STREAM_SET_H_
#define MOQSTATS_SERVER_STREAM_SET_H_

#include <cstddef>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"

namespace moqstats {

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

}  // namespace moqstats

#endif  // MOQSTATS_SERVER_STREAM_SET_H_
