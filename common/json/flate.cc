#include "common/json/flate.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats::json {
namespace {

constexpr char kSyncFlushTail[] = {'\x00', '\x00', '\xff', '\xff'};
constexpr size_t kTailSize = sizeof(kSyncFlushTail);
constexpr int kRawWindowBits = -15;  // negative: raw DEFLATE, no wrapper
constexpr int kMemLevel = 8;

// inflate's data_type when it stopped (with Z_BLOCK) at a block boundary
// with no bits left over and the last block not yet seen: where a sync
// flush ends.
constexpr int kAtByteAlignedBlockBoundary = 128;

Bytef* InputBytes(std::string_view s) { return reinterpret_cast<Bytef*>(const_cast<char*>(s.data())); }

std::string ZlibMessage(const z_stream& z, int rc) {
  return z.msg != nullptr ? std::string(z.msg) : absl::StrCat("zlib error ", rc);
}

}  // namespace

struct FlateEncoder::Stream {
  z_stream z{};
  ~Stream() { deflateEnd(&z); }
};

FlateEncoder::FlateEncoder(int level) : level_(level) {}
FlateEncoder::~FlateEncoder() = default;
FlateEncoder::FlateEncoder(FlateEncoder&&) noexcept = default;
FlateEncoder& FlateEncoder::operator=(FlateEncoder&&) noexcept = default;

void FlateEncoder::Reset() {
  if (stream_ != nullptr && deflateReset(&stream_->z) != Z_OK) stream_.reset();
}

absl::StatusOr<std::string> FlateEncoder::Frame(std::string_view payload) {
  if (payload.empty()) return std::string();
  if (stream_ == nullptr) {
    auto stream = std::make_unique<Stream>();
    const int rc = deflateInit2(&stream->z, level_, Z_DEFLATED, kRawWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return absl::ResourceExhaustedError(absl::StrCat("flate: deflateInit2 failed: ", rc));
    stream_ = std::move(stream);
  }
  z_stream& z = stream_->z;
  z.next_in = InputBytes(payload);
  z.avail_in = static_cast<uInt>(payload.size());
  std::string out(payload.size() / 2 + 64, '\0');
  size_t produced = 0;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    produced = out.size() - z.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      stream_.reset();
      return absl::InternalError(absl::StrCat("flate: deflate failed: ", ZlibMessage(z, rc)));
    }
    // zlib has flushed everything once it leaves output space unused.
    if (z.avail_out != 0) break;
    out.resize(out.size() * 2);
  }
  if (produced < kTailSize || std::memcmp(out.data() + produced - kTailSize, kSyncFlushTail, kTailSize) != 0) {
    stream_.reset();
    return absl::InternalError("flate: a sync flush did not end in 00 00 FF FF");
  }
  out.resize(produced - kTailSize);
  return out;
}

struct FlateDecoder::Stream {
  z_stream z{};
  ~Stream() { inflateEnd(&z); }
};

FlateDecoder::FlateDecoder(size_t max_frame_size) : max_frame_size_(max_frame_size) {}
FlateDecoder::~FlateDecoder() = default;
FlateDecoder::FlateDecoder(FlateDecoder&&) noexcept = default;
FlateDecoder& FlateDecoder::operator=(FlateDecoder&&) noexcept = default;

void FlateDecoder::Reset() {
  if (stream_ != nullptr && inflateReset(&stream_->z) != Z_OK) stream_.reset();
  failed_ = false;
}

absl::StatusOr<std::string> FlateDecoder::Frame(std::string_view frame) {
  if (failed_) return absl::FailedPreconditionError("flate: an earlier frame of this stream failed");
  if (frame.empty()) return std::string();
  if (stream_ == nullptr) {
    auto stream = std::make_unique<Stream>();
    const int rc = inflateInit2(&stream->z, kRawWindowBits);
    if (rc != Z_OK) return absl::ResourceExhaustedError(absl::StrCat("flate: inflateInit2 failed: ", rc));
    stream_ = std::move(stream);
  }
  std::string out(std::min(max_frame_size_ + 1, std::max<size_t>(frame.size() * 4, 4096)), '\0');
  size_t produced = 0;
  absl::Status status = Inflate(frame, &out, &produced);
  if (status.ok()) status = Inflate(std::string_view(kSyncFlushTail, kTailSize), &out, &produced);
  if (status.ok() && stream_->z.data_type != kAtByteAlignedBlockBoundary) {
    status = absl::InvalidArgumentError("flate: the frame does not end where a sync flush does");
  }
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  out.resize(produced);
  return out;
}

// Inflates all of `input` into `*out` from `*produced` on, growing it.
absl::Status FlateDecoder::Inflate(std::string_view input, std::string* out, size_t* produced) {
  z_stream& z = stream_->z;
  z.next_in = InputBytes(input);
  z.avail_in = static_cast<uInt>(input.size());
  while (true) {
    if (*produced == out->size()) {
      if (out->size() > max_frame_size_) {
        return absl::ResourceExhaustedError(
            absl::StrCat("flate: a frame inflates to more than ", max_frame_size_, " bytes"));
      }
      out->resize(std::min(out->size() * 2, max_frame_size_ + 1));
    }
    z.next_out = reinterpret_cast<Bytef*>(out->data() + *produced);
    z.avail_out = static_cast<uInt>(out->size() - *produced);
    // Z_BLOCK stops at each block boundary, so data_type tells afterwards
    // whether the input ended on one.
    const int rc = inflate(&z, Z_BLOCK);
    *produced = out->size() - z.avail_out;
    if (rc == Z_STREAM_END) return absl::InvalidArgumentError("flate: the stream ends inside a frame");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat("flate: corrupt frame: ", ZlibMessage(z, rc)));
    }
    if (*produced > max_frame_size_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("flate: a frame inflates to more than ", max_frame_size_, " bytes"));
    }
    if (z.avail_out != 0) {
      if (z.avail_in == 0) return absl::OkStatus();
      // Input and output space left, yet no progress: cannot happen with
      // zlib, but must not spin.
      if (rc == Z_BUF_ERROR) return absl::InvalidArgumentError("flate: inflate made no progress");
    }
  }
}

}  // namespace moq_stats::json
