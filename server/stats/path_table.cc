#include "server/stats/path_table.h"

#include <utility>

namespace moq_stats::server {
namespace {

// The deleter of the holders' handle on an entry: runs when the last
// handle is dropped, and queues the entry (kept alive by its owner
// reference) for the next report, which forgets it. It gives up both
// references as it runs: the handle's control block outlives this call
// while the entry's weak `handle_` points at it, and an owner reference
// kept in it would keep the entry, and so the block, alive for good.
struct ReleaseEntry {
  std::shared_ptr<PathEntry> owner;
  std::shared_ptr<internal::PathChanges> changes;
  void operator()(PathEntry*) {
    std::shared_ptr<PathEntry> entry = std::move(owner);
    const std::shared_ptr<internal::PathChanges> queue = std::move(changes);
    absl::MutexLock lock(&queue->mu);
    if (!queue->closed) queue->released.push_back(std::move(entry));
  }
};

}  // namespace

void PathEntry::MarkChanged() {
  if (changed_.exchange(true, std::memory_order_acq_rel)) return;
  std::shared_ptr<PathEntry> self = self_.lock();
  if (!self) return;  // the table is gone and nobody reports any more
  absl::MutexLock lock(&changes_->mu);
  if (!changes_->closed) changes_->changed.push_back(std::move(self));
}

PathTable::~PathTable() {
  // The queues hold entries, which hold the queues: emptied and closed, so
  // handles that outlive the table free their entries.
  std::vector<std::shared_ptr<PathEntry>> changed;
  std::vector<std::shared_ptr<PathEntry>> released;
  absl::MutexLock lock(&changes_->mu);
  changes_->closed = true;
  changed.swap(changes_->changed);
  released.swap(changes_->released);
}

std::shared_ptr<PathEntry> PathTable::Acquire(std::string_view tier, const Path& path) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<PathEntry>& owner = entries_[Key{std::string(tier), path.str()}];
  if (!owner) {
    owner = std::make_shared<PathEntry>(path, std::string(tier), changes_);
    owner->self_ = owner;
    tiers_.Add(tier);
    owner->MarkChanged();  // a new entry is in the next report
  }
  if (std::shared_ptr<PathEntry> held = owner->handle_.lock()) return held;
  std::shared_ptr<PathEntry> handle(owner.get(), ReleaseEntry{owner, changes_});
  owner->handle_ = handle;
  return handle;
}

void PathTable::ReportEntry(PathEntry& entry, bool released, std::vector<PathReport>* out) {
  if (entry.forgotten_ || entry.reported_ == reports_) return;
  entry.reported_ = reports_;
  // Cleared before the counts are read: a bump after this read marks the
  // entry again, for the next report.
  entry.changed_.exchange(false, std::memory_order_acq_rel);
  PathReport& report = out->emplace_back();
  report.path = entry.path();
  report.tier = entry.tier();
  for (Role role : kRoles) report.roles[static_cast<size_t>(role)] = entry.counters(role).Load();
  report.released = released;
}

std::vector<PathReport> PathTable::Report() {
  absl::MutexLock lock(&mu_);
  ++reports_;
  std::vector<std::shared_ptr<PathEntry>> changed;
  std::vector<std::shared_ptr<PathEntry>> released;
  {
    absl::MutexLock queued(&changes_->mu);
    changed.swap(changes_->changed);
    released.swap(changes_->released);
  }
  std::vector<PathReport> out;
  out.reserve(changed.size() + released.size());
  // Let go first, so an entry that is both is reported as released.
  for (const std::shared_ptr<PathEntry>& entry : released) {
    // Once per report: a handle dropped after the first look queued the
    // entry for the next report, which decides again.
    if (entry->forgotten_ || entry->reported_ == reports_) continue;
    // Whether anyone holds it again is read before its counts: Acquire takes
    // the lock, so no one can pick it up between here and the erase, and a
    // holder that let go did its bumps before.
    const bool held = !entry->handle_.expired();
    ReportEntry(*entry, /*released=*/!held, &out);
    if (held) continue;
    entry->forgotten_ = true;
    tiers_.Remove(entry->tier());
    entries_.erase(Key{entry->tier(), entry->path().str()});
  }
  for (const std::shared_ptr<PathEntry>& entry : changed) ReportEntry(*entry, /*released=*/false, &out);
  return out;
}

std::vector<PathReport> PathTable::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<PathReport> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) {
    PathReport& report = out.emplace_back();
    report.path = entry->path();
    report.tier = entry->tier();
    for (Role role : kRoles) report.roles[static_cast<size_t>(role)] = entry->counters(role).Load();
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
