#include "server/stats/path_table.h"

#include <utility>

namespace moq_stats::server {

std::shared_ptr<PathEntry> PathTable::Acquire(std::string_view tier, const Path& path) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<PathEntry>& entry = entries_[Key{std::string(tier), path.str()}];
  if (!entry) {
    entry = std::make_shared<PathEntry>(path, std::string(tier));
    tiers_.Add(tier);
  }
  return entry;
}

std::vector<PathReport> PathTable::Report() {
  absl::MutexLock lock(&mu_);
  std::vector<PathReport> out;
  out.reserve(entries_.size());
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::shared_ptr<PathEntry>& entry = it->second;
    // Whether anyone else holds it is read before its counts: a holder that
    // lets go after this read has bumped before, and the entry stays for the
    // next report. Acquire takes the lock, so no one can pick it up again
    // between here and the erase.
    const bool held = entry.use_count() > 1;
    PathReport& report = out.emplace_back();
    report.path = entry->path();
    report.tier = entry->tier();
    for (Role role : kRoles) report.roles[static_cast<size_t>(role)] = entry->counters(role).Load();
    if (held) {
      ++it;
    } else {
      tiers_.Remove(entry->tier());
      entries_.erase(it++);
    }
  }
  return out;
}

bool PathTable::HasTier(std::string_view label) const {
  absl::MutexLock lock(&mu_);
  return tiers_.Has(label);
}

size_t PathTable::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

std::vector<std::string> PathTable::tiers() const {
  absl::MutexLock lock(&mu_);
  return tiers_.labels();
}

}  // namespace moq_stats::server
