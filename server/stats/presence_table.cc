#include "server/stats/presence_table.h"

#include <utility>

namespace moq_stats::server {

std::shared_ptr<PresenceEntry> PresenceTable::Acquire(std::string_view tier, std::string_view root) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<PresenceEntry>& entry = entries_[Key(std::string(tier), std::string(root))];
  if (!entry) {
    entry = std::make_shared<PresenceEntry>(std::string(tier), std::string(root));
    tiers_.Add(tier);
  }
  return entry;
}

std::vector<PresenceReport> PresenceTable::Report() {
  absl::MutexLock lock(&mu_);
  std::vector<PresenceReport> out;
  out.reserve(entries_.size());
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::shared_ptr<PresenceEntry>& entry = it->second;
    // Held is read before the counts, as in PathTable::Report: a holder that
    // lets go after this read has counted before it.
    const bool held = entry.use_count() > 1;
    out.push_back(PresenceReport{entry->tier(), entry->root(), entry->Load()});
    if (held) {
      ++it;
    } else {
      tiers_.Remove(entry->tier());
      entries_.erase(it++);
    }
  }
  return out;
}

std::vector<PresenceReport> PresenceTable::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<PresenceReport> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) out.push_back(PresenceReport{entry->tier(), entry->root(), entry->Load()});
  return out;
}

size_t PresenceTable::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

bool PresenceTable::Contains(std::string_view tier, std::string_view root) const {
  absl::MutexLock lock(&mu_);
  return entries_.contains(Key(std::string(tier), std::string(root)));
}

bool PresenceTable::HasTier(std::string_view label) const {
  absl::MutexLock lock(&mu_);
  return tiers_.Has(label);
}

std::vector<std::string> PresenceTable::tiers() const {
  absl::MutexLock lock(&mu_);
  return tiers_.labels();
}

}  // namespace moq_stats::server
