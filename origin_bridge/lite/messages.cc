#include "origin_bridge/lite/messages.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moqstats::lite {
namespace {

bool HasLite05Streams(Version version) { return version == Version::kLite05; }
bool HasExcludeHop(Version version) {
  return version == Version::kLite04 || version == Version::kLite05;
}

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
                        absl::StrCat(std::string(what), " does not exist in ",
                                     std::string(VersionAlpn(version))));
}

absl::Status EncodeWrongVersion(Version version, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " does not exist in ",
                   std::string(VersionAlpn(version))));
}

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
    moqstats::Path path(raw);
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
    const moqstats::Path path(value);
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
DecodeResult<T> DecodeBody(std::string_view bytes, size_t offset,
                           Fields fields) {
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
    return DecodeError<T>(ErrorCode::kDecode,
                          "message body is longer than its fields");
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
DecodeResult<T> DecodeTyped(std::string_view bytes, uint64_t expected_type,
                            std::string_view what, Fields fields) {
  WireReader reader(bytes);
  uint64_t type = 0;
  if (reader.ReadVarint(&type) != ReadStatus::kOk) return {};
  if (type != expected_type) {
    return DecodeError<T>(
        ErrorCode::kDecode,
        absl::StrCat("expected ", std::string(what), " (type ", expected_type,
                     "), got type ", type));
  }
  return DecodeBody<T>(bytes, reader.consumed(), fields);
}

uint64_t SubscribeDropType(Version version) {
  return version == Version::kLite05 ? 2 : 1;
}

bool ReadSubscribeOkFields(BodyReader& r, SubscribeOk* m) {
  return r.U8(&m->priority) && r.Bool(&m->ordered) &&
         r.Varint(&m->max_latency_ms) && r.OptionalGroup(&m->start_group) &&
         r.OptionalGroup(&m->end_group);
}

bool ReadSubscribeDropFields(BodyReader& r, SubscribeDrop* m) {
  return r.Varint(&m->start) && r.Varint(&m->end) && r.Varint(&m->error);
}

bool ReadGroupFields(BodyReader& r, uint64_t* group) { return r.Varint(group); }

}  // namespace

std::string_view VersionAlpn(Version version) {
  switch (version) {
    case Version::kLite03:
      return "moq-lite-03";
    case Version::kLite04:
      return "moq-lite-04";
    case Version::kLite05:
      return "moq-lite-05";
  }
  return "moq-lite-unknown";
}

std::optional<Version> VersionFromCode(uint64_t code) {
  switch (code) {
    case static_cast<uint64_t>(Version::kLite03):
      return Version::kLite03;
    case static_cast<uint64_t>(Version::kLite04):
      return Version::kLite04;
    case static_cast<uint64_t>(Version::kLite05):
      return Version::kLite05;
    default:
      return std::nullopt;
  }
}

// ---- Setup

SetupParameter Setup::VarintParameter(uint64_t id, uint64_t value) {
  SetupParameter parameter;
  parameter.id = id;
  AppendVarint(value, &parameter.value);
  return parameter;
}

std::optional<uint64_t> Setup::VarintValue(uint64_t id) const {
  for (const SetupParameter& parameter : parameters) {
    if (parameter.id != id) continue;
    WireReader reader(parameter.value);
    uint64_t value = 0;
    if (reader.ReadVarint(&value) != ReadStatus::kOk || !reader.empty()) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

absl::Status Setup::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) return EncodeWrongVersion(version, "SETUP");
  if (parameters.size() > kMaxSetupParameters) {
    return absl::InvalidArgumentError("too many SETUP parameters");
  }
  BodyWriter w;
  w.Varint(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (parameters[j].id == parameters[i].id) {
        return absl::InvalidArgumentError("duplicate SETUP parameter");
      }
    }
    w.Varint(parameters[i].id);
    w.Bytes(parameters[i].value);
  }
  return w.Finish(out);
}

DecodeResult<Setup> Setup::Decode(Version version, std::string_view bytes) {
  if (!HasLite05Streams(version)) return WrongVersion<Setup>(version, "SETUP");
  return DecodeMessage<Setup>(bytes, [](BodyReader& r, Setup* m) {
    uint64_t count = 0;
    if (!r.Varint(&count)) return false;
    if (count > kMaxSetupParameters) {
      return r.Fail(absl::StrCat("too many SETUP parameters: ", count));
    }
    for (uint64_t i = 0; i < count; ++i) {
      SetupParameter parameter;
      if (!r.Varint(&parameter.id) || !r.Bytes(&parameter.value)) return false;
      for (const SetupParameter& seen : m->parameters) {
        if (seen.id == parameter.id) {
          return r.Fail(
              absl::StrCat("duplicate SETUP parameter ", parameter.id));
        }
      }
      m->parameters.push_back(std::move(parameter));
    }
    return true;
  });
}

// ---- AnnounceRequest

absl::Status AnnounceRequest::Encode(Version version, std::string* out) const {
  BodyWriter w;
  w.Path(prefix);
  if (HasExcludeHop(version)) w.Varint(exclude_hop);
  return w.Finish(out);
}

DecodeResult<AnnounceRequest> AnnounceRequest::Decode(Version version,
                                                      std::string_view bytes) {
  return DecodeMessage<AnnounceRequest>(
      bytes, [version](BodyReader& r, AnnounceRequest* m) {
        if (!r.Path(&m->prefix)) return false;
        return !HasExcludeHop(version) || r.Varint(&m->exclude_hop);
      });
}

// ---- AnnounceOk

absl::Status AnnounceOk::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) {
    return EncodeWrongVersion(version, "ANNOUNCE_OK");
  }
  BodyWriter w;
  w.Varint(hop_id);
  w.Varint(active_count);
  return w.Finish(out);
}

DecodeResult<AnnounceOk> AnnounceOk::Decode(Version version,
                                            std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<AnnounceOk>(version, "ANNOUNCE_OK");
  }
  return DecodeMessage<AnnounceOk>(bytes, [](BodyReader& r, AnnounceOk* m) {
    return r.Varint(&m->hop_id) && r.Varint(&m->active_count);
  });
}

// ---- Announce

absl::Status Announce::Encode(Version version, std::string* out) const {
  if (hops.size() > kMaxHops) {
    return absl::InvalidArgumentError("too many hops");
  }
  BodyWriter w;
  w.U8(static_cast<uint8_t>(status));
  w.Path(suffix);
  w.Varint(hops.size());
  if (version != Version::kLite03) {
    for (uint64_t hop : hops) w.Varint(hop);
  }
  return w.Finish(out);
}

DecodeResult<Announce> Announce::Decode(Version version,
                                        std::string_view bytes) {
  return DecodeMessage<Announce>(bytes, [version](BodyReader& r, Announce* m) {
    uint8_t status = 0;
    if (!r.U8(&status)) return false;
    switch (status) {
      case 0:
        m->status = AnnounceStatus::kEnded;
        break;
      case 1:
        m->status = AnnounceStatus::kActive;
        break;
      case 2:  // Explicit restart: lite-05 treats it as a re-announce.
        if (version != Version::kLite05) {
          return r.Fail("ANNOUNCE restart status before moq-lite-05");
        }
        m->status = AnnounceStatus::kActive;
        break;
      default:
        return r.Fail(absl::StrCat("invalid ANNOUNCE status ", status));
    }
    if (!r.Path(&m->suffix)) return false;
    uint64_t count = 0;
    if (!r.Varint(&count)) return false;
    if (count > kMaxHops) {
      return r.Fail(absl::StrCat("too many hops: ", count));
    }
    m->hops.assign(count, 0);
    if (version != Version::kLite03) {
      for (uint64_t& hop : m->hops) {
        if (!r.Varint(&hop)) return false;
      }
    }
    return true;
  });
}

// ---- Track / TrackInfo

absl::Status Track::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) return EncodeWrongVersion(version, "TRACK");
  BodyWriter w;
  w.Path(broadcast);
  w.String(track);
  return w.Finish(out);
}

DecodeResult<Track> Track::Decode(Version version, std::string_view bytes) {
  if (!HasLite05Streams(version)) return WrongVersion<Track>(version, "TRACK");
  return DecodeMessage<Track>(bytes, [](BodyReader& r, Track* m) {
    return r.Path(&m->broadcast) && r.String(&m->track);
  });
}

absl::Status TrackInfo::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) {
    return EncodeWrongVersion(version, "TRACK_INFO");
  }
  if (timescale == 0) return absl::InvalidArgumentError("timescale is 0");
  BodyWriter w;
  w.U8(priority);
  w.Bool(ordered);
  w.Varint(max_latency_ms);
  w.Varint(timescale);
  return w.Finish(out);
}

DecodeResult<TrackInfo> TrackInfo::Decode(Version version,
                                          std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<TrackInfo>(version, "TRACK_INFO");
  }
  return DecodeMessage<TrackInfo>(bytes, [](BodyReader& r, TrackInfo* m) {
    if (!r.U8(&m->priority) || !r.Bool(&m->ordered) ||
        !r.Varint(&m->max_latency_ms) || !r.Varint(&m->timescale)) {
      return false;
    }
    if (m->timescale == 0) return r.Fail("TRACK_INFO timescale is 0");
    return true;
  });
}

// ---- Subscribe

absl::Status Subscribe::Encode(Version, std::string* out) const {
  BodyWriter w;
  w.Varint(id);
  w.Path(broadcast);
  w.String(track);
  w.U8(priority);
  w.Bool(ordered);
  w.Varint(max_latency_ms);
  w.OptionalGroup(start_group);
  w.OptionalGroup(end_group);
  return w.Finish(out);
}

DecodeResult<Subscribe> Subscribe::Decode(Version, std::string_view bytes) {
  return DecodeMessage<Subscribe>(bytes, [](BodyReader& r, Subscribe* m) {
    return r.Varint(&m->id) && r.Path(&m->broadcast) &&
           r.String(&m->track) && r.U8(&m->priority) && r.Bool(&m->ordered) &&
           r.Varint(&m->max_latency_ms) && r.OptionalGroup(&m->start_group) &&
           r.OptionalGroup(&m->end_group);
  });
}

// ---- Subscribe responses

absl::Status SubscribeOk::Encode(Version version, std::string* out) const {
  if (version == Version::kLite05) {
    return EncodeWrongVersion(version, "SUBSCRIBE_OK");
  }
  BodyWriter w;
  w.U8(priority);
  w.Bool(ordered);
  w.Varint(max_latency_ms);
  w.OptionalGroup(start_group);
  w.OptionalGroup(end_group);
  return w.Finish(out, 0);
}

DecodeResult<SubscribeOk> SubscribeOk::Decode(Version version,
                                              std::string_view bytes) {
  if (version == Version::kLite05) {
    return WrongVersion<SubscribeOk>(version, "SUBSCRIBE_OK");
  }
  return DecodeTyped<SubscribeOk>(bytes, 0, "SUBSCRIBE_OK",
                                  ReadSubscribeOkFields);
}

absl::Status SubscribeStart::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) {
    return EncodeWrongVersion(version, "SUBSCRIBE_START");
  }
  BodyWriter w;
  w.Varint(group);
  return w.Finish(out, 0);
}

DecodeResult<SubscribeStart> SubscribeStart::Decode(Version version,
                                                    std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<SubscribeStart>(version, "SUBSCRIBE_START");
  }
  return DecodeTyped<SubscribeStart>(
      bytes, 0, "SUBSCRIBE_START",
      [](BodyReader& r, SubscribeStart* m) { return r.Varint(&m->group); });
}

absl::Status SubscribeEnd::Encode(Version version, std::string* out) const {
  if (!HasLite05Streams(version)) {
    return EncodeWrongVersion(version, "SUBSCRIBE_END");
  }
  BodyWriter w;
  w.Varint(group);
  return w.Finish(out, 1);
}

DecodeResult<SubscribeEnd> SubscribeEnd::Decode(Version version,
                                                std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<SubscribeEnd>(version, "SUBSCRIBE_END");
  }
  return DecodeTyped<SubscribeEnd>(
      bytes, 1, "SUBSCRIBE_END",
      [](BodyReader& r, SubscribeEnd* m) { return r.Varint(&m->group); });
}

absl::Status SubscribeDrop::Encode(Version version, std::string* out) const {
  BodyWriter w;
  w.Varint(start);
  w.Varint(end);
  w.Varint(error);
  return w.Finish(out, SubscribeDropType(version));
}

DecodeResult<SubscribeDrop> SubscribeDrop::Decode(Version version,
                                                  std::string_view bytes) {
  return DecodeTyped<SubscribeDrop>(bytes, SubscribeDropType(version),
                                    "SUBSCRIBE_DROP", ReadSubscribeDropFields);
}

DecodeResult<SubscribeResponse> DecodeSubscribeResponse(
    Version version, std::string_view bytes) {
  WireReader reader(bytes);
  uint64_t type = 0;
  if (reader.ReadVarint(&type) != ReadStatus::kOk) return {};
  const size_t offset = reader.consumed();
  using R = SubscribeResponse;
  if (version == Version::kLite05) {
    switch (type) {
      case 0:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadGroupFields(r, &m->emplace<SubscribeStart>().group);
        });
      case 1:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadGroupFields(r, &m->emplace<SubscribeEnd>().group);
        });
      case 2:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadSubscribeDropFields(r, &m->emplace<SubscribeDrop>());
        });
      default:
        break;
    }
  } else {
    switch (type) {
      case 0:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadSubscribeOkFields(r, &m->emplace<SubscribeOk>());
        });
      case 1:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadSubscribeDropFields(r, &m->emplace<SubscribeDrop>());
        });
      default:
        break;
    }
  }
  return DecodeError<R>(ErrorCode::kDecode,
                        absl::StrCat("unknown subscribe response type ", type));
}

// ---- SubscribeUpdate

absl::Status SubscribeUpdate::Encode(Version, std::string* out) const {
  BodyWriter w;
  w.U8(priority);
  w.Bool(ordered);
  w.Varint(max_latency_ms);
  w.OptionalGroup(start_group);
  w.OptionalGroup(end_group);
  return w.Finish(out);
}

DecodeResult<SubscribeUpdate> SubscribeUpdate::Decode(Version,
                                                      std::string_view bytes) {
  return DecodeMessage<SubscribeUpdate>(
      bytes, [](BodyReader& r, SubscribeUpdate* m) {
        return r.U8(&m->priority) && r.Bool(&m->ordered) &&
               r.Varint(&m->max_latency_ms) &&
               r.OptionalGroup(&m->start_group) &&
               r.OptionalGroup(&m->end_group);
      });
}

// ---- GroupHeader

absl::Status GroupHeader::Encode(Version, std::string* out) const {
  BodyWriter w;
  w.Varint(subscribe_id);
  w.Varint(sequence);
  return w.Finish(out);
}

DecodeResult<GroupHeader> GroupHeader::Decode(Version, std::string_view bytes) {
  return DecodeMessage<GroupHeader>(bytes, [](BodyReader& r, GroupHeader* m) {
    return r.Varint(&m->subscribe_id) && r.Varint(&m->sequence);
  });
}

// ---- Frame

absl::Status Frame::Encode(Version version, std::string* out) const {
  std::string header;
  if (version == Version::kLite05) {
    uint64_t zigzag = 0;
    if (!ZigzagEncode(timestamp_delta, &zigzag)) {
      return absl::InvalidArgumentError("timestamp delta out of range");
    }
    AppendVarint(zigzag, &header);
  }
  if (!AppendVarint(payload.size(), &header)) {
    return absl::InvalidArgumentError("frame too large");
  }
  out->append(header);
  out->append(payload);
  return absl::OkStatus();
}

DecodeResult<Frame> Frame::Decode(Version version, std::string_view bytes) {
  WireReader reader(bytes);
  DecodeResult<Frame> result;
  if (version == Version::kLite05) {
    uint64_t zigzag = 0;
    if (reader.ReadVarint(&zigzag) != ReadStatus::kOk) return result;
    result.value.timestamp_delta = ZigzagDecode(zigzag);
  }
  std::string_view payload;
  if (reader.ReadBytes(&payload) != ReadStatus::kOk) return result;
  result.value.payload.assign(payload.data(), payload.size());
  result.status = DecodeStatus::kOk;
  result.consumed = reader.consumed();
  return result;
}

// ---- Fetch

absl::Status Fetch::Encode(Version, std::string* out) const {
  BodyWriter w;
  w.Path(broadcast);
  w.String(track);
  w.U8(priority);
  w.Varint(group);
  return w.Finish(out);
}

DecodeResult<Fetch> Fetch::Decode(Version, std::string_view bytes) {
  return DecodeMessage<Fetch>(bytes, [](BodyReader& r, Fetch* m) {
    return r.Path(&m->broadcast) && r.String(&m->track) &&
           r.U8(&m->priority) && r.Varint(&m->group);
  });
}

}  // namespace moqstats::lite
