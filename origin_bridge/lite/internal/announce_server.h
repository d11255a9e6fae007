#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_ANNOUNCE_SERVER_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_ANNOUNCE_SERVER_H_

// AnnounceServer answers the peer's Announce streams: one origin
// AnnouncementConsumer per stream, its news written as ANNOUNCE messages.
//
// - lite-05: ANNOUNCE_OK{origin id, number of active broadcasts} and one
//   ANNOUNCE(active) each, written together; hops are empty (a leaf: the
//   receiver appends our id from ANNOUNCE_OK).
// - lite-03/04: no first message; every broadcast is announced as it is
//   read, with our origin id as the only hop (lite-03 carries the count).
// - Then every change; an ended broadcast is ANNOUNCE(ended) without hops.
// - exclude_hop from ANNOUNCE_REQUEST is kept but filters nothing: it
//   filters on a broadcast's hop chain, and the broadcasts here are local,
//   with no hop chain that could contain the peer.
//
// Used on the session's thread only.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/path.h"
#include "origin/origin.h"
#include "origin_bridge/lite/internal/session_context.h"
#include "origin_bridge/lite/messages.h"

namespace moq_stats::lite::internal {

class AnnounceServer {
 public:
  // `ctx` is borrowed and must outlive this.
  explicit AnnounceServer(SessionContext* ctx) : ctx_(ctx) {}
  ~AnnounceServer() { Clear(); }
  AnnounceServer(const AnnounceServer&) = delete;
  AnnounceServer& operator=(const AnnounceServer&) = delete;

  // Starts serving `request` on the peer's bidirectional stream `stream`.
  void Start(uint64_t stream, const AnnounceRequest& request);

  // Writes what the consumer of `stream` holds. False if `stream` is not an
  // announce stream served here.
  bool Drain(uint64_t stream);

  // Forgets `stream` (its consumer is released; nothing is written).
  void Stop(uint64_t stream);

  // Forgets every stream.
  void Clear();

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Path prefix;
    uint64_t exclude_hop = 0;
    std::unique_ptr<AnnouncementConsumer> consumer;
    absl::flat_hash_set<std::string> active;  // Full paths announced as active.
  };

  // Appends the ANNOUNCE for `announcement` to `out` and updates the books;
  // false when there is nothing to send (an end for a path never announced).
  bool Append(Entry& entry, const Announcement& announcement, std::string* out);
  void CountActive(const std::string& path, bool active);

  SessionContext* const ctx_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> entries_;
  // Over every stream: path -> number of streams announcing it now.
  absl::flat_hash_map<std::string, uint64_t> announced_;
};

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_ANNOUNCE_SERVER_H_
