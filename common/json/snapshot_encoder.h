#ifndef MOQ_STATS_COMMON_JSON_SNAPSHOT_ENCODER_H_
#define MOQ_STATS_COMMON_JSON_SNAPSHOT_ENCODER_H_

// The encoder of moq-json's snapshot encoding, the format of moq-stats'
// ".json.z" tracks (and, with compression off and delta_ratio 0, of its
// plain ".json" tracks): a track carries a sequence of JSON values as moq
// groups of frames. Frame 0 of a group is a snapshot, the whole value;
// each later frame is a delta, the RFC 7396 merge patch from the previous
// value (common/json/merge_patch.h). Nothing in a payload says which it is:
// its position in the group does. With compression each group is one raw
// DEFLATE stream (common/json/flate.h), so a late joiner needs only the
// latest group, from its frame 0.
//
// Encode decides, for each new value, in this order:
//   1. after ResyncNext, or for the first value: a snapshot;
//   2. a value equal to the last one: nothing;
//   3. a change a merge patch cannot express (MergePatch::forced), or no
//      room for a delta in the group: a snapshot;
//   4. otherwise a delta.
// A group has room for a delta when delta_ratio != 0, it holds fewer than
// max_group_frames frames, and the deltas already in it add up to at most
// delta_ratio times its snapshot (sizes in bytes on the wire, so compressed
// sizes with compression; the delta being decided is not counted, so a
// group ends at most one delta past its budget).
//
// Sans-IO: values in, payloads out; the caller writes each payload to the
// track, opening a new group for a snapshot. If a payload is not written
// (or the caller closes the group itself), it calls ResyncNext.
//
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/json/flate.h"
#include "common/json/value.h"

namespace moq_stats::json {

struct SnapshotEncoderOptions {
  // Compress each group as one raw DEFLATE stream (".json.z" tracks).
  bool compression = false;
  // Delta budget of a group, in multiples of its snapshot's size; 0: every
  // change is a snapshot, one frame per group.
  uint32_t delta_ratio = 8;
  // Most frames in a group, its snapshot included.
  size_t max_group_frames = 256;
};

struct EncodedFrame {
  std::string payload;
  // True: a snapshot, frame 0 of a new group (the previous group is done).
  // False: a delta, the next frame of the open group.
  bool snapshot = false;
};

class SnapshotEncoder {
 public:
  explicit SnapshotEncoder(SnapshotEncoderOptions options = {});

  // The frame that carries `value` after the values before it, or nullopt
  // when it equals the last one and nothing is to be written. Fails only
  // when compression does (out of memory); the next value is then a
  // snapshot.
  //
  // Cost: one walk of the kept value and `value` to diff them (cheapest
  // when their common members come in the same order), then either the
  // patch serialized and applied to the kept value, or `value` serialized
  // once and kept: copied from a const reference, moved from an rvalue. A
  // caller that keeps one large value and changes it in place between
  // calls copies it only when it becomes a snapshot.
  absl::StatusOr<std::optional<EncodedFrame>> Encode(const Value& value) { return Encode(value, nullptr); }
  absl::StatusOr<std::optional<EncodedFrame>> Encode(Value&& value) { return Encode(value, &value); }

  // The same for a caller that keeps the values serialized itself (a large
  // value that changes a little at a time, where diffing the whole value
  // would cost more than the change): `text` is the new value serialized as
  // AppendSerialized writes it, `patch` the serialized RFC 7396 merge patch
  // from the value before (any patch a merge-patch decoder applies to get
  // `text`'s value). Call it only when the value changed; an encoder used
  // this way keeps no value (value() stays null), so never mix it with
  // Encode on one encoder. Cost: the compression of `patch`, or of `text`
  // for a snapshot.
  absl::StatusOr<EncodedFrame> EncodeText(std::string_view text, std::string_view patch);

  // Makes the next Encode a snapshot, even of an unchanged value.
  void ResyncNext() { resync_ = true; }

  // The value the next delta is computed from (the last value encoded, up
  // to member order), or nullptr before the first.
  const Value* value() const { return last_ ? &*last_ : nullptr; }

  // The open group: frames written, its snapshot's size and its deltas'
  // total size, in bytes on the wire.
  size_t group_frames() const { return group_frames_; }
  uint64_t snapshot_bytes() const { return snapshot_bytes_; }
  uint64_t delta_bytes() const { return delta_bytes_; }

 private:
  // `movable`, when set, is `value` and may be moved from.
  absl::StatusOr<std::optional<EncodedFrame>> Encode(const Value& value, Value* movable);
  bool DeltaAllowed() const;
  absl::StatusOr<EncodedFrame> EncodeSnapshot(const Value& value, Value* movable);
  absl::StatusOr<std::string> Compress(std::string text);
  // Starts a group with `payload` (`text`'s size when uncompressed).
  EncodedFrame OpenGroup(std::string payload);

  const SnapshotEncoderOptions options_;
  std::optional<Value> last_;
  FlateEncoder flate_;
  bool resync_ = false;
  size_t group_frames_ = 0;
  uint64_t snapshot_bytes_ = 0;
  uint64_t delta_bytes_ = 0;
  size_t last_snapshot_text_size_ = 0;  // to size the next one's buffer
};

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_SNAPSHOT_ENCODER_H_
