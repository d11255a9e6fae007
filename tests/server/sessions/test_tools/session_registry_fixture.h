#ifndef MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_REGISTRY_FIXTURE_H_
#define MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_REGISTRY_FIXTURE_H_

// A SessionRegistry over a fresh aggregator and simulated time, with the
// traffic and options its tests share.
//
// Time is simulated: the grace period and the publishers' ticks run only in
// StatsFixture::Advance. Nothing sleeps.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/sessions/session.h"
#include "server/sessions/session_registry.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace test {

// Lock-order inversions abort the test binary instead of passing unseen.
class DeadlockDetection : public ::testing::Environment {
 public:
  void SetUp() override { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort); }
};
[[maybe_unused]] inline ::testing::Environment* const kDeadlockDetection =
    ::testing::AddGlobalTestEnvironment(new DeadlockDetection);

using Attachment = SessionRegistry::Attachment;

inline constexpr absl::Duration kGrace = absl::Seconds(10);

inline uint64_t Rejected(const SessionRegistry& registry, RejectReason reason) {
  return registry.counts().rejected[static_cast<size_t>(reason)];
}

inline SessionRegistryOptions DefaultOptions() {
  SessionRegistryOptions options;
  options.grace = kGrace;
  return options;
}

// Traffic with guards left open: handle 1 "a/b" external (publisher: 1
// broadcast, 2 subscriptions; subscriber: 1 broadcast, 1 subscription) and
// handle 2 "a/c" internal (subscriber: 2 broadcasts, 3 subscriptions).
inline ::moq::stats::v1::Batch OpenTraffic(uint64_t sequence) {
  return BatchBuilder(sequence)
      .Define(1, "a/b")
      .Define(2, "a/c", kIntTier)
      .Add(DeltaFor(1, kPubRole).broadcasts_opened(1).subscriptions_opened(2).bytes(100).frames(2).groups(1))
      .Add(DeltaFor(1, kSubRole).broadcasts_opened(1).subscriptions_opened(1).bytes(40))
      .Add(DeltaFor(2, kSubRole).broadcasts_opened(2).subscriptions_opened(3).frames(7));
}
inline constexpr std::array<uint64_t, 4> kOpenTrafficGuards = {1, 2, 3, 4};

class SessionRegistryTest : public ::testing::Test {
 protected:
  void Recreate(SessionRegistryOptions options) {
    registry_ = SessionRegistry::Create(f_.stats(), &f_.time().scheduler(), &f_.time().clock(), options);
  }
  // `on_lost`: called when the stream loses the session (taken over or
  // evicted).
  SessionRegistry::Attached AttachOk(const std::string& id, std::function<void()> on_lost = nullptr) {
    SessionRegistry::LostFn lost;
    if (on_lost) lost = [on_lost = std::move(on_lost)](const absl::Status&) { on_lost(); };
    auto attached = registry_->Attach(id, "relay-" + id, std::move(lost));
    EXPECT_TRUE(attached.ok()) << attached.status();
    return attached.ok() ? *attached : SessionRegistry::Attached{};
  }
  void ApplyOk(const Attachment& attachment, const ::moq::stats::v1::Batch& batch) {
    absl::Status s = registry_->Apply(attachment, batch);
    EXPECT_TRUE(s.ok()) << s;
  }
  Counts Read(const std::string& key, Tier tier, Role role) { return f_.Read(key, tier, role); }

  StatsFixture f_{2};
  std::shared_ptr<SessionRegistry> registry_ =
      SessionRegistry::Create(f_.stats(), &f_.time().scheduler(), &f_.time().clock(), DefaultOptions());
};

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_REGISTRY_FIXTURE_H_
