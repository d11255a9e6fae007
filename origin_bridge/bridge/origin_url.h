#ifndef MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_URL_H_
#define MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_URL_H_

// The bridge's two addresses as the daemon is told them:
//
// - `--origin-url`, where dial mode connects: `ws://host[:port]/path?query`
//   (WebSocket, default port 80) or `tcp://host:port[/path?query]` (plain
//   QMux; the path and query travel in the lite-05 SETUP). Hosts are
//   names, IPv4 addresses or bracketed IPv6 addresses. There is no TLS in
//   the bridge: `wss://` and `https://` are refused with a hint to put a
//   local TLS terminator in front, or to use tcp://.
// - `--moq-listen`, where serve mode accepts MoQ clients: HOST:PORT
//   ([v6]:PORT for IPv6) or `off`.
//
// Relays take their token in the query (`?jwt=...`, or `?token=`,
// `?access_token=` for others); RedactOriginUrl hides it so it never
// reaches logs, /metrics, GetInfo or --check-config.
//
// Pure functions; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

// Parses an origin URL. INVALID_ARGUMENT naming the value and what is wrong.
absl::StatusOr<DialTarget> ParseOriginUrl(std::string_view url);

// `url` with the value of every credential-looking query parameter replaced
// by "...": a name that, percent-decoded and in any case, is jwt, token,
// access_token (or ends in _token), auth, authorization, key, api_key,
// secret, password, signature or the like. Works on any text, well-formed
// URL or not; the rest is kept as given.
std::string RedactOriginUrl(std::string_view url);

// A TCP address to listen on.
struct ListenAddress {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// Parses `--moq-listen`: nullopt for "off", else the address. Port 0 picks
// a free port. INVALID_ARGUMENT naming the value and what is wrong.
absl::StatusOr<std::optional<ListenAddress>> ParseMoqListen(std::string_view value);

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_BRIDGE_ORIGIN_URL_H_
