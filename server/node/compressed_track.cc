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
  json::EncodedFrame& frame = **encoded;
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
  return true;
}

}  // namespace moq_stats::server
