#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite {

void AppendString(std::string_view value, std::string* out) {
  AppendVarint(value.size(), out);
  out->append(value.data(), value.size());
}

bool ZigzagEncode(int64_t value, uint64_t* out) {
  constexpr int64_t kRange = int64_t{1} << 61;
  if (value < -kRange || value >= kRange) return false;
  *out = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  return true;
}

int64_t ZigzagDecode(uint64_t value) { return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1); }

ReadStatus WireReader::ReadVarint(uint64_t* value) {
  qmux::VarintRead read = qmux::ReadVarint(data_.substr(pos_));
  if (!read.complete) return ReadStatus::kNeedMore;
  pos_ += read.length;
  *value = read.value;
  return ReadStatus::kOk;
}

ReadStatus WireReader::ReadU8(uint8_t* value) {
  if (empty()) return ReadStatus::kNeedMore;
  *value = static_cast<uint8_t>(data_[pos_++]);
  return ReadStatus::kOk;
}

ReadStatus WireReader::ReadBytes(std::string_view* value) {
  const size_t start = pos_;
  uint64_t length = 0;
  ReadStatus status = ReadVarint(&length);
  if (status != ReadStatus::kOk) return status;
  if (length > remaining()) {
    pos_ = start;
    return ReadStatus::kNeedMore;
  }
  *value = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return ReadStatus::kOk;
}

ReadStatus WireReader::ReadString(std::string_view* value) {
  const size_t start = pos_;
  std::string_view bytes;
  ReadStatus status = ReadBytes(&bytes);
  if (status != ReadStatus::kOk) return status;
  if (!IsValidUtf8(bytes)) {
    pos_ = start;
    error_ = "string is not valid UTF-8";
    return ReadStatus::kError;
  }
  *value = bytes;
  return ReadStatus::kOk;
}

ReadStatus WireReader::ReadLengthPrefixed(std::string_view* body) { return ReadBytes(body); }

}  // namespace moq_stats::lite
