#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_ENV_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_ENV_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/time/time.h"

namespace moq_stats {
namespace faults {
namespace test {

// What a fault scenario takes from its environment, so that `make test` runs
// it briefly and `make soak` runs the same code for longer:
//
//   FAULT_SEED=<n>      the seed of every random choice (default: from the
//                       clock); printed at the start of each scenario, so a
//                       failing run can be replayed.
//   SOAK_SECONDS=<n>    run each scenario's loop for about n seconds instead
//                       of its short default count.

// The seed of this run: FAULT_SEED, or one drawn from the clock. Printed
// (with the scenario's name) on stdout.
uint64_t ScenarioSeed(const std::string& scenario);

// How long the loop of a scenario runs: SOAK_SECONDS when set (a soak),
// else `brief`.
absl::Duration ScenarioBudget(absl::Duration brief);

// Whether SOAK_SECONDS is set.
bool Soaking();

// The loop bound of a scenario: `brief` iterations in a test run, many more
// (bounded by the budget's time) in a soak.
int ScenarioIterations(int brief);

// One row of the soak table, printed on stdout as
//   FAULT-ROW <scenario> <iterations> <kills> <bumps> <max RSS KiB> <PASS|FAIL>
// and read back by scripts/soak.sh.
struct ScenarioRow {
  std::string scenario;
  uint64_t iterations = 0;
  uint64_t kills = 0;  // daemon or relay processes killed, sessions dropped
  uint64_t bumps = 0;  // counter increments the relays made
  uint64_t max_rss_kib = 0;
};
void PrintRow(const ScenarioRow& row, bool passed);

// A random generator seeded by ScenarioSeed.
using Rng = std::mt19937_64;

// A duration drawn uniformly from [lo, hi].
absl::Duration RandomDuration(Rng& rng, absl::Duration lo, absl::Duration hi);

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_ENV_H_
