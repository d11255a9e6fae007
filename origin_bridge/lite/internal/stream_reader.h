#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_STREAM_READER_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_STREAM_READER_H_

// StreamReader buffers the bytes one moq-lite stream delivered so far and
// hands out what they hold: the stream's leading type varint, then
// length-prefixed messages decoded by the stateless codecs of messages.h.
// A message whose declared length exceeds the reader's limit is refused
// before its body arrives (BoundsExceeded), so a peer cannot make the buffer
// grow past about one message. Shared by the publisher session and the test
// subscriber. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite::internal {

class StreamReader {
 public:
  explicit StreamReader(size_t max_message_size) : max_message_size_(max_message_size) {}

  void Append(std::string_view data) {
    if (pos_ > 0 && pos_ == buffer_.size()) {
      buffer_.clear();
      pos_ = 0;
    } else if (pos_ > 4096 && pos_ * 2 > buffer_.size()) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    buffer_.append(data.data(), data.size());
  }

  // Bytes received and not yet taken.
  std::string_view pending() const { return std::string_view(buffer_).substr(pos_); }
  bool empty() const { return pos_ == buffer_.size(); }

  // Reads one varint (a stream type, a frame field).
  ReadStatus ReadVarint(uint64_t* value) {
    WireReader reader(pending());
    const ReadStatus status = reader.ReadVarint(value);
    if (status == ReadStatus::kOk) pos_ += reader.consumed();
    return status;
  }

  // Takes `n` raw bytes (n <= pending().size()).
  void Skip(size_t n) { pos_ += n; }

  // Decodes the next message with `decode`. `typed` says the message starts
  // with a type varint before its length (the subscribe responses).
  template <typename T>
  DecodeResult<T> Next(Version version, DecodeResult<T> (*decode)(Version, std::string_view), bool typed = false) {
    const std::string_view bytes = pending();
    WireReader peek(bytes);
    uint64_t value = 0;
    if (typed && peek.ReadVarint(&value) != ReadStatus::kOk) return {};
    if (peek.ReadVarint(&value) != ReadStatus::kOk) return {};
    if (value > max_message_size_) {
      DecodeResult<T> result;
      result.status = DecodeStatus::kError;
      result.code = ErrorCode::kBoundsExceeded;
      result.reason = absl::StrCat("message of ", value, " bytes exceeds the limit of ", max_message_size_);
      return result;
    }
    DecodeResult<T> result = decode(version, bytes);
    if (result.ok()) pos_ += result.consumed;
    return result;
  }

 private:
  size_t max_message_size_;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_STREAM_READER_H_
