#ifndef MOQ_STATS_TESTS_SERVER_TEST_TOOLS_SIDECAR_FLAGS_TESTING_H_
#define MOQ_STATS_TESTS_SERVER_TEST_TOOLS_SIDECAR_FLAGS_TESTING_H_

// Parsing the daemon's command line in tests: a fake environment, the parse
// of the arguments after the program name, and the error of a parse that
// must fail.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/sidecar_config.h"

namespace moq_stats::server {
namespace test {

using Env = std::map<std::string, std::string>;

// A getenv backed by a map; the map must outlive the function.
inline GetEnvFn FakeGetEnv(const Env& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

// Parses `args` as the arguments after the program name.
inline absl::StatusOr<ParsedSidecarFlags> Parse(std::vector<std::string> args, const Env& env = {}) {
  args.insert(args.begin(), "moq-stats-sidecar");
  return ParseSidecarFlags(args, FakeGetEnv(env));
}

// The described value of setting `flag`.
inline std::string Described(const SidecarConfig& config, const std::string& flag) {
  for (const auto& [name, value] : DescribeSidecarConfig(config)) {
    if (name == flag) return value;
  }
  ADD_FAILURE() << "no setting " << flag;
  return "";
}

// The message of a parse that must fail with INVALID_ARGUMENT.
inline std::string ParseError(std::vector<std::string> args, const Env& env = {}) {
  auto parsed = Parse(std::move(args), env);
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
  return std::string(parsed.status().message());
}

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_TEST_TOOLS_SIDECAR_FLAGS_TESTING_H_
