#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "origin_bridge/lite/internal/body.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"

namespace moq_stats::lite {

using internal::BodyReader;
using internal::BodyWriter;
using internal::DecodeBody;
using internal::DecodeError;
using internal::DecodeMessage;
using internal::DecodeTyped;
using internal::EncodeWrongVersion;
using internal::HasLite05Streams;
using internal::WrongVersion;

namespace {

uint64_t SubscribeDropType(Version version) { return version == Version::kLite05 ? 2 : 1; }

// The subscription's parameters, in the same order in SUBSCRIBE (after the
// id and names), SUBSCRIBE_OK and SUBSCRIBE_UPDATE.
template <typename M>
void WriteSubscriptionFields(const M& m, BodyWriter& w) {
  w.U8(m.priority);
  w.Bool(m.ordered);
  w.Varint(m.max_latency_ms);
  w.OptionalGroup(m.start_group);
  w.OptionalGroup(m.end_group);
}

template <typename M>
bool ReadSubscriptionFields(BodyReader& r, M* m) {
  return r.U8(&m->priority) && r.Bool(&m->ordered) && r.Varint(&m->max_latency_ms) &&
         r.OptionalGroup(&m->start_group) && r.OptionalGroup(&m->end_group);
}

// SUBSCRIBE_START and SUBSCRIBE_END: lite-05 typed responses of one group.
absl::Status EncodeGroupResponse(Version version, const char* name, uint64_t type, uint64_t group, std::string* out) {
  if (!HasLite05Streams(version)) return EncodeWrongVersion(version, name);
  BodyWriter w;
  w.Varint(group);
  return w.Finish(out, type);
}

template <typename M>
DecodeResult<M> DecodeGroupResponse(Version version, std::string_view bytes, const char* name, uint64_t type) {
  if (!HasLite05Streams(version)) return WrongVersion<M>(version, name);
  return DecodeTyped<M>(bytes, type, name, [](BodyReader& r, M* m) { return r.Varint(&m->group); });
}

bool ReadSubscribeDropFields(BodyReader& r, SubscribeDrop* m) {
  return r.Varint(&m->start) && r.Varint(&m->end) && r.Varint(&m->error);
}

bool ReadGroupFields(BodyReader& r, uint64_t* group) { return r.Varint(group); }

}  // namespace

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
  return DecodeMessage<Track>(bytes,
                              [](BodyReader& r, Track* m) { return r.Path(&m->broadcast) && r.String(&m->track); });
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

DecodeResult<TrackInfo> TrackInfo::Decode(Version version, std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<TrackInfo>(version, "TRACK_INFO");
  }
  return DecodeMessage<TrackInfo>(bytes, [](BodyReader& r, TrackInfo* m) {
    if (!r.U8(&m->priority) || !r.Bool(&m->ordered) || !r.Varint(&m->max_latency_ms) || !r.Varint(&m->timescale)) {
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
  WriteSubscriptionFields(*this, w);
  return w.Finish(out);
}

DecodeResult<Subscribe> Subscribe::Decode(Version, std::string_view bytes) {
  return DecodeMessage<Subscribe>(bytes, [](BodyReader& r, Subscribe* m) {
    return r.Varint(&m->id) && r.Path(&m->broadcast) && r.String(&m->track) && ReadSubscriptionFields(r, m);
  });
}

// ---- Subscribe responses

absl::Status SubscribeOk::Encode(Version version, std::string* out) const {
  if (version == Version::kLite05) {
    return EncodeWrongVersion(version, "SUBSCRIBE_OK");
  }
  BodyWriter w;
  WriteSubscriptionFields(*this, w);
  return w.Finish(out, 0);
}

DecodeResult<SubscribeOk> SubscribeOk::Decode(Version version, std::string_view bytes) {
  if (version == Version::kLite05) {
    return WrongVersion<SubscribeOk>(version, "SUBSCRIBE_OK");
  }
  return DecodeTyped<SubscribeOk>(bytes, 0, "SUBSCRIBE_OK", ReadSubscriptionFields<SubscribeOk>);
}

absl::Status SubscribeStart::Encode(Version version, std::string* out) const {
  return EncodeGroupResponse(version, "SUBSCRIBE_START", 0, group, out);
}

DecodeResult<SubscribeStart> SubscribeStart::Decode(Version version, std::string_view bytes) {
  return DecodeGroupResponse<SubscribeStart>(version, bytes, "SUBSCRIBE_START", 0);
}

absl::Status SubscribeEnd::Encode(Version version, std::string* out) const {
  return EncodeGroupResponse(version, "SUBSCRIBE_END", 1, group, out);
}

DecodeResult<SubscribeEnd> SubscribeEnd::Decode(Version version, std::string_view bytes) {
  return DecodeGroupResponse<SubscribeEnd>(version, bytes, "SUBSCRIBE_END", 1);
}

absl::Status SubscribeDrop::Encode(Version version, std::string* out) const {
  BodyWriter w;
  w.Varint(start);
  w.Varint(end);
  w.Varint(error);
  return w.Finish(out, SubscribeDropType(version));
}

DecodeResult<SubscribeDrop> SubscribeDrop::Decode(Version version, std::string_view bytes) {
  return DecodeTyped<SubscribeDrop>(bytes, SubscribeDropType(version), "SUBSCRIBE_DROP", ReadSubscribeDropFields);
}

DecodeResult<SubscribeResponse> DecodeSubscribeResponse(Version version, std::string_view bytes) {
  WireReader reader(bytes);
  uint64_t type = 0;
  if (reader.ReadVarint(&type) != ReadStatus::kOk) return {};
  const size_t offset = reader.consumed();
  using R = SubscribeResponse;
  if (version == Version::kLite05) {
    switch (type) {
      case 0:
        return DecodeBody<R>(
            bytes, offset, [](BodyReader& r, R* m) { return ReadGroupFields(r, &m->emplace<SubscribeStart>().group); });
      case 1:
        return DecodeBody<R>(bytes, offset,
                             [](BodyReader& r, R* m) { return ReadGroupFields(r, &m->emplace<SubscribeEnd>().group); });
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
        return DecodeBody<R>(bytes, offset,
                             [](BodyReader& r, R* m) { return ReadSubscriptionFields(r, &m->emplace<SubscribeOk>()); });
      case 1:
        return DecodeBody<R>(bytes, offset, [](BodyReader& r, R* m) {
          return ReadSubscribeDropFields(r, &m->emplace<SubscribeDrop>());
        });
      default:
        break;
    }
  }
  return DecodeError<R>(ErrorCode::kDecode, absl::StrCat("unknown subscribe response type ", type));
}

// ---- SubscribeUpdate

absl::Status SubscribeUpdate::Encode(Version, std::string* out) const {
  BodyWriter w;
  WriteSubscriptionFields(*this, w);
  return w.Finish(out);
}

DecodeResult<SubscribeUpdate> SubscribeUpdate::Decode(Version, std::string_view bytes) {
  return DecodeMessage<SubscribeUpdate>(bytes, ReadSubscriptionFields<SubscribeUpdate>);
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
    return r.Path(&m->broadcast) && r.String(&m->track) && r.U8(&m->priority) && r.Varint(&m->group);
  });
}

}  // namespace moq_stats::lite
