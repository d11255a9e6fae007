#ifndef MOQ_STATS_ORIGIN_BRIDGE_QMUX_TRANSPORT_PARAMS_H_
#define MOQ_STATS_ORIGIN_BRIDGE_QMUX_TRANSPORT_PARAMS_H_

// The meaning of the parameters in a QX_TRANSPORT_PARAMETERS frame: the QUIC
// v1 parameters QMux keeps (RFC 9000 section 18.2) plus QMux's own
// max_record_size and application_protocols (the ALPN list for plain TCP).

#include <cstdint>
#include <string>
#include <vector>

#include "origin_bridge/qmux/frames.h"

namespace moq_stats::qmux {

// Parameter ids.
inline constexpr uint64_t kMaxIdleTimeoutParam = 0x01;
inline constexpr uint64_t kInitialMaxDataParam = 0x04;
inline constexpr uint64_t kInitialMaxStreamDataBidiLocalParam = 0x05;
inline constexpr uint64_t kInitialMaxStreamDataBidiRemoteParam = 0x06;
inline constexpr uint64_t kInitialMaxStreamDataUniParam = 0x07;
inline constexpr uint64_t kInitialMaxStreamsBidiParam = 0x08;
inline constexpr uint64_t kInitialMaxStreamsUniParam = 0x09;
inline constexpr uint64_t kMaxDatagramFrameSizeParam = 0x20;
inline constexpr uint64_t kMaxRecordSizeParam = 0x0571c59429cd0845;
inline constexpr uint64_t kApplicationProtocolsParam = 0x3d4f9c2a8b1e6075;

// max_record_size when the peer does not send it.
inline constexpr uint64_t kDefaultMaxRecordSize = 16382;

struct TransportParameters {
  uint64_t max_idle_timeout_ms = 0;
  uint64_t initial_max_data = 0;
  uint64_t initial_max_stream_data_bidi_local = 0;
  uint64_t initial_max_stream_data_bidi_remote = 0;
  uint64_t initial_max_stream_data_uni = 0;
  uint64_t initial_max_streams_bidi = 0;
  uint64_t initial_max_streams_uni = 0;
  uint64_t max_datagram_frame_size = 0;
  uint64_t max_record_size = kDefaultMaxRecordSize;
  // ALPN names in preference order; empty when negotiated out of band (the
  // WebSocket subprotocol) and then not sent.
  std::vector<std::string> application_protocols;
  // Parameters with ids this code does not know, kept as received.
  std::vector<TransportParameter> unknown;
};

// The frame that carries `params`. Integer parameters equal to 0 are left out
// (0 is their default); max_record_size is always sent.
TransportParametersFrame ToFrame(const TransportParameters& params);

// Reads `frame` into `*out`. A duplicate known id, a value that is not one
// whole varint, an empty or malformed protocol list, or an id QUIC v1 defines
// but QMux forbids (0x00, 0x02, 0x03, 0x0a-0x10) is a
// TRANSPORT_PARAMETER_ERROR.
ParseResult FromFrame(const TransportParametersFrame& frame, TransportParameters* out);

// What this endpoint advertises by default: 1 MiB of connection credit,
// 256 KiB per stream, 100 streams of each kind, the default record size.
// `alpns` fills application_protocols (plain TCP only).
TransportParameters DefaultTransportParameters(std::vector<std::string> alpns = {});

}  // namespace moq_stats::qmux

#endif  // MOQ_STATS_ORIGIN_BRIDGE_QMUX_TRANSPORT_PARAMS_H_
