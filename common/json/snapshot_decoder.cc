#include "common/json/snapshot_decoder.h"

#include <string>
#include <utility>

#include "common/json/merge_patch.h"
#include "common/status_macros.h"

namespace moq_stats::json {

SnapshotDecoder::SnapshotDecoder(SnapshotDecoderOptions options) : options_(options), flate_(options.max_frame_size) {}

absl::Status SnapshotDecoder::Snapshot(std::string_view frame) {
  flate_.Reset();
  in_group_ = false;
  ASSIGN_OR_RETURN(Value value, Read(frame));
  value_ = std::move(value);
  in_group_ = true;
  return absl::OkStatus();
}

absl::Status SnapshotDecoder::Delta(std::string_view frame) {
  if (!value_) return absl::FailedPreconditionError("snapshot decoder: delta before snapshot");
  if (!in_group_) return absl::FailedPreconditionError("snapshot decoder: delta after a bad frame of its group");
  in_group_ = false;
  ASSIGN_OR_RETURN(Value patch, Read(frame));
  Apply(&*value_, patch);
  in_group_ = true;
  return absl::OkStatus();
}

absl::StatusOr<Value> SnapshotDecoder::Read(std::string_view frame) {
  if (!options_.compression) return Parse(frame, options_.parse);
  ASSIGN_OR_RETURN(std::string text, flate_.Frame(frame));
  return Parse(text, options_.parse);
}

}  // namespace moq_stats::json
