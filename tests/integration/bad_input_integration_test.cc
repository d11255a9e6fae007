// End to end: every bad input of the Session stream gets the status
// stats.proto gives it, with a message naming the offending entry, and
// changes nothing; the session survives it and the daemon stays healthy.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"
#include "tests/integration/test_tools/count_model.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/grpc_status_testing.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr char kSession[] = "bad-input-relay";

// Small limits, so that each can be crossed; a grace period long enough that
// the session, detached by each refusal, is never expired between cases.
const std::vector<std::string> kFlags = {"--stats-levels=2", "--max-batch-entries=8", "--max-handles=4",
                                         "--max-levels=6",   "--max-sessions=2",      "--grace=60s"};

// Applied first: handles 1 and 2 with open guards; 4 levels ("", ok, ok/a,
// ok/b) and 2 handles, so 2 more levels and 2 more handles fit.
pb::Batch BaseBatch() {
  pb::Batch batch;
  batch.set_sequence(1);
  *batch.add_defines() = MakeDefine(1, "ok/a/x", pb::TIER_EXTERNAL);
  *batch.add_defines() = MakeDefine(2, "ok/b", pb::TIER_INTERNAL);
  *batch.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {1, 0, 2, 0, 100, 1, 1});
  *batch.add_deltas() = MakeDelta(2, pb::ROLE_SUBSCRIBER, {1, 0, 1, 0, 10, 1, 0});
  return batch;
}

// A valid entry to put before the bad one: refused whole, it must not count.
pb::HandleDelta HarmlessDelta() { return MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 1, 0, 5, 1, 0}); }

struct BadBatchCase {
  std::string name;
  std::function<pb::Batch()> batch;
  grpc::StatusCode code;
  std::vector<std::string> message_has;  // each must appear in the message
};
void PrintTo(const BadBatchCase& c, std::ostream* os) { *os << c.name; }

std::vector<BadBatchCase> BadBatchCases() {
  std::vector<BadBatchCase> cases;
  auto next = [] {
    pb::Batch batch;
    batch.set_sequence(2);
    return batch;
  };
  cases.push_back({"UnknownHandleInDelta",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();
                     *b.add_deltas() = MakeDelta(99, pb::ROLE_PUBLISHER, {0, 0, 0, 0, 1, 0, 0});
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"deltas[1]", "unknown handle 99"}});
  cases.push_back({"UnknownHandleInRelease",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();
                     b.add_releases(77);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"releases[0]", "unknown handle 77"}});
  cases.push_back({"HandleRedefinedWithAnotherPath",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(1, "ok/elsewhere", pb::TIER_EXTERNAL);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::FAILED_PRECONDITION,
                   {"defines[0]", "handle 1"}});
  cases.push_back({"HandleRedefinedWithAnotherTier",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(1, "ok/a/x", pb::TIER_INTERNAL);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::FAILED_PRECONDITION,
                   {"defines[0]", "handle 1"}});
  // Regression test; it once exposed this, now fixed: a path that is not UTF-8 never reaches the daemon's check.
  // Define.path is a proto3 `string`, so the daemon's protobuf parser refuses
  // the whole request; SessionStream::OnReadDone(false) takes that for the
  // relay half-closing and ends the stream with OK, instead of the
  // INVALID_ARGUMENT naming defines[0] that stats.proto promises.
  cases.push_back({"PathNotUtf8",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();
                     *b.add_defines() = MakeDefine(3, std::string("ok/\xff\xfe/x", 8), pb::TIER_EXTERNAL);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"defines[0]", "UTF-8"}});
  cases.push_back({"PathOver1024Bytes",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(3, "ok/" + std::string(1022, 'a'), pb::TIER_EXTERNAL);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"defines[0]", "1025 bytes", "1024"}});
  cases.push_back({"PathOver32Segments",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(3, "ok/a/x", pb::TIER_EXTERNAL);  // same as handle 1: fine
                     std::string path = "s";
                     for (int i = 1; i < 33; ++i) path += "/s";
                     *b.add_defines() = MakeDefine(4, path, pb::TIER_EXTERNAL);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"defines[1]", "33 segments", "32"}});
  cases.push_back({"SequenceRepeated",
                   [] {
                     pb::Batch b;
                     b.set_sequence(1);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::OUT_OF_RANGE,
                   {"sequence 1", "last applied sequence 1"}});
  cases.push_back({"SequenceZero",
                   [] {
                     pb::Batch b;
                     b.set_sequence(0);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::OUT_OF_RANGE,
                   {"sequence 0"}});
  cases.push_back({"OverMaxBatchEntries",
                   [next] {
                     pb::Batch b = next();
                     for (int i = 0; i < 9; ++i) *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::RESOURCE_EXHAUSTED,
                   {"batch 2", "9 entries", "max_batch_entries"}});
  cases.push_back({"OverMaxHandles",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(5, "ok/a/1", pb::TIER_EXTERNAL);
                     *b.add_defines() = MakeDefine(6, "ok/a/2", pb::TIER_EXTERNAL);
                     *b.add_defines() = MakeDefine(7, "ok/a/3", pb::TIER_EXTERNAL);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::RESOURCE_EXHAUSTED,
                   {"defines[2]", "handle 7", "max_handles"}});
  cases.push_back({"ClosesMoreGuardsThanOpen",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();  // 3 subscriptions open after it
                     *b.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, 1, 5, 0, 0, 0});
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"deltas[1]", "handle 1", "closes 5"}});
  cases.push_back({"ClosesGuardsInTheRoleThatHasNone",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = MakeDelta(2, pb::ROLE_PUBLISHER, {0, 1, 0, 0, 0, 0, 0});
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"deltas[0]", "handle 2"}});
  cases.push_back({"ReleaseWithOpenGuards",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();
                     b.add_releases(2);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"releases[0]", "handle 2"}});
  cases.push_back({"TierUnspecified",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(3, "ok/c", pb::TIER_UNSPECIFIED);
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"defines[0]", "handle 3", "tier"}});
  cases.push_back({"RoleUnspecified",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = HarmlessDelta();
                     *b.add_deltas() = MakeDelta(1, pb::ROLE_UNSPECIFIED, {0, 0, 0, 0, 1, 0, 0});
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"deltas[1]", "handle 1", "role"}});
  // Beyond the list in stats.proto, the other ways a batch can be wrong.
  cases.push_back({"OpenCountOverflows",
                   [next] {
                     pb::Batch b = next();
                     *b.add_deltas() = MakeDelta(1, pb::ROLE_PUBLISHER, {0, 0, UINT64_MAX, 0, 0, 0, 0});
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"deltas[0]", "handle 1", "overflows"}});
  cases.push_back({"ReleasedTwice",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(3, "ok/c", pb::TIER_EXTERNAL);
                     b.add_releases(3);
                     b.add_releases(3);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"releases[1]", "handle 3"}});
  cases.push_back({"OpenGuardsWithoutResync",
                   [next] {
                     pb::Batch b = next();
                     pb::OpenGuards* open = b.add_open();
                     open->set_handle(1);
                     open->set_role(pb::ROLE_PUBLISHER);
                     open->set_subscriptions(5);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"open[0]", "resync"}});
  cases.push_back({"ResyncOfAnUnknownHandle",
                   [next] {
                     pb::Batch b = next();
                     b.set_resync(true);
                     pb::OpenGuards* open = b.add_open();
                     open->set_handle(42);
                     open->set_role(pb::ROLE_PUBLISHER);
                     open->set_subscriptions(1);
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"open[0]", "unknown handle 42"}});
  cases.push_back({"ResyncListsAHandleTwice",
                   [next] {
                     pb::Batch b = next();
                     b.set_resync(true);
                     for (int i = 0; i < 2; ++i) {
                       pb::OpenGuards* open = b.add_open();
                       open->set_handle(1);
                       open->set_role(pb::ROLE_PUBLISHER);
                       open->set_subscriptions(1);
                     }
                     return b;
                   },
                   grpc::StatusCode::INVALID_ARGUMENT,
                   {"open[1]", "handle 1"}});
  cases.push_back({"OverMaxLevels",
                   [next] {
                     pb::Batch b = next();
                     *b.add_defines() = MakeDefine(3, "lim", pb::TIER_EXTERNAL);      // 1 more level: 5
                     *b.add_defines() = MakeDefine(4, "other/x", pb::TIER_INTERNAL);  // 2 more: 7 > 6
                     *b.add_deltas() = HarmlessDelta();
                     return b;
                   },
                   grpc::StatusCode::RESOURCE_EXHAUSTED,
                   {"defines[1]", "handle 4", "max_levels"}});
  return cases;
}

class BadInputFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start());
    stub_ = daemon_.NewStub();
    RelayStream relay(daemon_.channel());
    ASSERT_GRPC_OK(relay.Open(kSession, nullptr));
    ASSERT_TRUE(relay.Send(BaseBatch()));
    ASSERT_GRPC_OK(relay.WaitAck(1));
    // Detached: the session waits in its grace period for the next stream.
    ASSERT_GRPC_OK(relay.HalfClose());
  }

  std::map<std::string, pb::Level> AllLevels() {
    std::vector<pb::Level> levels;
    grpc::Status status = ListAllLevels(*stub_, "", 100, &levels);
    EXPECT_TRUE(status.ok()) << Describe(status);
    std::map<std::string, pb::Level> out;
    for (pb::Level& level : levels) out[level.key()] = std::move(level);
    return out;
  }

  // Sends the case's batch on a fresh stream of the session and checks the
  // status, the message (unless `check_status` is false), that nothing
  // changed and that the session lives on.
  void ExpectRefused(const BadBatchCase& c, bool check_status = true) {
    SCOPED_TRACE(c.name);
    const std::map<std::string, pb::Level> before = AllLevels();
    ASSERT_FALSE(before.empty());
    RelayStream relay(daemon_.channel());
    pb::Welcome welcome;
    ASSERT_GRPC_OK(relay.Open(kSession, &welcome));
    EXPECT_TRUE(welcome.resumed());
    EXPECT_EQ(welcome.applied_sequence(), 1u);
    const pb::Batch batch = c.batch();
    relay.Send(batch);  // a refusal may already have broken the stream
    // (An ack of 0 is never sent: wait for one of at least 1.)
    grpc::Status status = relay.WaitAck(std::max<uint64_t>(batch.sequence(), 1), absl::Seconds(5));
    EXPECT_FALSE(status.ok()) << "the bad batch was acknowledged";
    if (check_status) {
      EXPECT_EQ(status.error_code(), c.code) << Describe(status);
      for (const std::string& part : c.message_has) EXPECT_THAT(status.error_message(), HasSubstr(part));
    }

    const std::map<std::string, pb::Level> after = AllLevels();
    EXPECT_EQ(after.size(), before.size()) << "levels were created or removed";
    for (const auto& [key, level] : before) {
      auto it = after.find(key);
      ASSERT_NE(it, after.end()) << key;
      EXPECT_TRUE(SameCounts(it->second, level));
    }
    // The session survives the refusal, at the same sequence.
    RelayStream resumed(daemon_.channel());
    ASSERT_GRPC_OK(resumed.Open(kSession, &welcome));
    EXPECT_TRUE(welcome.resumed());
    EXPECT_EQ(welcome.applied_sequence(), 1u);
    EXPECT_GRPC_OK(resumed.HalfClose());
  }

  DaemonProcess daemon_{kFlags};
  std::unique_ptr<pb::StatsService::Stub> stub_;
};

class BadInputIntegrationTest : public BadInputFixture, public ::testing::WithParamInterface<BadBatchCase> {};

TEST_P(BadInputIntegrationTest, RefusedWithItsStatusNamingTheEntryAndChangesNothing) { ExpectRefused(GetParam()); }

INSTANTIATE_TEST_SUITE_P(EveryBatchError, BadInputIntegrationTest, ::testing::ValuesIn(BadBatchCases()),
                         [](const ::testing::TestParamInfo<BadBatchCase>& info) { return info.param.name; });

using BadInputStreamIntegrationTest = BadInputFixture;

TEST_F(BadInputStreamIntegrationTest, FirstRequestNotOpenIsFailedPrecondition) {
  for (bool close_first : {false, true}) {
    RelayStream relay(daemon_.channel());
    relay.Start();
    pb::SessionRequest request;
    if (close_first) {
      request.mutable_close();
    } else {
      *request.mutable_batch() = BaseBatch();
    }
    relay.Write(request);
    grpc::Status status = relay.WaitEnd();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("open"));
  }
}

TEST_F(BadInputStreamIntegrationTest, SessionsOverMaxSessionsAreResourceExhausted) {
  // Both sessions carried by a stream and active (a batch applied): neither
  // may be evicted for a newcomer, who is refused. (Who makes room
  // otherwise: session_bounds_integration_test.cc.)
  RelayStream base(daemon_.channel());
  ASSERT_GRPC_OK(base.Open(kSession, nullptr));
  RelayStream second(daemon_.channel());
  ASSERT_GRPC_OK(second.Open("second-relay", nullptr));
  ASSERT_TRUE(second.Send(BaseBatch()));
  ASSERT_GRPC_OK(second.WaitAck(1));
  RelayStream third(daemon_.channel());
  grpc::Status refused = third.Open("third-relay", nullptr);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(refused);
  EXPECT_THAT(refused.error_message(), HasSubstr("max_sessions"));
  // Closing one makes room.
  ASSERT_GRPC_OK(second.Close());
  RelayStream fourth(daemon_.channel());
  EXPECT_GRPC_OK(fourth.Open("fourth-relay", nullptr));
  EXPECT_GRPC_OK(fourth.Close());
  EXPECT_GRPC_OK(base.HalfClose());
}

// Regression test; it once exposed this, now fixed: Open.session_id is a proto3 `string`, so an id that is not
// UTF-8 fails to parse in the daemon; SessionStream::OnReadDone(false)
// (server/session_stream.cc) takes that for a half-close and ends the stream
// with OK and no Welcome, never reaching SessionRegistry::Attach's UTF-8
// check, whose INVALID_ARGUMENT the contract implies (as Define.path did
// before it became `bytes`).
TEST_F(BadInputStreamIntegrationTest, SessionIdNotUtf8IsInvalidArgument) {
  RelayStream relay(daemon_.channel());
  grpc::Status status = relay.Open(std::string("relay-\xff", 7), nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("session_id"));
}

TEST_F(BadInputStreamIntegrationTest, BadOpensAreInvalidArgument) {
  for (const std::string& id : {std::string(), std::string(129, 'x')}) {
    RelayStream relay(daemon_.channel());
    grpc::Status status = relay.Open(id, nullptr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id.size() << " bytes: " << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("session_id"));
  }
  // 128 bytes is fine, and the limits in the welcome are the flags'.
  RelayStream longest(daemon_.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(longest.Open(std::string(128, 'x'), &welcome));
  EXPECT_EQ(welcome.limits().max_handles(), 4u);
  EXPECT_EQ(welcome.limits().max_batch_entries(), 8u);
  EXPECT_GRPC_OK(longest.Close());

  // Open twice on one stream.
  RelayStream twice(daemon_.channel());
  ASSERT_GRPC_OK(twice.Open(kSession, nullptr));
  pb::SessionRequest open;
  open.mutable_open()->set_session_id(kSession);
  twice.Write(open);
  grpc::Status status = twice.WaitEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("open"));
}

TEST_F(BadInputStreamIntegrationTest, ReadSideBadInputsAreRefusedNamingTheField) {
  std::string deep = "s";
  for (int i = 1; i < 33; ++i) deep += "/s";
  pb::Level level;
  grpc::Status status = GetLevel(*stub_, deep, &level);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("key"));
  status = GetLevel(*stub_, std::string(1025, 'k'), &level);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  status = GetLevel(*stub_, "no/such/level", &level);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("no/such/level"));

  std::vector<pb::Level> levels;
  status = ListAllLevels(*stub_, deep, 10, &levels);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("prefix"));

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  pb::WatchRequest request;
  request.set_prefix(deep);
  auto watch = stub_->Watch(&context, request);
  pb::WatchEvent event;
  EXPECT_FALSE(watch->Read(&event));
  status = watch->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("prefix"));
}

// Every refusal in a row on one daemon, then it still serves and applies.
TEST_F(BadInputStreamIntegrationTest, DaemonStaysHealthyAfterEveryBadInput) {
  // The status of PathNotUtf8 is wrong (the bug shown by its own case
  // above); here it only has to change nothing.
  for (const BadBatchCase& c : BadBatchCases()) ExpectRefused(c, /*check_status=*/c.name != "PathNotUtf8");
  {
    RelayStream relay(daemon_.channel());
    relay.Start();
    pb::SessionRequest request;
    *request.mutable_batch() = BaseBatch();
    relay.Write(request);
    EXPECT_EQ(relay.WaitEnd().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }

  auto health = grpc::health::v1::Health::NewStub(daemon_.channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_GRPC_OK(health->Check(&context, request, &response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  // A good batch after all that applies exactly.
  RelayStream relay(daemon_.channel());
  pb::Welcome welcome;
  ASSERT_GRPC_OK(relay.Open(kSession, &welcome));
  EXPECT_EQ(welcome.applied_sequence(), 1u);
  pb::Batch good;
  good.set_sequence(2);
  *good.add_deltas() = HarmlessDelta();
  ASSERT_TRUE(relay.Send(good));
  ASSERT_GRPC_OK(relay.WaitAck(2));
  CountModel model(2);
  model.Apply(BaseBatch());
  model.Apply(good);
  for (const std::string& key : model.keys()) {
    pb::Level level;
    ASSERT_GRPC_OK(GetLevel(*stub_, key, &level));
    for (pb::Tier tier : kAllTiers) {
      for (pb::Role role : kAllRoles) {
        EXPECT_TRUE(SnapshotEq(SnapshotOf(level, tier, role), model.Expected(key, tier, role)))
            << key << " " << TierRoleName(tier, role);
      }
    }
  }
  EXPECT_GRPC_OK(relay.Close());
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
