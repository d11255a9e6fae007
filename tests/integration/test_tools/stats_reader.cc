#include "tests/integration/test_tools/stats_reader.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace moq_stats {
namespace integration {
namespace pb = ::moq::stats::v1;
namespace {

struct Field {
  const char* name;
  uint64_t (pb::Snapshot::*get)() const;
};
constexpr Field kFields[] = {
    {"broadcasts", &pb::Snapshot::broadcasts},
    {"broadcasts_closed", &pb::Snapshot::broadcasts_closed},
    {"subscriptions", &pb::Snapshot::subscriptions},
    {"subscriptions_closed", &pb::Snapshot::subscriptions_closed},
    {"bytes", &pb::Snapshot::bytes},
    {"frames", &pb::Snapshot::frames},
    {"groups", &pb::Snapshot::groups},
    {"announced", &pb::Snapshot::announced},
    {"announced_closed", &pb::Snapshot::announced_closed},
    {"announced_bytes", &pb::Snapshot::announced_bytes},
    {"fetches", &pb::Snapshot::fetches},
    {"datagrams", &pb::Snapshot::datagrams},
};

std::string Show(const pb::Snapshot& s) {
  std::string out = "{";
  for (const Field& f : kFields) absl::StrAppend(&out, out.size() > 1 ? " " : "", f.name, "=", (s.*f.get)());
  return out + "}";
}

}  // namespace

grpc::Status GetLevel(pb::StatsService::Stub& stub, const std::string& key, pb::Level* level, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  pb::GetLevelRequest request;
  request.set_key(key);
  pb::GetLevelResponse response;
  grpc::Status status = stub.GetLevel(&context, request, &response);
  if (status.ok() && level) *level = response.level();
  return status;
}

grpc::Status ListAllLevels(pb::StatsService::Stub& stub, const std::string& prefix, uint32_t page_size,
                           std::vector<pb::Level>* levels, int* pages) {
  std::string token;
  int count = 0;
  do {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    pb::ListLevelsRequest request;
    request.set_prefix(prefix);
    request.set_page_size(page_size);
    request.set_page_token(token);
    pb::ListLevelsResponse response;
    grpc::Status status = stub.ListLevels(&context, request, &response);
    if (!status.ok()) return status;
    ++count;
    for (const pb::Level& level : response.levels()) levels->push_back(level);
    token = response.next_page_token();
    if (count > 10000) return grpc::Status(grpc::StatusCode::INTERNAL, "the pages never end");
  } while (!token.empty());
  if (pages) *pages = count;
  return grpc::Status::OK;
}

grpc::Status GetInfo(pb::StatsService::Stub& stub, pb::GetInfoResponse* info) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return stub.GetInfo(&context, pb::GetInfoRequest(), info);
}

::testing::AssertionResult WaitForCounter(pb::StatsService::Stub& stub, const std::string& name, double at_least,
                                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  double last = -1;
  for (;;) {
    pb::GetInfoResponse info;
    grpc::Status status = GetInfo(stub, &info);
    if (!status.ok()) return ::testing::AssertionFailure() << "GetInfo: " << status.error_message();
    auto it = info.counters().find(name);
    if (it != info.counters().end()) {
      last = it->second;
      if (last >= at_least) return ::testing::AssertionSuccess();
    }
    if (absl::Now() >= deadline) {
      return ::testing::AssertionFailure() << name << " is " << last << " after " << timeout << ", not " << at_least;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

const pb::Snapshot& SnapshotOf(const pb::Level& level, pb::Tier tier, pb::Role role) {
  if (tier == pb::TIER_INTERNAL) {
    return role == pb::ROLE_SUBSCRIBER ? level.internal_subscriber() : level.internal_publisher();
  }
  return role == pb::ROLE_SUBSCRIBER ? level.external_subscriber() : level.external_publisher();
}

std::string TierRoleName(pb::Tier tier, pb::Role role) {
  return absl::StrCat(tier == pb::TIER_INTERNAL ? "internal" : "external", "/",
                      role == pb::ROLE_SUBSCRIBER ? "subscriber" : "publisher");
}

::testing::AssertionResult SnapshotEq(const pb::Snapshot& actual, const pb::Snapshot& expected) {
  for (const Field& f : kFields) {
    if ((actual.*f.get)() != (expected.*f.get)()) {
      return ::testing::AssertionFailure()
             << f.name << " is " << (actual.*f.get)() << ", expected " << (expected.*f.get)() << "\n  actual   "
             << Show(actual) << "\n  expected " << Show(expected);
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SnapshotWithin(const pb::Snapshot& actual, const pb::Snapshot& lo, const pb::Snapshot& hi) {
  for (const Field& f : kFields) {
    uint64_t v = (actual.*f.get)();
    if (v < (lo.*f.get)() || v > (hi.*f.get)()) {
      return ::testing::AssertionFailure()
             << f.name << " is " << v << ", outside [" << (lo.*f.get)() << ", " << (hi.*f.get)() << "]\n  actual "
             << Show(actual) << "\n  low    " << Show(lo) << "\n  high   " << Show(hi);
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult OpenAtLeastClosed(const pb::Snapshot& s) {
  if (s.broadcasts() < s.broadcasts_closed() || s.subscriptions() < s.subscriptions_closed()) {
    return ::testing::AssertionFailure() << "more guards closed than opened: " << Show(s);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult AllClosed(const pb::Snapshot& s) {
  if (s.broadcasts() != s.broadcasts_closed() || s.subscriptions() != s.subscriptions_closed()) {
    return ::testing::AssertionFailure() << "guards still open: " << Show(s);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SameCounts(const pb::Level& actual, const pb::Level& expected) {
  for (pb::Tier tier : kAllTiers) {
    for (pb::Role role : kAllRoles) {
      ::testing::AssertionResult same = SnapshotEq(SnapshotOf(actual, tier, role), SnapshotOf(expected, tier, role));
      if (!same) {
        return ::testing::AssertionFailure()
               << "level \"" << actual.key() << "\" " << TierRoleName(tier, role) << ": " << same.message();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace integration
}  // namespace moq_stats
