// libFuzzer target for qmux::Connection as a server: arbitrary bytes go in
// as records (or TCP slices), an application that echoes, resets, stops and
// opens streams from inside its callbacks answers, and what the connection
// sends is taken after every input. It only checks that nothing crashes (or
// trips a sanitizer); behaviour is covered by connection_*_test.cc.
//
// Input: one flag byte (bit 0: TCP records, bit 1: draft-00 bare frames,
// bit 2: start with valid client transport parameters), then chunks of a
// 2-byte big-endian length and that many bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/frames.h"
#include "origin_bridge/qmux/record.h"
#include "origin_bridge/qmux/transport_params.h"

namespace {

using moq_stats::CloseInfo;
using moq_stats::IsUnidirectionalStream;
using moq_stats::StreamEvents;
using moq_stats::qmux::Connection;

class EchoEvents : public StreamEvents {
 public:
  Connection* connection = nullptr;

  void OnStreamOpened(uint64_t id) override {
    if ((id >> 2) % 7 == 3) connection->StopSending(id, 4);
  }
  void OnStreamData(uint64_t id, std::string_view data, bool fin) override {
    if (!IsUnidirectionalStream(id)) (void)connection->Write(id, data, fin);
    if (!data.empty()) {
      switch (static_cast<unsigned char>(data[0]) % 16) {
        case 0:
          connection->ResetStream(id, 1);
          break;
        case 1:
          connection->StopSending(id, 2);
          break;
        case 2:
          (void)connection->OpenStream(static_cast<unsigned char>(data[0]) & 0x10);
          break;
        case 3:
          if (data.size() > 1 && data[1] == 'C') connection->Close(5, "fuzz");
          break;
        default:
          break;
      }
    }
  }
  void OnStreamReset(uint64_t id, uint64_t) override { connection->ResetStream(id, 3); }
  void OnStopSending(uint64_t id, uint64_t) override { (void)connection->Write(id, "x", true); }
  void OnStreamCreditAvailable() override {
    auto id = connection->OpenStream(/*bidirectional=*/false);
    if (id.ok()) (void)connection->Write(*id, "credit", true);
  }
  void OnClosed(const CloseInfo&) override { (void)connection->OpenStream(true); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const uint8_t flags = data[0];
  input.remove_prefix(1);

  moq_stats::qmux::ConnectionOptions options;
  options.perspective = moq_stats::qmux::Perspective::kServer;
  const bool tcp = (flags & 0x1) != 0;
  options.mode = tcp ? moq_stats::qmux::RecordMode::kTcp : moq_stats::qmux::RecordMode::kWebSocket;
  options.records = tcp || (flags & 0x2) == 0;
  options.local.initial_max_data = 4096;
  options.local.initial_max_stream_data_bidi_remote = 1024;
  options.local.initial_max_stream_data_uni = 1024;
  options.local.initial_max_streams_bidi = 8;
  options.local.initial_max_streams_uni = 8;

  EchoEvents events;
  Connection connection(options, &events);
  events.connection = &connection;

  if ((flags & 0x4) != 0) {
    moq_stats::qmux::TransportParameters peer = moq_stats::qmux::DefaultTransportParameters();
    peer.initial_max_data = 2048;
    peer.initial_max_stream_data_bidi_local = 512;
    peer.initial_max_streams_uni = 4;
    std::vector<std::string> records;
    if (moq_stats::qmux::BuildRecords(options.mode, {moq_stats::qmux::ToFrame(peer)},
                                      moq_stats::qmux::kDefaultMaxRecordSize, &records)
            .ok()) {
      for (const std::string& record : records) connection.OnBytesReceived(record);
    }
  }

  while (input.size() >= 2) {
    size_t length = (static_cast<uint8_t>(input[0]) << 8) | static_cast<uint8_t>(input[1]);
    input.remove_prefix(2);
    length = std::min(length, input.size());
    connection.OnBytesReceived(input.substr(0, length));
    input.remove_prefix(length);
    (void)connection.TakeOutgoing();
    (void)connection.queued_bytes();
  }
  (void)connection.TakeOutgoing();
  connection.OnTransportClosed("end of input");
  return 0;
}
