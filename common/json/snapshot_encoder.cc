#include "common/json/snapshot_encoder.h"

#include <utility>

#include "common/json/merge_patch.h"
#include "common/json/serialize.h"
#include "common/status_macros.h"

namespace moq_stats::json {

SnapshotEncoder::SnapshotEncoder(SnapshotEncoderOptions options) : options_(options) {}

absl::StatusOr<std::optional<EncodedFrame>> SnapshotEncoder::Encode(const Value& value, Value* movable) {
  if (resync_ || !last_) return EncodeSnapshot(value, movable);
  MergePatch diff = Diff(*last_, value);
  if (diff.unchanged()) return std::nullopt;
  if (diff.forced || !DeltaAllowed()) return EncodeSnapshot(value, movable);

  auto payload = Compress(Serialize(diff.patch));
  if (!payload.ok()) {
    resync_ = true;
    return payload.status();
  }
  delta_bytes_ += payload->size();
  ++group_frames_;
  Apply(&*last_, diff.patch);
  return EncodedFrame{*std::move(payload), /*snapshot=*/false};
}

bool SnapshotEncoder::DeltaAllowed() const {
  return options_.delta_ratio != 0 && group_frames_ >= 1 && group_frames_ < options_.max_group_frames &&
         delta_bytes_ <= uint64_t{options_.delta_ratio} * snapshot_bytes_;
}

absl::StatusOr<EncodedFrame> SnapshotEncoder::EncodeSnapshot(const Value& value, Value* movable) {
  std::string text;
  text.reserve(last_snapshot_text_size_ + last_snapshot_text_size_ / 8);
  AppendSerialized(value, &text);
  last_snapshot_text_size_ = text.size();
  flate_.Reset();
  auto payload = Compress(std::move(text));
  if (!payload.ok()) {
    resync_ = true;
    return payload.status();
  }
  if (movable != nullptr) {
    last_ = std::move(*movable);
  } else {
    last_ = value;
  }
  return OpenGroup(*std::move(payload));
}

absl::StatusOr<EncodedFrame> SnapshotEncoder::EncodeText(std::string_view text, std::string_view patch) {
  const bool snapshot = resync_ || !DeltaAllowed();
  if (snapshot) flate_.Reset();
  absl::StatusOr<std::string> payload =
      options_.compression ? flate_.Frame(snapshot ? text : patch) : std::string(snapshot ? text : patch);
  if (!payload.ok()) {
    resync_ = true;
    return payload.status();
  }
  if (snapshot) return OpenGroup(*std::move(payload));
  delta_bytes_ += payload->size();
  ++group_frames_;
  return EncodedFrame{*std::move(payload), /*snapshot=*/false};
}

EncodedFrame SnapshotEncoder::OpenGroup(std::string payload) {
  resync_ = false;
  group_frames_ = 1;
  snapshot_bytes_ = payload.size();
  delta_bytes_ = 0;
  return EncodedFrame{std::move(payload), /*snapshot=*/true};
}

absl::StatusOr<std::string> SnapshotEncoder::Compress(std::string text) {
  if (!options_.compression) return text;
  return flate_.Frame(text);
}

}  // namespace moq_stats::json
