#ifndef MOQ_STATS_SERVER_NODE_COMPRESSED_TRACK_H_
#define MOQ_STATS_SERVER_NODE_COMPRESSED_TRACK_H_

// The compressed sibling `<name>.json.z` of a node-format track: the same
// JSON values as the plain track, in moq-json's snapshot encoding with
// compression (common/json/snapshot_encoder.h) and moq's defaults for when
// a new group starts (delta_ratio 8, at most 256 frames per group). A
// snapshot opens a new group on the origin track (TrackProducer::StartGroup)
// and each delta is appended to it (AppendFrame), so a subscriber needs only
// the latest group, from its frame 0, to rebuild the current value.
//
// A value equal to the last one writes nothing. A payload the track does not
// take (its group is full) is dropped and the next value starts a new group.
//
// Not thread-safe: the node publisher calls it under its lock.

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "common/json/snapshot_encoder.h"
#include "common/json/value.h"
#include "origin/origin.h"

namespace moq_stats::server {

class CompressedTrack {
 public:
  // moq's defaults for `.json.z` tracks.
  static json::SnapshotEncoderOptions DefaultOptions();

  // `track` is borrowed and must outlive this.
  explicit CompressedTrack(TrackProducer* track, json::SnapshotEncoderOptions options = DefaultOptions());

  // Writes the frame that carries `value` after the values before it.
  // Returns whether a frame was written. An error (compression failed, or
  // the track refused the frame) writes nothing and makes the next value a
  // snapshot.
  absl::StatusOr<bool> Write(json::Value value);

  // The same for a track whose values come serialized, with their merge
  // patch from the value before (NodeTrack's frames): `text` the new
  // value, changed since the last one, and `patch` the patch. A track is
  // written one way or the other, never both (SnapshotEncoder::EncodeText).
  absl::Status WriteText(std::string_view text, std::string_view patch);

  // Groups started and frames written so far.
  uint64_t groups() const { return groups_; }
  uint64_t frames() const { return frames_; }
  // Payload bytes written so far.
  uint64_t bytes() const { return bytes_; }

 private:
  // Writes an encoded frame: a snapshot opens a group, a delta is appended.
  absl::Status Put(json::EncodedFrame frame);

  TrackProducer* const track_;
  json::SnapshotEncoder encoder_;
  uint64_t groups_ = 0;
  uint64_t frames_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_NODE_COMPRESSED_TRACK_H_
