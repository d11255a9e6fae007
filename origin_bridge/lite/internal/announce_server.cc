#include "origin_bridge/lite/internal/announce_server.h"

#include <optional>
#include <utility>
#include <vector>

#include "common/logging.h"

namespace moq_stats::lite::internal {

void AnnounceServer::Start(uint64_t stream, const AnnounceRequest& request) {
  ++ctx_->counters.announce_requests;
  auto entry = std::make_unique<Entry>();
  entry->prefix = Path(request.prefix);
  entry->exclude_hop = request.exclude_hop;
  entry->consumer = ctx_->origin->Announced(entry->prefix);
  std::shared_ptr<ReadyQueue> ready = ctx_->ready;
  entry->consumer->SetNotify([ready, stream] { ready->Push(stream); });
  Entry& e = *entry;
  entries_[stream] = std::move(entry);

  if (ctx_->options.version != Version::kLite05) {
    Drain(stream);
    return;
  }
  // lite-05: the initial set is what the consumer holds now, folded so a
  // broadcast that came and went before we looked is not counted.
  std::vector<std::optional<Announcement>> initial;
  absl::flat_hash_map<std::string, size_t> index;
  while (std::optional<Announcement> a = e.consumer->Next()) {
    auto it = index.find(a->path.str());
    if (it != index.end()) {
      initial[it->second].reset();
      index.erase(it);
    }
    if (a->active) {
      index[a->path.str()] = initial.size();
      initial.push_back(std::move(a));
    }
  }
  std::string announces;
  uint64_t count = 0;
  for (const std::optional<Announcement>& a : initial) {
    if (a.has_value() && Append(e, *a, &announces)) ++count;
  }
  std::string out;
  AnnounceOk ok;
  ok.hop_id = ctx_->options.origin_id;
  ok.active_count = count;
  if (!ok.Encode(ctx_->options.version, &out).ok()) {
    MOQSTATS_LOG(ERROR) << "cannot encode ANNOUNCE_OK for origin id " << ctx_->options.origin_id;
  }
  out += announces;
  (void)ctx_->mux->Write(stream, out, false);
}

bool AnnounceServer::Drain(uint64_t stream) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return false;
  Entry& e = *it->second;
  std::string out;
  while (std::optional<Announcement> a = e.consumer->Next()) {
    Append(e, *a, &out);
  }
  if (!out.empty()) (void)ctx_->mux->Write(stream, out, false);
  return true;
}

bool AnnounceServer::Append(Entry& entry, const Announcement& announcement, std::string* out) {
  const std::string& path = announcement.path.str();
  if (!announcement.path.has_prefix(entry.prefix)) return false;
  if (announcement.active) {
    if (!entry.active.insert(path).second) return false;
  } else if (entry.active.erase(path) == 0) {
    return false;
  }
  Announce msg;
  msg.status = announcement.active ? AnnounceStatus::kActive : AnnounceStatus::kEnded;
  msg.suffix = std::string(announcement.path.suffix_after(entry.prefix));
  if (announcement.active && ctx_->options.version != Version::kLite05) {
    msg.hops.push_back(ctx_->options.origin_id);
  }
  if (!msg.Encode(ctx_->options.version, out).ok()) {
    MOQSTATS_LOG(WARNING) << "cannot announce " << LogSafe(path);
    if (announcement.active) entry.active.erase(path);
    return false;
  }
  ++ctx_->counters.announcements_sent;
  CountActive(path, announcement.active);
  return true;
}

void AnnounceServer::CountActive(const std::string& path, bool active) {
  if (active) {
    if (++announced_[path] == 1) ++ctx_->counters.announced_broadcasts;
    return;
  }
  auto it = announced_.find(path);
  if (it == announced_.end()) return;
  if (--it->second == 0) {
    announced_.erase(it);
    --ctx_->counters.announced_broadcasts;
  }
}

void AnnounceServer::Stop(uint64_t stream) {
  auto it = entries_.find(stream);
  if (it == entries_.end()) return;
  std::unique_ptr<Entry> entry = std::move(it->second);
  entries_.erase(it);
  entry->consumer->SetNotify(nullptr);
  for (const std::string& path : entry->active) CountActive(path, false);
}

void AnnounceServer::Clear() {
  while (!entries_.empty()) Stop(entries_.begin()->first);
}

}  // namespace moq_stats::lite::internal
