// libFuzzer target: a PublisherSession over a FakeStreamMux, driven by a
// script decoded from the input (the peer opening streams and sending
// arbitrary bytes, resets, STOP_SENDING, credit changes, close; the origin
// publishing, writing groups and unpublishing; Poll). The only property
// checked is that nothing crashes (ASan/UBSan catch memory errors).
//
// Built with -DMOQSTATS_FUZZ=ON (clang) and run briefly by `make test`
// through scripts/run-fuzzers.sh, on a copy of tests/fuzz/lite_publisher_session.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "origin/origin.h"
#include "origin_bridge/lite/publisher_session.h"
#include "tests/origin_bridge/lite/test_tools/fake_stream_mux.h"

namespace {

using namespace moq_stats;  // NOLINT: fuzz harness only.

class Script {
 public:
  Script(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string_view Bytes(size_t n) {
    if (n > size_ - pos_) n = size_ - pos_;
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Script script(data, size);
  const uint8_t mode = script.Byte();
  lite::PublisherOptions options;
  options.version = mode % 3 == 0   ? lite::Version::kLite03
                    : mode % 3 == 1 ? lite::Version::kLite04
                                    : lite::Version::kLite05;
  options.close_on_stream_error = (mode & 0x4) != 0;
  options.max_message_size = (mode & 0x8) != 0 ? 16 : 1024;
  options.max_subscriptions = 4;

  Origin origin;
  std::vector<std::unique_ptr<BroadcastProducer>> broadcasts(3);
  const char* const kPaths[] = {"a", "a/b", "c"};
  lite::test::FakeStreamMux mux((mode & 0x10) != 0);
  {
    lite::PublisherSession session(options, &mux, &origin, [] {});
    mux.set_events(&session);
    session.Start();
    std::vector<uint64_t> streams;
    for (int step = 0; step < 4096 && !script.done(); ++step) {
      const uint8_t op = script.Byte();
      const uint8_t arg = script.Byte();
      const uint64_t stream = streams.empty() ? 0 : streams[arg % streams.size()];
      switch (op % 12) {
        case 0:
        case 1:
          streams.push_back(mux.PeerOpen(op % 2 == 0));
          break;
        case 2:
        case 3:
          if (!streams.empty()) mux.PeerSend(stream, script.Bytes(arg % 32), op & 0x10);
          break;
        case 4:
          if (!streams.empty()) mux.PeerReset(stream, arg);
          break;
        case 5:
          if (!streams.empty()) mux.PeerStopSending(stream, arg);
          break;
        case 6:
          session.Poll();
          break;
        case 7: {
          std::unique_ptr<BroadcastProducer>& b = broadcasts[arg % 3];
          if (b && b->track("t")) b->track("t")->WriteFrame(std::string(arg % 5, 'x'));
          break;
        }
        case 8: {
          std::unique_ptr<BroadcastProducer>& b = broadcasts[arg % 3];
          if (b) {
            b.reset();
          } else {
            auto p = origin.Publish(Path(kPaths[arg % 3]), {"t"});
            if (p.ok()) b = std::move(p).value();
          }
          break;
        }
        case 9:
          if (arg & 1) {
            mux.GrantUni(arg % 4);
          } else {
            mux.set_uni_credit(0);
          }
          break;
        case 10:
          mux.set_queued_bytes(arg % 2 == 0 ? std::optional<uint64_t>() : std::optional<uint64_t>(uint64_t{1} << 40));
          break;
        case 11:
          if (arg == 0xff) mux.PeerClose(arg, "fuzz");
          session.OnStreamCreditAvailable();
          break;
      }
    }
    session.Poll();
    (void)session.counters();
    broadcasts.clear();
    session.Poll();
    mux.set_events(nullptr);
  }
  return 0;
}
