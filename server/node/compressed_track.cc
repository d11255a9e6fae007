#include "server/node/compressed_track.h"

#include <optional>
#include <utility>

namespace moq_stats::server {

json::SnapshotEncoderOptions CompressedTrack::DefaultOptions() {
  json::SnapshotEncoderOptions options;
  options.compression = true;
  options.delta_ratio = 8;
  options.max_group_frames = 256;
  return options;
}

CompressedTrack::CompressedTrack(TrackProducer* track, json::SnapshotEncoderOptions options)
    : track_(track), encoder_(options) {}

absl::StatusOr<bool> CompressedTrack::Write(json::Value value) {
  absl::StatusOr<std::optional<json::EncodedFrame>> encoded = encoder_.Encode(std::move(value));
  if (!encoded.ok()) return encoded.status();
  if (!encoded->has_value()) return false;
  if (absl::Status s = Put(**std::move(encoded)); !s.ok()) return s;
  return true;
}

absl::Status CompressedTrack::WriteText(std::string_view text, std::string_view patch) {
  absl::StatusOr<json::EncodedFrame> encoded = encoder_.EncodeText(text, patch);
  if (!encoded.ok()) return encoded.status();
  return Put(*std::move(encoded));
}

absl::Status CompressedTrack::Put(json::EncodedFrame frame) {
  const size_t size = frame.payload.size();
  if (frame.snapshot) {
    track_->StartGroup(std::move(frame.payload));
    ++groups_;
  } else if (absl::StatusOr<uint32_t> index = track_->AppendFrame(std::move(frame.payload)); !index.ok()) {
    encoder_.ResyncNext();
    return index.status();
  }
  ++frames_;
  bytes_ += size;
  return absl::OkStatus();
}

}  // namespace moq_stats::server
