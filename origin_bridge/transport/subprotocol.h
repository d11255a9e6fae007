#ifndef MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_SUBPROTOCOL_H_
#define MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_SUBPROTOCOL_H_

// WebSocket subprotocol names for moq-lite over QMux: "<qmux>.<alpn>", e.g.
// "qmux-01.moq-lite-05" (QMux draft-01 records) or "qmux-00.moq-lite-04"
// (QMux draft-00, no records). The same names are used by moq-dev's Rust
// (`qmux::ws`, moq-native) and JavaScript (@moq/qmux) endpoints.
//
// We speak qmux-01 and qmux-00 with moq-lite-05, -04 and -03. Bare version
// names ("qmux-01", "webtransport") and qmux-02 are neither offered nor
// accepted.
//
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin_bridge/transport/transport.h"

namespace moq_stats::bridge {

// The names a client offers, most preferred first: for each of
// OfferedVersions(), "qmux-01.<alpn>" then "qmux-00.<alpn>".
std::vector<std::string> OfferedSubprotocols();

// The Sec-WebSocket-Protocol value for `names`: joined with ", ".
std::string JoinSubprotocols(const std::vector<std::string>& names);

// Splits one Sec-WebSocket-Protocol header value on commas, trims spaces and
// tabs, and drops empty entries. Views point into `header`.
std::vector<std::string_view> SplitSubprotocols(std::string_view header);

// What `name` negotiates, if it is one of OfferedSubprotocols() (exact,
// case-sensitive match).
std::optional<Negotiated> ParseSubprotocol(std::string_view name);

// The server's choice among the client's `offered` names. Our preference
// wins, as in moq-dev's `qmux::ws::Server`, moq-native's WebSocket listener
// and @moq/qmux's selectSubprotocol: the first of OfferedSubprotocols() that
// the client offered, wherever it sits in the client's list. nullopt when
// the client offered none of ours.
std::optional<Negotiated> SelectSubprotocol(const std::vector<std::string_view>& offered);

}  // namespace moq_stats::bridge

#endif  // MOQ_STATS_ORIGIN_BRIDGE_TRANSPORT_SUBPROTOCOL_H_
