// libFuzzer target: every moq-lite decoder, for every version, on the same
// input. The only property checked is that decoding does not crash; a
// decoded message must also re-encode without crashing.
//
// Built with -DMOQSTATS_FUZZ=ON (clang) and run briefly by `make test`
// through scripts/run-fuzzers.sh, on a copy of tests/fuzz/lite_messages.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "origin_bridge/lite/messages.h"

namespace {

using namespace moq_stats::lite;  // NOLINT: fuzz harness only.

template <typename T>
void DecodeAndReencode(Version version, std::string_view bytes) {
  DecodeResult<T> result = T::Decode(version, bytes);
  if (result.ok()) {
    std::string out;
    (void)result.value.Encode(version, &out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (Version version : {Version::kLite03, Version::kLite04, Version::kLite05}) {
    DecodeAndReencode<Setup>(version, bytes);
    DecodeAndReencode<AnnounceRequest>(version, bytes);
    DecodeAndReencode<AnnounceOk>(version, bytes);
    DecodeAndReencode<Announce>(version, bytes);
    DecodeAndReencode<Track>(version, bytes);
    DecodeAndReencode<TrackInfo>(version, bytes);
    DecodeAndReencode<Subscribe>(version, bytes);
    DecodeAndReencode<SubscribeOk>(version, bytes);
    DecodeAndReencode<SubscribeStart>(version, bytes);
    DecodeAndReencode<SubscribeEnd>(version, bytes);
    DecodeAndReencode<SubscribeDrop>(version, bytes);
    DecodeAndReencode<SubscribeUpdate>(version, bytes);
    DecodeAndReencode<GroupHeader>(version, bytes);
    DecodeAndReencode<Frame>(version, bytes);
    DecodeAndReencode<Fetch>(version, bytes);
    (void)DecodeSubscribeResponse(version, bytes);
  }
  return 0;
}
