#ifndef MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_BODY_H_
#define MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_BODY_H_

// Shared helpers of the moq-lite message codecs (messages_*.cc): version
// checks, decode errors, and the body reader/writer that every message's
// fields go through. Internal to moqstats_lite; not part of its API.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/path.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite::internal {

bool HasLite05Streams(Version version);
bool HasExcludeHop(Version version);

template <typename T>
DecodeResult<T> DecodeError(ErrorCode code, std::string reason) {
  DecodeResult<T> result;
  result.status = DecodeStatus::kError;
  result.code = code;
  result.reason = std::move(reason);
  return result;
}

template <typename T>
DecodeResult<T> WrongVersion(Version version, std::string_view what) {
  return DecodeError<T>(ErrorCode::kDecode,
                        absl::StrCat(std::string(what), " does not exist in ", std::string(VersionAlpn(version))));
}

absl::Status EncodeWrongVersion(Version version, std::string_view what);

// Reads the fields of one message body. Every field lies inside the body, so
// running out of bytes is an error here, never "need more".
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : reader_(body) {}

  bool Varint(uint64_t* value) { return Check(reader_.ReadVarint(value)); }
  bool U8(uint8_t* value) { return Check(reader_.ReadU8(value)); }
  bool Bool(bool* value) {
    uint8_t raw = 0;
    if (!U8(&raw)) return false;
    *value = raw != 0;
    return true;
  }
  bool String(std::string* value) {
    std::string_view view;
    if (!Check(reader_.ReadString(&view))) return false;
    value->assign(view.data(), view.size());
    return true;
  }
  // A string, normalized as a path, of at most kMaxPathSegments segments.
  bool Path(std::string* value) {
    std::string raw;
    if (!String(&raw)) return false;
    moq_stats::Path path(raw);
    *value = path.str();
    if (path.segment_count() > kMaxPathSegments) {
      return Fail("path has more than 32 segments");
    }
    return true;
  }
  bool Bytes(std::string* value) {
    std::string_view view;
    if (!Check(reader_.ReadBytes(&view))) return false;
    value->assign(view.data(), view.size());
    return true;
  }
  // 0 = absent, else group + 1.
  bool OptionalGroup(std::optional<uint64_t>* value) {
    uint64_t raw = 0;
    if (!Varint(&raw)) return false;
    if (raw == 0) {
      value->reset();
    } else {
      *value = raw - 1;
    }
    return true;
  }
  bool Fail(std::string reason, ErrorCode code = ErrorCode::kDecode) {
    code_ = code;
    reason_ = std::move(reason);
    return false;
  }

  bool empty() const { return reader_.empty(); }
  ErrorCode code() const { return code_; }
  const std::string& reason() const { return reason_; }

 private:
  bool Check(ReadStatus status) {
    switch (status) {
      case ReadStatus::kOk:
        return true;
      case ReadStatus::kNeedMore:
        return Fail("message body is shorter than its fields");
      case ReadStatus::kError:
        return Fail(reader_.error());
    }
    return Fail("unreachable");
  }

  WireReader reader_;
  ErrorCode code_ = ErrorCode::kDecode;
  std::string reason_;
};

// Writes the fields of one message body; the first failure sticks.
class BodyWriter {
 public:
  void Varint(uint64_t value) {
    if (!AppendVarint(value, &body_)) {
      Fail(absl::StrCat("value ", value, " exceeds the varint range"));
    }
  }
  void U8(uint8_t value) { body_.push_back(static_cast<char>(value)); }
  void Bool(bool value) { U8(value ? 1 : 0); }
  void String(std::string_view value) {
    if (!IsValidUtf8(value)) Fail("string is not valid UTF-8");
    AppendString(value, &body_);
  }
  void Bytes(std::string_view value) { AppendString(value, &body_); }
  // Written normalized; more than kMaxPathSegments segments fails.
  void Path(std::string_view value) {
    const moq_stats::Path path(value);
    const std::string& normalized = path.str();
    if (path.segment_count() > kMaxPathSegments) {
      Fail("path has more than 32 segments");
    }
    String(normalized);
  }
  void OptionalGroup(const std::optional<uint64_t>& value) {
    if (!value.has_value()) {
      Varint(0);
    } else if (*value >= kMaxVarint) {
      Fail("group sequence too large to encode as optional");
    } else {
      Varint(*value + 1);
    }
  }
  void Fail(std::string reason) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(std::move(reason));
  }

  // Appends [type]? [length][body] to `out` unless a field failed.
  absl::Status Finish(std::string* out, std::optional<uint64_t> type = {}) {
    if (!status_.ok()) return status_;
    if (type.has_value()) AppendVarint(*type, out);
    AppendVarint(body_.size(), out);
    out->append(body_);
    return absl::OkStatus();
  }

 private:
  std::string body_;
  absl::Status status_;
};

// Decodes [length][body] starting at `offset` of `bytes`, the body through
// `fields(BodyReader&, T*)`, which must consume the body exactly.
template <typename T, typename Fields>
DecodeResult<T> DecodeBody(std::string_view bytes, size_t offset, Fields fields) {
  WireReader reader(bytes.substr(offset));
  std::string_view body;
  DecodeResult<T> result;
  switch (reader.ReadLengthPrefixed(&body)) {
    case ReadStatus::kOk:
      break;
    case ReadStatus::kNeedMore:
      return result;
    case ReadStatus::kError:
      return DecodeError<T>(ErrorCode::kDecode, reader.error());
  }
  BodyReader body_reader(body);
  if (!fields(body_reader, &result.value)) {
    return DecodeError<T>(body_reader.code(), body_reader.reason());
  }
  if (!body_reader.empty()) {
    return DecodeError<T>(ErrorCode::kDecode, "message body is longer than its fields");
  }
  result.status = DecodeStatus::kOk;
  result.consumed = offset + reader.consumed();
  return result;
}

template <typename T, typename Fields>
DecodeResult<T> DecodeMessage(std::string_view bytes, Fields fields) {
  return DecodeBody<T>(bytes, 0, fields);
}

// Decodes [type][length][body] where the type must be `expected_type`.
template <typename T, typename Fields>
DecodeResult<T> DecodeTyped(std::string_view bytes, uint64_t expected_type, std::string_view what, Fields fields) {
  WireReader reader(bytes);
  uint64_t type = 0;
  if (reader.ReadVarint(&type) != ReadStatus::kOk) return {};
  if (type != expected_type) {
    return DecodeError<T>(ErrorCode::kDecode,
                          absl::StrCat("expected ", std::string(what), " (type ", expected_type, "), got type ", type));
  }
  return DecodeBody<T>(bytes, reader.consumed(), fields);
}

}  // namespace moq_stats::lite::internal

#endif  // MOQ_STATS_ORIGIN_BRIDGE_LITE_INTERNAL_BODY_H_
