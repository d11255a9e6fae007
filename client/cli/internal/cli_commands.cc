#include "client/cli/internal/cli_commands.h"

namespace moq_stats::cli::internal {
namespace {

constexpr CommandInfo kCommands[] = {
    {Command::kLevels, "levels", "[PREFIX]", 1, nullptr, "the levels at or under PREFIX (all by default)",
     "Lists the levels whose key is PREFIX or under it (whole segments; all\n"
     "levels when left out), in key order, following every page.\n"
     "\n"
     "Text: a table with one row per level and (tier, role): KEY (\"\" is the\n"
     "root), ADVERTISED PATH, PUBLISHING, CREATED (when this incarnation of\n"
     "the level was created, UTC), TIER, ROLE and the seven counters.\n"
     "--json: one JSON object per level per line (as `get --json` prints it);\n"
     "no levels, no lines.\n"},
    {Command::kGet, "get", "LEVEL", 1, "the level is missing (\"\" for the root)", "one level (\"\" or / is the root)",
     "Shows one level: its key, advertised path, whether its publisher runs,\n"
     "when this incarnation of it was created (a level freed by retention and\n"
     "created again starts from zero with a later time), and the seven\n"
     "counters of each (tier, role). LEVEL is normalised as a\n"
     "path; \"\" or / is the root. A level that does not exist exits 1 with\n"
     "NOT_FOUND.\n"
     "\n"
     "--json: one line,\n"
     "  {\"key\":..,\"advertised_path\":..,\"publishing\":..,\"created_unix_ms\":..,\n"
     "   \"external_publisher\":{\n"
     "   \"broadcasts\":..,\"broadcasts_closed\":..,\"subscriptions\":..,\n"
     "   \"subscriptions_closed\":..,\"bytes\":..,\"frames\":..,\"groups\":..},\n"
     "   \"external_subscriber\":{..},\"internal_publisher\":{..},\"internal_subscriber\":{..}}\n"
     "with the counters as JSON numbers.\n"},
    {Command::kWatch, "watch", "[PREFIX]", 1, nullptr, "follow the stats broadcasts under PREFIX until Ctrl-C",
     "Follows the stats broadcasts whose path is PREFIX or under it (whole\n"
     "segments, e.g. .stats/prefix/demo; all of them when left out) until\n"
     "Ctrl-C (exit 0) or the sidecar ends the stream. Each frame's JSON payload\n"
     "is printed on a line of its own, exactly as published; a broadcast that\n"
     "starts or ends prints `# announce PATH` or `# end PATH`.\n"
     "\n"
     "--json: every line is a JSON object:\n"
     "  {\"announce\":PATH}  {\"end\":PATH}\n"
     "  {\"path\":PATH,\"track\":TRACK,\"sequence\":N,\"frame\":PAYLOAD}\n"
     "with the payload inlined (as a JSON string under \"frame_text\" instead,\n"
     "should it not be valid JSON). --timeout bounds connecting only.\n"},
    {Command::kBump, "bump", "", 0, nullptr, "count traffic on PATH through the relay-side library",
     "Counts traffic on broadcast PATH as a relay would, through the relay-side\n"
     "library: opens a broadcast guard and a track guard in TIER (default\n"
     "external) and ROLE (default publisher), adds N frames, N bytes, N\n"
     "groups, N fetches and N datagrams (default 0 each; the counts other than\n"
     "bytes at most 100000000), with --announce also an announce guard, holds\n"
     "the guards for DURATION (default 0; Ctrl-C ends the hold early), closes\n"
     "them and shuts the library down, waiting up to --timeout for the sidecar\n"
     "to acknowledge everything. Prints what was sent and whether the sidecar\n"
     "acknowledged it; exits 1 when it did not.\n"
     "\n"
     "TIER is external, internal or a tier NAME (one path segment), which only\n"
     "the node format publishes (`NAME/publisher.json`, ...). --session ROOT\n"
     "also holds a session guard of auth root ROOT (\"\" for none) in TIER for\n"
     "the run: the node format's `sessions.json` counts it (sent only to a\n"
     "sidecar that understands session presence).\n"
     "\n"
     "--json: one line, {\"target\":..,\"path\":..,\"tier\":..,\"role\":..,\n"
     "\"sent\":{the twelve counters},\"held_seconds\":..,\"acknowledged\":..,\n"
     "\"batches_sent\":..,\"batches_acked\":..}; with --session also\n"
     "\"session\":ROOT and \"sessions\":1, \"sessions_closed\":1 in \"sent\".\n"},
    {Command::kHealth, "health", "", 0, nullptr, "grpc.health.v1 checks of the server and the stats service",
     "Asks grpc.health.v1.Health/Check about the server as a whole (\"\") and\n"
     "about moq.stats.v1.StatsService, and prints each answer (SERVING,\n"
     "NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN). Exits 1 unless both are SERVING.\n"
     "\n"
     "--json: one line, {\"services\":{\"\":STATUS,\"moq.stats.v1.StatsService\":STATUS},\n"
     "\"serving\":true|false}.\n"},
    {Command::kInfo, "info", "", 0, nullptr, "version, uptime, settings and counters of the sidecar",
     "Shows the sidecar's version, uptime, every setting in effect and its own\n"
     "counters (as on /metrics), names in sorted order.\n"
     "\n"
     "--json: one line, {\"version\":..,\"uptime_seconds\":..,\"config\":{NAME:VALUE,..},\n"
     "\"counters\":{NAME:NUMBER,..}}.\n"},
    {Command::kTop, "top", "", 0, nullptr, "a live view of the busiest levels until q or Ctrl-C",
     "Shows the levels at or under PREFIX (all by default) busiest first, read\n"
     "from the sidecar (GetInfo and ListLevels) every DURATION (default 1s),\n"
     "until q or Ctrl-C (exit 0) or after N refreshes (default: no limit).\n"
     "Numbers are those of the external tier: VIEWERS, subscriptions open now\n"
     "(publisher role); OUT b/s and IN b/s, bits per second sent (publisher\n"
     "role) and received (subscriber role); FRAMES/s, frames sent per second.\n"
     "A rate is the increase between two refreshes over the time between them\n"
     "(\"-\" until a level was read twice); a counter read lower than before\n"
     "was reset and counts from zero. The header shows the sidecar's version,\n"
     "uptime, relay sessions and bridge, and the totals (the root level).\n"
     "\n"
     "Keys: s switches the order between bitrate and viewers (--sort sets the\n"
     "first), b and v choose one, q or Ctrl-C quits. The screen fits the\n"
     "terminal and follows its size.\n"
     "\n"
     "When stdout or stdin is not a terminal, each refresh is printed as plain\n"
     "lines (the header, then every level, then a blank line), with no escape\n"
     "sequences. Exits 1 when --iterations ran out and the last refresh could\n"
     "not read the sidecar. No --json: see `levels --json` and `watch --json`.\n"},
};

}  // namespace

absl::Span<const CommandInfo> Commands() { return kCommands; }

const CommandInfo& InfoOf(Command command) {
  for (const CommandInfo& info : kCommands) {
    if (info.command == command) return info;
  }
  return kCommands[0];  // unreachable: every Command is listed
}

std::optional<Command> FindCommand(absl::string_view name) {
  for (const CommandInfo& info : kCommands) {
    if (name == info.name) return info.command;
  }
  return std::nullopt;
}

}  // namespace moq_stats::cli::internal
