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
using internal::DecodeMessage;
using internal::EncodeWrongVersion;
using internal::HasExcludeHop;
using internal::HasLite05Streams;
using internal::WrongVersion;

// ---- AnnounceRequest

absl::Status AnnounceRequest::Encode(Version version, std::string* out) const {
  BodyWriter w;
  w.Path(prefix);
  if (HasExcludeHop(version)) w.Varint(exclude_hop);
  return w.Finish(out);
}

DecodeResult<AnnounceRequest> AnnounceRequest::Decode(Version version, std::string_view bytes) {
  return DecodeMessage<AnnounceRequest>(bytes, [version](BodyReader& r, AnnounceRequest* m) {
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

DecodeResult<AnnounceOk> AnnounceOk::Decode(Version version, std::string_view bytes) {
  if (!HasLite05Streams(version)) {
    return WrongVersion<AnnounceOk>(version, "ANNOUNCE_OK");
  }
  return DecodeMessage<AnnounceOk>(
      bytes, [](BodyReader& r, AnnounceOk* m) { return r.Varint(&m->hop_id) && r.Varint(&m->active_count); });
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

DecodeResult<Announce> Announce::Decode(Version version, std::string_view bytes) {
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

}  // namespace moq_stats::lite
