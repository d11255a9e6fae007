#ifndef MOQ_STATS_SERVER_AUTH_AUTH_TOKENS_H_
#define MOQ_STATS_SERVER_AUTH_AUTH_TOKENS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace moq_stats::server {

// The bearer tokens the sidecar accepts (--auth-token-file). The file holds
// one token per line; several lines let an operator rotate a token (add the
// new one, move the relays over, remove the old one). Blank lines and lines
// starting with '#' are skipped, surrounding whitespace is trimmed. A token is
// printable ASCII without spaces (what an HTTP/2 header value carries), at
// least 16 characters, so a typo cannot leave a guessable one.
//
// The tokens are never logged and never shown: errors name the line, not its
// text. Immutable after construction; safe for concurrent use.
class AuthTokens {
 public:
  static constexpr size_t kMinTokenSize = 16;

  AuthTokens() = default;  // accepts nothing

  // INVALID_ARGUMENT naming the line for a malformed token, or when the text
  // holds no token at all.
  static absl::StatusOr<AuthTokens> Parse(std::string_view text);
  // Reads and parses `path`; the error names the path.
  static absl::StatusOr<AuthTokens> ReadFile(const std::string& path);

  bool empty() const { return tokens_.empty(); }
  size_t size() const { return tokens_.size(); }

  // Whether `presented` is one of the tokens. Compares against every token,
  // each in time that depends only on the lengths, so the time taken does not
  // tell how much of a token was right.
  bool Accepts(std::string_view presented) const;

 private:
  std::vector<std::string> tokens_;
};

// a == b in time that depends only on the sizes of a and b, not on where
// they first differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_AUTH_AUTH_TOKENS_H_
