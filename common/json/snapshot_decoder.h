#ifndef MOQ_STATS_COMMON_JSON_SNAPSHOT_DECODER_H_
#define MOQ_STATS_COMMON_JSON_SNAPSHOT_DECODER_H_

// The decoder of moq-json's snapshot encoding (see snapshot_encoder.h): one
// per track subscription. The caller routes each frame by its position in
// its moq group: frame 0 to Snapshot, the later ones, in order, to Delta.
// A subscriber may start at any group (a late joiner starts at the latest
// one) but not in the middle of one.
//
// Sans-IO. Not thread-safe.

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "common/json/flate.h"
#include "common/json/parse.h"
#include "common/json/value.h"

namespace moq_stats::json {

struct SnapshotDecoderOptions {
  // The frames are DEFLATE-compressed (".json.z" tracks).
  bool compression = false;
  // Most bytes one compressed frame may inflate to.
  size_t max_frame_size = FlateDecoder::kDefaultMaxFrameSize;
  ParseOptions parse;
};

class SnapshotDecoder {
 public:
  explicit SnapshotDecoder(SnapshotDecoderOptions options = {});

  // Frame 0 of a group: starts the group's DEFLATE stream and replaces the
  // value with the frame's. InvalidArgument (or ResourceExhausted, see
  // FlateDecoder) for bytes that are not a compressed JSON value; the
  // value is then kept and deltas are refused until the next snapshot.
  absl::Status Snapshot(std::string_view frame);

  // A later frame of the group: merges the frame's patch into the value.
  // FailedPrecondition before any snapshot, or after a frame of this group
  // failed; InvalidArgument / ResourceExhausted for bad bytes (the value is
  // kept as it was before the frame; deltas are refused until the next
  // snapshot).
  absl::Status Delta(std::string_view frame);

  // The value after the last good frame; nullopt before the first snapshot.
  const std::optional<Value>& value() const { return value_; }

 private:
  absl::StatusOr<Value> Read(std::string_view frame);

  const SnapshotDecoderOptions options_;
  FlateDecoder flate_;
  std::optional<Value> value_;
  bool in_group_ = false;  // every frame of the current group so far was good
};

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_SNAPSHOT_DECODER_H_
