#ifndef MOQ_STATS_COMMON_JSON_FLATE_H_
#define MOQ_STATS_COMMON_JSON_FLATE_H_

// Group-scoped raw DEFLATE, as moq-flate (Rust) and @moq/flate (JS) frame
// it: one raw DEFLATE stream (RFC 1951: no zlib or gzip wrapper, 32 KiB
// window, no dictionary) per moq group, each frame of the group compressed
// into that stream and ended with a sync flush, so a frame is byte-aligned
// and later frames back-reference earlier ones. The sync flush always ends
// in the empty stored block 00 00 FF FF; the encoder strips those four
// bytes from each frame and the decoder appends them again before
// inflating (the trick of RFC 7692). The stream is never finished. An empty
// payload is an empty frame and back.
//
// Sans-IO: bytes in, bytes out. Neither class is thread-safe. Copying is
// deleted because a zlib stream cannot be copied cheaply; moving is fine.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moq_stats::json {

// Compresses the frames of one group; Reset starts the next group's stream.
// zlib level 6 (the default), 15-bit window, memLevel 8, default strategy,
// as moq-flate and @moq/flate. The bytes are canonical zlib's, which
// @moq/flate matches on small payloads (the node-format notes' worked
// group) but not on larger ones: its pako 3 hashes with a faster function
// by default and so picks other matches (pako's `legacyHash: true` gives
// zlib's bytes). Every such stream decodes the same everywhere.
class FlateEncoder {
 public:
  static constexpr int kDefaultLevel = 6;

  explicit FlateEncoder(int level = kDefaultLevel);
  ~FlateEncoder();
  FlateEncoder(FlateEncoder&&) noexcept;
  FlateEncoder& operator=(FlateEncoder&&) noexcept;
  FlateEncoder(const FlateEncoder&) = delete;
  FlateEncoder& operator=(const FlateEncoder&) = delete;

  // The next frame of the stream: `payload` deflated and sync-flushed,
  // without the trailing 00 00 FF FF. Fails only when zlib does (out of
  // memory); the stream must then be Reset.
  absl::StatusOr<std::string> Frame(std::string_view payload);

  // Drops the stream's window: the next frame starts a new stream.
  void Reset();

 private:
  struct Stream;
  int level_;
  std::unique_ptr<Stream> stream_;  // created on the first frame
};

// Decompresses the frames of one group, which must be fed in order from the
// group's first frame; Reset before the next group's first frame.
class FlateDecoder {
 public:
  // The most bytes one frame may inflate to, as moq-flate and @moq/flate.
  static constexpr size_t kDefaultMaxFrameSize = 64 << 20;

  explicit FlateDecoder(size_t max_frame_size = kDefaultMaxFrameSize);
  ~FlateDecoder();
  FlateDecoder(FlateDecoder&&) noexcept;
  FlateDecoder& operator=(FlateDecoder&&) noexcept;
  FlateDecoder(const FlateDecoder&) = delete;
  FlateDecoder& operator=(const FlateDecoder&) = delete;

  // The payload of the next frame. Errors: InvalidArgument for bytes that
  // are not DEFLATE data, a frame that does not end exactly where a sync
  // flush ends (cut short, or still ending in 00 00 FF FF), or a stream
  // that ends inside it; ResourceExhausted when it inflates to more than
  // max_frame_size; FailedPrecondition after any of these until Reset.
  absl::StatusOr<std::string> Frame(std::string_view frame);

  // Drops the stream's window: the next frame starts a new stream.
  void Reset();

 private:
  struct Stream;
  absl::Status Inflate(std::string_view input, std::string* out, size_t* produced);

  size_t max_frame_size_;
  std::unique_ptr<Stream> stream_;  // created on the first frame
  bool failed_ = false;
};

}  // namespace moq_stats::json

#endif  // MOQ_STATS_COMMON_JSON_FLATE_H_
