#ifndef MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_RECORDING_STREAM_EVENTS_H_
#define MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_RECORDING_STREAM_EVENTS_H_

// A StreamEvents that writes down everything a transport reports: streams
// opened (in order), bytes per stream, FINs, resets, stop-sendings, credit
// notices and the close. Optional hooks run after each record is taken, so a
// test can call back into the transport from inside a callback.
//
// Not thread-safe; for tests driven from one thread.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "origin_bridge/stream_mux.h"

namespace moq_stats::qmux::test {

class RecordingStreamEvents : public StreamEvents {
 public:
  void OnStreamOpened(uint64_t id) override {
    opened.push_back(id);
    if (on_opened) on_opened(id);
  }
  void OnStreamData(uint64_t id, std::string_view data, bool fin) override {
    this->data[id].append(data);
    ++data_calls;
    if (fin) finished.insert(id);
    if (on_data) on_data(id, data, fin);
  }
  void OnStreamReset(uint64_t id, uint64_t code) override {
    resets[id] = code;
    if (on_reset) on_reset(id, code);
  }
  void OnStopSending(uint64_t id, uint64_t code) override {
    stops[id] = code;
    if (on_stop_sending) on_stop_sending(id, code);
  }
  void OnStreamCreditAvailable() override {
    ++credit_available;
    if (on_credit) on_credit();
  }
  void OnClosed(const CloseInfo& info) override {
    ++closed_calls;
    close = info;
    if (on_closed) on_closed(info);
  }

  std::vector<uint64_t> opened;
  std::map<uint64_t, std::string> data;
  int data_calls = 0;
  std::set<uint64_t> finished;
  std::map<uint64_t, uint64_t> resets;
  std::map<uint64_t, uint64_t> stops;
  int credit_available = 0;
  int closed_calls = 0;
  std::optional<CloseInfo> close;

  std::function<void(uint64_t)> on_opened;
  std::function<void(uint64_t, std::string_view, bool)> on_data;
  std::function<void(uint64_t, uint64_t)> on_reset;
  std::function<void(uint64_t, uint64_t)> on_stop_sending;
  std::function<void()> on_credit;
  std::function<void(const CloseInfo&)> on_closed;
};

}  // namespace moq_stats::qmux::test

#endif  // MOQ_STATS_TESTS_ORIGIN_BRIDGE_QMUX_TEST_TOOLS_RECORDING_STREAM_EVENTS_H_
