// libFuzzer target: every moq-lite decoder, for every version, on the same
// input. The only property checked is that decoding does not crash; a
// decoded message must also re-encode without crashing.
//
// Not built by CMake yet. By hand, from the project root:
//   clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
//     tests/origin_bridge/lite/messages_fuzzer.cc origin_bridge/lite/wire.cc \
//     origin_bridge/lite/messages.cc \
//     $(pkg-config --libs absl_status absl_strings) -o messages_fuzzer
//   ./messages_fuzzer tests/fuzz/lite_messages

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "origin_bridge/lite/messages.h"

namespace {

using namespace moqstats::lite;  // NOLINT: fuzz harness only.

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
  for (Version version :
       {Version::kLite03, Version::kLite04, Version::kLite05}) {
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
