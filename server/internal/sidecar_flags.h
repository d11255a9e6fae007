#ifndef MOQ_STATS_SERVER_INTERNAL_SIDECAR_FLAGS_H_
#define MOQ_STATS_SERVER_INTERNAL_SIDECAR_FLAGS_H_

// The flags of moq-stats-sidecar as one table: each flag's name, environment
// variable, help, and how it sets and shows its setting (the defaults are
// those of SidecarConfig). ParseSidecarFlags, SidecarUsage,
// DescribeSidecarConfig and UnknownSidecarEnv all read this table, so a flag
// is added, renamed or documented in one place.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "server/sidecar_config.h"

namespace moq_stats::server::internal {

enum class FlagKind {
  kValue,    // takes a value: --flag=VALUE or --flag VALUE
  kList,     // as kValue, and may be repeated: the values given replace the
             // default list; its variable holds a comma-separated list
  kBool,     // needs no value; takes =true/=false
  kHelp,     // --help, -h
  kVersion,  // --version
};

struct SidecarFlag {
  const char* name;  // without the dashes
  const char* env;   // its environment variable; nullptr when it has none
  FlagKind kind;
  const char* value_name;  // what --help shows as its value; nullptr unless kValue or kList
  const char* help;
  // Sets the setting from `value`; `who` names the flag or variable in
  // errors. A kList flag's appends one value. nullptr for --help and
  // --version.
  absl::Status (*set)(const std::string& who, const std::string& value, SidecarConfig* config);
  // The setting as text, as --check-config prints it and --help shows its
  // default. nullptr for --help and --version.
  std::string (*get)(const SidecarConfig& config);
  // kList only: empties the list, before the values given are set.
  void (*clear)(SidecarConfig* config) = nullptr;
};

// Every flag, in the order --help and DescribeSidecarConfig list them.
absl::Span<const SidecarFlag> SidecarFlags();

// The flag called `name` (without the dashes), or nullptr.
const SidecarFlag* FindSidecarFlag(std::string_view name);

}  // namespace moq_stats::server::internal

#endif  // MOQ_STATS_SERVER_INTERNAL_SIDECAR_FLAGS_H_
