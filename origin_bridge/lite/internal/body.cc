#include "origin_bridge/lite/internal/body.h"

namespace moq_stats::lite::internal {

bool HasLite05Streams(Version version) { return version == Version::kLite05; }
bool HasExcludeHop(Version version) { return version == Version::kLite04 || version == Version::kLite05; }

absl::Status EncodeWrongVersion(Version version, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " does not exist in ", std::string(VersionAlpn(version))));
}

}  // namespace moq_stats::lite::internal
