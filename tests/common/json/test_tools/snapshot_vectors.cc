// The C++ side of tests/interop/json_snapshot_test.mjs, which checks this
// snapshot codec against @moq/json.
//
//   snapshot_vectors encode [--compression=on|off] [--delta-ratio=N] [--ticks=N] [--paths=N] [--seed=N]
//     Encodes a seeded sequence of stats-like values (test_tools/stats_values.h,
//     on its Scheduled ticks) and prints one JSON line per tick:
//       {"step":S,"group":G,"frame":F,"payload":"<hex>","value":V}
//     or, when the value did not change and nothing is written,
//       {"step":S,"value":V}
//     G counts groups from 0, F frames within the group (0 = snapshot).
//
//   snapshot_vectors decode [--compression=on|off]
//     Reads lines "snapshot <hex>" / "delta <hex>" from stdin and prints,
//     after each, the decoded value as one line of JSON. A frame that does
//     not decode prints "error: <status>" and exits 1.
//
// Exit status 2 for a bad command line.

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json/serialize.h"
#include "common/json/snapshot_decoder.h"
#include "common/json/snapshot_encoder.h"
#include "tests/common/json/test_tools/stats_values.h"

namespace moq_stats::json::test {
namespace {

struct Flags {
  bool compression = true;
  uint32_t delta_ratio = 8;
  int ticks = 700;
  uint32_t paths = 30;
  uint32_t seed = 1;
};

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool ParseFlag(std::string_view arg, Flags* flags) {
  const size_t eq = arg.find('=');
  if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) return false;
  const std::string_view name = arg.substr(2, eq - 2);
  const std::string_view value = arg.substr(eq + 1);
  if (name == "compression") {
    if (value != "on" && value != "off") return false;
    flags->compression = value == "on";
    return true;
  }
  if (name == "delta-ratio") return absl::SimpleAtoi(Absl(value), &flags->delta_ratio);
  if (name == "ticks") return absl::SimpleAtoi(Absl(value), &flags->ticks) && flags->ticks >= 0;
  if (name == "paths") return absl::SimpleAtoi(Absl(value), &flags->paths);
  if (name == "seed") return absl::SimpleAtoi(Absl(value), &flags->seed);
  return false;
}

int Encode(const Flags& flags) {
  SnapshotEncoderOptions options;
  options.compression = flags.compression;
  options.delta_ratio = flags.delta_ratio;
  SnapshotEncoder encoder(options);
  StatsValues stats(flags.seed, flags.paths);
  int group = -1;
  int frame_in_group = 0;
  std::string line;
  for (int step = 0; step < flags.ticks; ++step) {
    Value value = stats.Next(StatsValues::Scheduled(step));
    absl::StatusOr<std::optional<EncodedFrame>> frame = encoder.Encode(value);
    if (!frame.ok()) {
      std::cerr << "snapshot_vectors: encode failed: " << frame.status() << "\n";
      return 1;
    }
    line = absl::StrCat("{\"step\":", step);
    if (frame->has_value()) {
      if ((*frame)->snapshot) {
        ++group;
        frame_in_group = 0;
      } else {
        ++frame_in_group;
      }
      absl::StrAppend(&line, ",\"group\":", group, ",\"frame\":", frame_in_group, ",\"payload\":\"",
                      absl::BytesToHexString((*frame)->payload), "\"");
    }
    line += ",\"value\":";
    AppendSerialized(value, &line);
    line += "}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int Decode(const Flags& flags) {
  SnapshotDecoderOptions options;
  options.compression = flags.compression;
  SnapshotDecoder decoder(options);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    const std::string kind = line.substr(0, space);
    const std::string payload = absl::HexStringToBytes(space == std::string::npos ? "" : line.substr(space + 1));
    absl::Status status;
    if (kind == "snapshot") {
      status = decoder.Snapshot(payload);
    } else if (kind == "delta") {
      status = decoder.Delta(payload);
    } else {
      status = absl::InvalidArgumentError(absl::StrCat("not a frame line: ", line));
    }
    if (!status.ok()) {
      std::cout << "error: " << status << std::endl;
      return 1;
    }
    std::string out = Serialize(*decoder.value());
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

int Main(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: snapshot_vectors encode|decode [--compression=on|off] [--delta-ratio=N] [--ticks=N] [--paths=N] "
      "[--seed=N]\n";
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  Flags flags;
  for (int i = 2; i < argc; ++i) {
    if (!ParseFlag(argv[i], &flags)) {
      std::cerr << "snapshot_vectors: bad flag " << argv[i] << "\n" << kUsage;
      return 2;
    }
  }
  const std::string_view command = argv[1];
  if (command == "encode") return Encode(flags);
  if (command == "decode") return Decode(flags);
  std::cerr << kUsage;
  return 2;
}

}  // namespace
}  // namespace moq_stats::json::test

int main(int argc, char** argv) { return moq_stats::json::test::Main(argc, argv); }
