#include "tests/faults/test_tools/fault_relays.h"

#include "absl/status/statusor.h"
#include "tests/integration/test_tools/admin_http_client.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace faults {
namespace test {

namespace pb = ::moq::stats::v1;

Readings LedgerOf(const Workers& workers, const std::vector<std::string>& keys) {
  Readings out;
  for (const std::string& key : keys) out[key] = integration::test::RecordOf(workers, key);
  return out;
}

Readings LedgerOf(const CRelayProcess::Result& relay, const std::string& key) {
  Readings out;
  for (pb::Tier tier : integration::kAllTiers) {
    for (pb::Role role : integration::kAllRoles) out[key][{tier, role}] = Counts{};
  }
  out[key][{pb::TIER_EXTERNAL, pb::ROLE_PUBLISHER}] = relay.ledger[0];
  out[key][{pb::TIER_EXTERNAL, pb::ROLE_SUBSCRIBER}] = relay.ledger[1];
  return out;
}

::testing::AssertionResult PauseAll(const Workers& workers) {
  for (const auto& w : workers) {
    if (!w->Pause()) return ::testing::AssertionFailure() << "worker " << w->segment() << " did not pause";
  }
  return ::testing::AssertionSuccess();
}

void ResumeAll(const Workers& workers) {
  for (const auto& w : workers) w->Resume();
}

::testing::AssertionResult Serving(const integration::DaemonProcess& daemon) {
  absl::StatusOr<integration::HttpResponse> health = integration::HttpGet(daemon.admin_port(), "/healthz");
  if (!health.ok()) return ::testing::AssertionFailure() << "/healthz: " << health.status();
  if (health->status != 200) return ::testing::AssertionFailure() << "/healthz answered " << health->status;
  auto stub = daemon.NewStub();
  pb::GetInfoResponse info;
  grpc::Status status = integration::GetInfo(*stub, &info);
  if (!status.ok()) return ::testing::AssertionFailure() << "GetInfo: " << integration::Describe(status);
  return ::testing::AssertionSuccess();
}

}  // namespace test
}  // namespace faults
}  // namespace moq_stats
