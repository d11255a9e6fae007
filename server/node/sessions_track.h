#ifndef MOQ_STATS_SERVER_NODE_SESSIONS_TRACK_H_
#define MOQ_STATS_SERVER_NODE_SESSIONS_TRACK_H_

// The frames of one sessions track of the node format (`sessions.json`, or a
// named tier's `<tier>/sessions.json`): each frame a JSON object mapping
// auth root to moq's Presence, keys in byte order:
//
//   {"":{"sessions":2,"sessions_closed":1},"acme":{"sessions":5,"sessions_closed":3}}
//
// The same rule as the traffic tracks (NodeTrack): a root is in a tick's
// frame while live (more sessions opened than closed) or when its counts
// changed since they were last in a frame (a root never in a frame compares
// against zeros); a frame is written only when its text differs from the
// last one.
//
// Sans-IO: counts in, frame text out. Not thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/stats/presence_table.h"

namespace moq_stats::server {

// Appends `p` as moq's Presence object: {"sessions":N,"sessions_closed":M}.
void AppendNodePresence(const Presence& p, std::string* out);

class SessionsTrack {
 public:
  // One auth root's counts in this tick's report.
  using Entry = std::pair<std::string_view, Presence>;

  // The frame for this tick's report (`entries`: every root of this track's
  // tier and broadcast the report holds, in any order, each once), or
  // nullopt when it equals the last frame written. The first tick always
  // gives a frame, `{}` when nothing is in it.
  std::optional<std::string> Tick(std::vector<Entry> entries);

  // Roots remembered for change detection.
  size_t remembered() const { return last_.size(); }

 private:
  absl::flat_hash_map<std::string, Presence> last_;
  std::optional<std::string> last_frame_;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_SESSIONS_TRACK_H_
