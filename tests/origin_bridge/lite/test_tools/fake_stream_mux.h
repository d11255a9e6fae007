#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_FAKE_STREAM_MUX_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_FAKE_STREAM_MUX_H_

// FakeStreamMux: an in-memory StreamMux for sans-IO session tests.
//
// - Records, per stream, every byte written on our side, FIN, resets and
//   STOP_SENDING (both directions), so a test can compare wire images.
// - Plays the peer: PeerOpen / PeerSend / PeerReset / PeerStopSending /
//   PeerClose deliver StreamEvents to the attached session, with stream ids
//   of the peer's side.
// - Stream-count credit per direction (OpenStream fails with
//   RESOURCE_EXHAUSTED at zero; GrantUni/GrantBidi raise it and report
//   OnStreamCreditAvailable), and a settable queued_bytes().
// - Two fakes can be joined with Pump(a, b): each one's actions (opens,
//   bytes, FIN, resets, STOP_SENDING, close) are delivered to the other's
//   session, in order, until neither has anything left. This pairs a
//   publisher session with the test subscriber without a transport.
//
// Not thread-safe. Close() calls OnClosed synchronously, as a transport may.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "origin_bridge/stream_mux.h"

namespace moq_stats::lite::test {

class FakeStreamMux : public StreamMux {
 public:
  struct StreamRecord {
    bool ours = false;  // Opened by our side.
    bool bidi = false;
    std::string written;                        // Everything our side wrote.
    bool fin = false;                           // Our side finished.
    std::optional<uint64_t> reset_code;         // We reset our side.
    std::optional<uint64_t> stop_sending_code;  // We asked the peer to stop.
    bool peer_stopped = false;                  // The peer sent STOP_SENDING.
    std::optional<uint64_t> peer_stop_code;
    std::string received;  // Everything the peer sent.
    bool peer_fin = false;
    std::optional<uint64_t> peer_reset_code;
  };

  // `is_server` picks the initiator bit of the ids we open.
  explicit FakeStreamMux(bool is_server = false) : is_server_(is_server) {}

  // The session receiving the peer's actions; borrowed, must outlive use.
  void set_events(StreamEvents* events) { events_ = events; }

  // StreamMux.
  absl::StatusOr<uint64_t> OpenStream(bool bidirectional) override;
  absl::Status Write(uint64_t id, std::string_view data, bool fin) override;
  void ResetStream(uint64_t id, uint64_t code) override;
  void StopSending(uint64_t id, uint64_t code) override;
  void Close(uint64_t code, std::string_view reason) override;
  uint64_t queued_bytes() const override;

  // Our side, as recorded.
  const StreamRecord* stream(uint64_t id) const;
  std::string written(uint64_t id) const;
  // Ids we opened, in order, by direction.
  std::vector<uint64_t> OpenedStreams(bool bidirectional) const;
  bool closed() const { return closed_; }
  // Code and reason of our own Close, if any.
  const std::optional<CloseInfo>& close_info() const { return close_info_; }

  // Credit: how many more streams of each direction we may open.
  void set_uni_credit(uint64_t n) { uni_credit_ = n; }
  void set_bidi_credit(uint64_t n) { bidi_credit_ = n; }
  void GrantUni(uint64_t n);
  void GrantBidi(uint64_t n);
  // queued_bytes() reports `bytes` instead of the undelivered byte count.
  void set_queued_bytes(std::optional<uint64_t> bytes) { queued_override_ = bytes; }

  // The peer's actions, delivered to the attached session now.
  uint64_t PeerOpen(bool bidirectional);
  void PeerSend(uint64_t id, std::string_view data, bool fin = false);
  // PeerOpen + PeerSend.
  uint64_t PeerOpenAndSend(bool bidirectional, std::string_view data, bool fin = false);
  void PeerReset(uint64_t id, uint64_t code);
  void PeerStopSending(uint64_t id, uint64_t code);
  void PeerClose(uint64_t code, std::string_view reason);

  // Delivers the actions of `a` to `b` and of `b` to `a` until both are
  // quiet (at most `max_rounds` exchanges). Returns false if still busy.
  friend bool Pump(FakeStreamMux& a, FakeStreamMux& b, int max_rounds);

 private:
  struct Action {
    enum Kind { kOpen, kData, kReset, kStop, kClose } kind;
    uint64_t id = 0;
    std::string data;
    bool fin = false;
    uint64_t code = 0;
  };

  StreamRecord& Record(uint64_t id) { return streams_[id]; }
  // Applies a peer action to our records and reports it to the session.
  void Deliver(const Action& action);
  uint64_t NextPeerId(bool bidirectional);

  const bool is_server_;
  StreamEvents* events_ = nullptr;
  std::map<uint64_t, StreamRecord> streams_;
  std::vector<Action> outbox_;
  uint64_t next_uni_ = 0, next_bidi_ = 0, next_peer_uni_ = 0, next_peer_bidi_ = 0;
  uint64_t uni_credit_ = 1000, bidi_credit_ = 1000;
  std::optional<uint64_t> queued_override_;
  bool closed_ = false;
  std::optional<CloseInfo> close_info_;
};

bool Pump(FakeStreamMux& a, FakeStreamMux& b, int max_rounds = 1000);

}  // namespace moq_stats::lite::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_LITE_TEST_TOOLS_FAKE_STREAM_MUX_H_
