#include "server/auth/auth_tokens.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moq_stats::server {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer one is looked at; a shorter one is read as
  // zero-padded, and the size difference is folded in at the end.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0 && a.size() == b.size();
}

absl::StatusOr<AuthTokens> AuthTokens::Parse(std::string_view text) {
  AuthTokens out;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    absl::string_view token = absl::StripAsciiWhitespace(line);
    if (token.empty() || token.front() == '#') continue;
    for (char c : token) {
      if (c <= 0x20 || c >= 0x7f) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number, ": a token is printable ASCII without spaces"));
      }
    }
    if (token.size() < kMinTokenSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": a token needs at least ", kMinTokenSize, " characters"));
    }
    out.tokens_.emplace_back(token);
  }
  if (out.tokens_.empty()) return absl::InvalidArgumentError("holds no token (one per line)");
  return out;
}

absl::StatusOr<AuthTokens> AuthTokens::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<AuthTokens> tokens = Parse(text.str());
  if (!tokens.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", tokens.status().message()));
  return tokens;
}

bool AuthTokens::Accepts(std::string_view presented) const {
  bool accepted = false;
  for (const std::string& token : tokens_) accepted = ConstantTimeEquals(token, presented) || accepted;
  return accepted;
}

}  // namespace moq_stats::server
