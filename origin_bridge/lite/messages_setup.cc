#include <cstddef>
#include <cstdint>
#include <optional>
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
using internal::HasLite05Streams;
using internal::WrongVersion;

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
          return r.Fail(absl::StrCat("duplicate SETUP parameter ", parameter.id));
        }
      }
      m->parameters.push_back(std::move(parameter));
    }
    return true;
  });
}

}  // namespace moq_stats::lite
