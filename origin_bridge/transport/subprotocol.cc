#include "origin_bridge/transport/subprotocol.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace moq_stats::bridge {
namespace {

constexpr std::string_view kQmux01Prefix = "qmux-01.";
constexpr std::string_view kQmux00Prefix = "qmux-00.";

std::string Name(std::string_view prefix, lite::Version version) {
  std::string_view alpn = lite::VersionAlpn(version);
  return absl::StrCat(absl::string_view(prefix.data(), prefix.size()), absl::string_view(alpn.data(), alpn.size()));
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::vector<lite::Version> OfferedVersions() {
  return {lite::Version::kLite05, lite::Version::kLite04, lite::Version::kLite03};
}

std::vector<std::string> OfferedSubprotocols() {
  std::vector<std::string> names;
  for (lite::Version version : OfferedVersions()) {
    names.push_back(Name(kQmux01Prefix, version));
    names.push_back(Name(kQmux00Prefix, version));
  }
  return names;
}

std::string JoinSubprotocols(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::vector<std::string_view> SplitSubprotocols(std::string_view header) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(start, comma - start);
    while (!item.empty() && IsBlank(item.front())) item.remove_prefix(1);
    while (!item.empty() && IsBlank(item.back())) item.remove_suffix(1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::optional<Negotiated> ParseSubprotocol(std::string_view name) {
  bool records;
  if (name.substr(0, kQmux01Prefix.size()) == kQmux01Prefix) {
    records = true;
  } else if (name.substr(0, kQmux00Prefix.size()) == kQmux00Prefix) {
    records = false;
  } else {
    return std::nullopt;
  }
  std::string_view alpn = name.substr(kQmux01Prefix.size());
  for (lite::Version version : OfferedVersions()) {
    if (alpn == lite::VersionAlpn(version)) {
      Negotiated negotiated;
      negotiated.version = version;
      negotiated.qmux_records = records;
      negotiated.subprotocol = std::string(name);
      return negotiated;
    }
  }
  return std::nullopt;
}

std::optional<Negotiated> SelectSubprotocol(const std::vector<std::string_view>& offered) {
  for (const std::string& ours : OfferedSubprotocols()) {
    if (std::find(offered.begin(), offered.end(), std::string_view(ours)) != offered.end()) {
      return ParseSubprotocol(ours);
    }
  }
  return std::nullopt;
}

}  // namespace moq_stats::bridge
