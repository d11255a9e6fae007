// The commands that read levels: `levels` (every level under a prefix, page
// by page) and `get` (one level), as tables or JSON lines.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/internal/command_runners.h"
#include "client/cli/json_out.h"
#include "client/cli/sidecar_channel.h"
#include "client/cli/terminal_text.h"
#include "client/cli/text_table.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace cli {
namespace internal {
namespace {

namespace pb = ::moq::stats::v1;

// Levels asked for per ListLevels page (the service's maximum).
constexpr uint32_t kLevelsPageSize = 1000;

// A level key for people: the root's is empty, so it is shown quoted.
std::string KeyText(const std::string& key) { return key.empty() ? "\"\"" : key; }

// A level's creation time for people: UTC, to the millisecond, in RFC 3339;
// "-" from a sidecar that does not say.
std::string CreatedText(uint64_t created_unix_ms) {
  if (created_unix_ms == 0 || created_unix_ms > uint64_t{INT64_MAX}) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(static_cast<int64_t>(created_unix_ms)),
                          absl::UTCTimeZone());
}

// The four (tier, role) snapshots of a level, in proto order.
struct TierRoleSnapshot {
  const char* name;  // the Level field, as in the JSON output
  const char* tier;
  const char* role;
  const pb::Snapshot& snapshot;
};
std::vector<TierRoleSnapshot> SnapshotsOf(const pb::Level& level) {
  return {{"external_publisher", "external", "publisher", level.external_publisher()},
          {"external_subscriber", "external", "subscriber", level.external_subscriber()},
          {"internal_publisher", "internal", "publisher", level.internal_publisher()},
          {"internal_subscriber", "internal", "subscriber", level.internal_subscriber()}};
}

std::string SnapshotJson(const pb::Snapshot& s) {
  return JsonObject()
      .Add("broadcasts", s.broadcasts())
      .Add("broadcasts_closed", s.broadcasts_closed())
      .Add("subscriptions", s.subscriptions())
      .Add("subscriptions_closed", s.subscriptions_closed())
      .Add("bytes", s.bytes())
      .Add("frames", s.frames())
      .Add("groups", s.groups())
      .Add("announced", s.announced())
      .Add("announced_closed", s.announced_closed())
      .Add("announced_bytes", s.announced_bytes())
      .Add("fetches", s.fetches())
      .Add("datagrams", s.datagrams())
      .str();
}

std::string LevelJson(const pb::Level& level) {
  JsonObject o;
  o.AddString("key", level.key())
      .AddString("advertised_path", level.advertised_path())
      .AddBool("publishing", level.publishing())
      .Add("created_unix_ms", level.created_unix_ms());
  for (const TierRoleSnapshot& t : SnapshotsOf(level)) o.AddRaw(t.name, SnapshotJson(t.snapshot));
  return o.str();
}

// The seven counters as table cells.
std::vector<std::string> CounterCells(const pb::Snapshot& s) {
  return {absl::StrCat(s.broadcasts()),    absl::StrCat(s.broadcasts_closed()),
          absl::StrCat(s.subscriptions()), absl::StrCat(s.subscriptions_closed()),
          absl::StrCat(s.bytes()),         absl::StrCat(s.frames()),
          absl::StrCat(s.groups())};
}

std::vector<TextTable::Column> CounterColumns() {
  using A = TextTable::Align;
  return {{"BROADCASTS", A::kRight}, {"CLOSED", A::kRight}, {"SUBSCRIPTIONS", A::kRight}, {"CLOSED", A::kRight},
          {"BYTES", A::kRight},      {"FRAMES", A::kRight}, {"GROUPS", A::kRight}};
}

}  // namespace

CommandOutcome RunLevels(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(global);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  auto stub = pb::StatsService::NewStub(*channel);
  std::vector<TextTable::Column> columns = {{"KEY"}, {"ADVERTISED PATH"}, {"PUBLISHING"}, {"CREATED"}, {"TIER"},
                                            {"ROLE"}};
  for (TextTable::Column& c : CounterColumns()) columns.push_back(std::move(c));
  TextTable table(std::move(columns));
  size_t count = 0;
  std::string token;
  do {
    pb::ListLevelsRequest request;
    request.set_prefix(inv.argument);
    request.set_page_size(kLevelsPageSize);
    request.set_page_token(token);
    pb::ListLevelsResponse response;
    grpc::ClientContext context;
    SetDeadline(global, &context);
    grpc::Status status = stub->ListLevels(&context, request, &response);
    if (!status.ok()) return CallFailed("ListLevels", global.target, status);
    for (const pb::Level& level : response.levels()) {
      ++count;
      if (global.json) {
        out << LevelJson(level) << "\n";
        continue;
      }
      for (const TierRoleSnapshot& t : SnapshotsOf(level)) {
        std::vector<std::string> row = {KeyText(level.key()),
                                        level.advertised_path(),
                                        level.publishing() ? "yes" : "no",
                                        CreatedText(level.created_unix_ms()),
                                        t.tier,
                                        t.role};
        for (std::string& cell : CounterCells(t.snapshot)) row.push_back(std::move(cell));
        table.AddRow(std::move(row));
      }
    }
    if (!response.next_page_token().empty() && response.next_page_token() == token) {
      return Fail(1, absl::StrCat("ListLevels failed: the sidecar at ", global.target, " returned the page token \"",
                                  token, "\" again"));
    }
    token = response.next_page_token();
  } while (!token.empty());
  if (!global.json) {
    if (count == 0) {
      out << (inv.argument.empty() ? std::string("no levels") : absl::StrCat("no levels under \"", inv.argument, "\""))
          << "\n";
    } else {
      out << table.Render();
    }
  }
  return Done();
}

CommandOutcome RunGet(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = NewSidecarChannel(global);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  auto stub = pb::StatsService::NewStub(*channel);
  pb::GetLevelRequest request;
  request.set_key(inv.argument);
  pb::GetLevelResponse response;
  grpc::ClientContext context;
  SetDeadline(global, &context);
  grpc::Status status = stub->GetLevel(&context, request, &response);
  if (!status.ok()) return CallFailed("GetLevel", global.target, status);
  const pb::Level& level = response.level();
  if (global.json) {
    out << LevelJson(level) << "\n";
    return Done();
  }
  out << "level       " << (level.key().empty() ? "\"\" (the root)" : TerminalSafe(level.key())) << "\n"
      << "advertised  " << TerminalSafe(level.advertised_path()) << "\n"
      << "publishing  " << (level.publishing() ? "yes" : "no") << "\n"
      << "created     " << CreatedText(level.created_unix_ms()) << "\n\n";
  std::vector<TextTable::Column> columns = {{"TIER"}, {"ROLE"}};
  for (TextTable::Column& c : CounterColumns()) columns.push_back(std::move(c));
  TextTable table(std::move(columns));
  for (const TierRoleSnapshot& t : SnapshotsOf(level)) {
    std::vector<std::string> row = {t.tier, t.role};
    for (std::string& cell : CounterCells(t.snapshot)) row.push_back(std::move(cell));
    table.AddRow(std::move(row));
  }
  out << table.Render();
  return Done();
}

}  // namespace internal
}  // namespace cli
}  // namespace moq_stats
