#include "tests/origin_bridge/lite/test_tools/publisher_harness.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats::lite::test {

std::string Unhex(std::string_view text) {
  std::string out;
  int nibbles = 0;
  unsigned value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t end = text.find('"', i + 1);
      out.append(text.substr(i + 1, end - i - 1));
      i = end;
      continue;
    }
    if (c == '{') {
      const size_t end = text.find('}', i);
      out.append(text.substr(i, end - i + 1));
      i = end;
      continue;
    }
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) continue;
    value = value * 16 + static_cast<unsigned>(digit);
    if (++nibbles == 2) {
      out.push_back(static_cast<char>(value));
      nibbles = 0;
      value = 0;
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(' ');
    const auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string ControlStream(lite::ControlStreamType type, std::string_view message) {
  std::string out;
  lite::AppendVarint(static_cast<uint64_t>(type), &out);
  out.append(message.data(), message.size());
  return out;
}

lite::PublisherOptions PublisherHarness::DefaultOptions() {
  lite::PublisherOptions options;
  options.origin_id = kOriginId;
  return options;
}

PublisherHarness::PublisherHarness(lite::Version version, lite::PublisherOptions options) {
  options.version = version;
  if (options.clock == nullptr) options.clock = &clock;
  session = std::make_unique<lite::PublisherSession>(options, &mux, &origin, [this] { wakes.fetch_add(1); });
  mux.set_events(session.get());
  session->Start();
}

BroadcastProducer* PublisherHarness::Publish(std::string_view path, const std::vector<std::string>& tracks) {
  auto producer = origin.Publish(Path(path), tracks);
  EXPECT_TRUE(producer.ok()) << producer.status();
  if (!producer.ok()) return nullptr;
  producers.push_back(std::move(producer).value());
  return producers.back().get();
}

void PublisherHarness::Unpublish(BroadcastProducer* producer) {
  for (auto it = producers.begin(); it != producers.end(); ++it) {
    if (it->get() == producer) {
      producers.erase(it);
      return;
    }
  }
}

std::vector<uint64_t> PublisherHarness::GroupStreams() const {
  std::vector<uint64_t> out;
  for (uint64_t id : mux.OpenedStreams(false)) {
    const std::string bytes = mux.written(id);
    if (!bytes.empty() && bytes[0] == 0) out.push_back(id);
  }
  return out;
}

}  // namespace moq_stats::lite::test
