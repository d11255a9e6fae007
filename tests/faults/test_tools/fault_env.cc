#include "tests/faults/test_tools/fault_env.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace moq_stats {
namespace faults {
namespace test {
namespace {

// The value of `name` as a positive integer, or 0 when unset or not one.
uint64_t EnvNumber(const char* name) {
  const char* value = std::getenv(name);
  uint64_t n = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &n)) return 0;
  return n;
}

}  // namespace

uint64_t ScenarioSeed(const std::string& scenario) {
  uint64_t seed = EnvNumber("FAULT_SEED");
  if (seed == 0) seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) % 1000000007u + 1;
  std::printf("%s: FAULT_SEED=%llu (set FAULT_SEED to replay)\n", scenario.c_str(),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  return seed;
}

bool Soaking() { return EnvNumber("SOAK_SECONDS") > 0; }

absl::Duration ScenarioBudget(absl::Duration brief) {
  const uint64_t soak = EnvNumber("SOAK_SECONDS");
  return soak > 0 ? absl::Seconds(static_cast<int64_t>(soak)) : brief;
}

int ScenarioIterations(int brief) { return Soaking() ? 1000000 : brief; }

void PrintRow(const ScenarioRow& row, bool passed) {
  std::printf("FAULT-ROW %s %llu %llu %llu %llu %s\n", row.scenario.c_str(),
              static_cast<unsigned long long>(row.iterations), static_cast<unsigned long long>(row.kills),
              static_cast<unsigned long long>(row.bumps), static_cast<unsigned long long>(row.max_rss_kib),
              passed ? "PASS" : "FAIL");
  std::fflush(stdout);
}

absl::Duration RandomDuration(Rng& rng, absl::Duration lo, absl::Duration hi) {
  const int64_t lo_us = absl::ToInt64Microseconds(lo);
  const int64_t hi_us = absl::ToInt64Microseconds(hi);
  std::uniform_int_distribution<int64_t> dist(lo_us, hi_us < lo_us ? lo_us : hi_us);
  return absl::Microseconds(dist(rng));
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
