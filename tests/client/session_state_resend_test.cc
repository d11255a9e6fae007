// SessionState on a welcome that resumes the session: the batches in
// flight after what the sidecar applied are resent, exactly.

#include <cstdint>
#include <memory>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "client/src/handle.h"
#include "client/src/session_state.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.pb.h"
#include "tests/client/test_tools/session_state_tools.h"

namespace moq_stats {
namespace internal {
namespace test {
namespace {

using ::google::protobuf::util::MessageDifferencer;

// ---------------------------------------------------------------------------
// Welcome: resend

// Four batches in flight, none acknowledged, on a first welcome.
struct FourInFlight {
  SessionState state{1024, 16};
  std::shared_ptr<Handle> h = NewHandle(1, "a/b");
  std::vector<pb::Batch> sent;

  FourInFlight() {
    EXPECT_TRUE(state.OnWelcome(false, 0).empty()) << "a fresh session: nothing to resend or resync";
    state.Track(h);
    for (uint64_t i = 1; i <= 4; ++i) {
      if (i == 1) OpenTrack(*h, kPub);
      Bytes(*h, kPub, i);
      std::vector<pb::Batch> b = state.Collect();
      EXPECT_EQ(b.size(), 1u);
      sent.insert(sent.end(), b.begin(), b.end());
    }
  }
};

TEST(SessionStateTest, ResumedWelcomeResendsExactlyTheBatchesAfterApplied) {
  FourInFlight f;
  ASSERT_EQ(f.sent.size(), 4u);
  std::vector<pb::Batch> resend = f.state.OnWelcome(true, 2);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(resend[0], f.sent[2])) << resend[0].DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(resend[1], f.sent[3])) << resend[1].DebugString();
  EXPECT_EQ(f.state.inflight(), 2u);
  EXPECT_EQ(f.state.acked_sequence(), 2u);
  EXPECT_EQ(f.state.resyncs(), 0u);

  // Another break before any ack: the same two again.
  resend = f.state.OnWelcome(true, 2);
  ASSERT_EQ(resend.size(), 2u);
  EXPECT_EQ(resend[0].sequence(), 3u);
  EXPECT_EQ(resend[1].sequence(), 4u);

  // Applied everything before the break: nothing to resend.
  EXPECT_TRUE(f.state.OnWelcome(true, 4).empty());
  EXPECT_EQ(f.state.inflight(), 0u);
  EXPECT_EQ(f.state.resyncs(), 0u);
}

TEST(SessionStateTest, ResumedWelcomeAtZeroResendsEverythingInOrder) {
  FourInFlight f;
  std::vector<pb::Batch> resend = f.state.OnWelcome(true, 0);
  ASSERT_EQ(resend.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(MessageDifferencer::Equals(resend[i], f.sent[i])) << i;
  EXPECT_EQ(f.state.resyncs(), 0u);
}

TEST(SessionStateTest, AfterAnAckNothingIsResent) {
  FourInFlight f;
  f.state.OnAck(4);
  EXPECT_EQ(f.state.inflight(), 0u);
  EXPECT_TRUE(f.state.OnWelcome(true, 4).empty());
  // New batches continue the sequence.
  Bytes(*f.h, kPub, 1);
  std::vector<pb::Batch> next = f.state.Collect();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence(), 5u);
  EXPECT_EQ(next[0].defines_size(), 0);
}

}  // namespace
}  // namespace test
}  // namespace internal
}  // namespace moq_stats
