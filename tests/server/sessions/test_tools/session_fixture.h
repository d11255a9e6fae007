#ifndef MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_FIXTURE_H_
#define MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_FIXTURE_H_

// One relay session's record over a fresh aggregator, and the check that a
// batch is refused whole.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "server/sessions/session.h"
#include "server/stats/stats.h"
#include "tests/server/sessions/test_tools/batch_builder.h"
#include "tests/server/sessions/test_tools/session_testing.h"
#include "tests/server/stats/test_tools/stats_fixture.h"

namespace moq_stats::server {
namespace test {

// AllCounts without the levels whose counters are all zero: a refused define
// may leave an empty level behind, for retention to free; what matters is
// that nothing was counted.
inline LevelCounts Counted(const Stats& stats) {
  LevelCounts out;
  for (auto& [key, counts] : AllCounts(stats)) {
    bool zero = true;
    for (const Counts& s : counts) zero = zero && s == Counts{};
    if (!zero) out.emplace(key, counts);
  }
  return out;
}

inline absl::Status ApplyTo(Session& session, const ::moq::stats::v1::Batch& batch, RejectReason* reason = nullptr) {
  RejectReason ignored = RejectReason::kNone;
  size_t deltas = 0;
  return session.Apply(batch, reason ? reason : &ignored, &deltas);
}

// Applies a batch the session must refuse, and checks the refusal: its code,
// that its message names every string of `mentions` (the entry and the
// handle), its reason, and that nothing of it was applied. Then checks that
// the session survived: a valid batch with the refused sequence is accepted.
inline void ExpectSessionRefused(Session& session, const Stats& stats, const ::moq::stats::v1::Batch& batch,
                                 absl::StatusCode code, RejectReason reason, const std::vector<std::string>& mentions) {
  const LevelCounts before = Counted(stats);
  const uint64_t applied = session.applied_sequence();
  const size_t handles = session.handle_count();
  const auto open = Flat(session.open_guards());
  const int64_t running = stats.running_publishers();

  RejectReason why = RejectReason::kNone;
  size_t deltas = 0;
  absl::Status status = session.Apply(batch, &why, &deltas);
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(why, reason) << status;
  for (const std::string& m : mentions) EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(m));

  EXPECT_EQ(Counted(stats), before) << "a refused batch changed the counters";
  EXPECT_EQ(session.applied_sequence(), applied);
  EXPECT_EQ(session.handle_count(), handles);
  EXPECT_EQ(Flat(session.open_guards()), open);
  EXPECT_EQ(stats.running_publishers(), running);

  if (batch.sequence() > applied) {
    EXPECT_TRUE(ApplyTo(session, BatchBuilder(batch.sequence())).ok())
        << "a valid batch with the refused sequence " << batch.sequence() << " was not accepted";
    EXPECT_EQ(session.applied_sequence(), batch.sequence());
    EXPECT_EQ(Counted(stats), before);
  }
}

class SessionTest : public ::testing::Test {
 protected:
  Counts Read(const std::string& key, Tier tier, Role role) { return f_.Read(key, tier, role); }
  void ApplyOk(const ::moq::stats::v1::Batch& batch) {
    absl::Status s = ApplyTo(session_, batch);
    ASSERT_TRUE(s.ok()) << s;
  }
  void ExpectRefused(const ::moq::stats::v1::Batch& batch, absl::StatusCode code, RejectReason reason,
                     const std::vector<std::string>& mentions) {
    ExpectSessionRefused(session_, f_.stats(), batch, code, reason, mentions);
  }

  StatsFixture f_{2};
  Session session_{"session-1", "relay-a", f_.stats(), SessionLimits{}};
};

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_SESSION_FIXTURE_H_
