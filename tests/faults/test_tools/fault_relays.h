#ifndef MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_RELAYS_H_
#define MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_RELAYS_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moq_stats/stats.h"
#include "tests/client/test_tools/client_integration_tools.h"
#include "tests/faults/test_tools/c_relay_process.h"
#include "tests/faults/test_tools/ledger_levels.h"
#include "tests/integration/test_tools/daemon_process.h"

namespace moq_stats {
namespace faults {
namespace test {

using integration::test::Worker;
using Workers = std::vector<std::unique_ptr<Worker>>;

// The workers' ledger of the levels `keys` (first segments, or "" for all of
// them).
Readings LedgerOf(const Workers& workers, const std::vector<std::string>& keys);

// The ledger of a C ABI relay (external tier) as the level `key`.
Readings LedgerOf(const CRelayProcess::Result& relay, const std::string& key);

// Pauses or resumes every worker (each pause bounded).
::testing::AssertionResult PauseAll(const Workers& workers);
void ResumeAll(const Workers& workers);

// /healthz answers 200 and GetInfo answers OK: the daemon serves.
::testing::AssertionResult Serving(const integration::DaemonProcess& daemon);

}  // namespace test
}  // namespace faults
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_FAULTS_TEST_TOOLS_FAULT_RELAYS_H_
