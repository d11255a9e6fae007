#include "server/grpc/watch_queue.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace moq_stats::server {

// Fixed costs of a held path or frame beyond its bytes, so that empty ones
// count too.
constexpr size_t kEntryOverhead = 64;
constexpr size_t kFrameOverhead = 32;

size_t WatchQueue::FrameBytes(const std::string& track, const Group& group) {
  return kFrameOverhead + track.size() + (group.frame ? group.frame->size() : 0);
}

absl::Status WatchQueue::Announce(const std::string& path) {
  if (!status_.ok()) return status_;
  auto [it, created] = entries_.try_emplace(path);
  Entry& entry = it->second;
  if (created) {
    entry.path = path;
    bytes_ += kEntryOverhead + path.size();
  }
  if (entry.next) {
    // A run the watcher was never told of gives way to the newer one.
    DropRun(*entry.next);
    ++coalesced_;
  } else if (entry.told && !entry.told_run.ended) {
    // The origin ends a run before it announces the next; should it not,
    // the watcher still sees an end between the two.
    entry.told_run.ended = true;
    ++ended_;
  }
  entry.next = Run();
  MarkDirty(entry);
  return CheckLimits();
}

absl::Status WatchQueue::Frame(const std::string& path, const std::string& track, Group group) {
  if (!status_.ok()) return status_;
  auto it = entries_.find(path);
  if (it == entries_.end()) return status_;
  Run* run = LatestRun(it->second);
  if (run == nullptr || run->ended) return status_;
  const size_t added = FrameBytes(track, group);
  if (added > limits_.max_bytes) {
    // No reader can ever take this frame: say so rather than blame the lag.
    return Overflow(absl::StrCat("a frame of ", group.frame ? group.frame->size() : 0, " bytes on ", path, " ", track,
                                 " is larger than a watch may hold (", limits_.max_bytes,
                                 " bytes); watch a prefix that leaves out ", path));
  }
  for (auto& [name, held] : run->frames) {
    if (name != track) continue;
    bytes_ -= FrameBytes(name, held);
    held = std::move(group);
    bytes_ += added;
    ++coalesced_;
    MarkDirty(it->second);
    return CheckLimits();
  }
  run->frames.emplace_back(track, std::move(group));
  bytes_ += added;
  MarkDirty(it->second);
  return CheckLimits();
}

absl::Status WatchQueue::End(const std::string& path) {
  if (!status_.ok()) return status_;
  auto it = entries_.find(path);
  if (it == entries_.end()) return status_;
  Run* run = LatestRun(it->second);
  if (run == nullptr || run->ended) return status_;
  run->ended = true;
  ++ended_;
  MarkDirty(it->second);
  return CheckLimits();
}

std::optional<WatchQueue::Event> WatchQueue::Pop() {
  while (!dirty_.empty()) {
    Entry& entry = *dirty_.front();
    std::optional<Event> event = TakeEvent(entry);
    if (!event || !HasEvent(entry)) {
      dirty_.pop_front();
      entry.dirty = false;
      // What the watcher was not told of, or was told has ended, needs no
      // record.
      if (!entry.told) Forget(entry);
    }
    if (event) return event;
  }
  return std::nullopt;
}

WatchQueue::Run* WatchQueue::LatestRun(Entry& entry) {
  if (entry.next) return &*entry.next;
  if (entry.told) return &entry.told_run;
  return nullptr;
}

void WatchQueue::MarkDirty(Entry& entry) {
  if (entry.dirty) return;
  entry.dirty = true;
  dirty_.push_back(&entry);
}

bool WatchQueue::HasEvent(const Entry& entry) const {
  if (entry.told && (!entry.told_run.frames.empty() || entry.told_run.ended)) return true;
  return entry.next.has_value();
}

std::optional<WatchQueue::Event> WatchQueue::TakeEvent(Entry& entry) {
  Event event;
  event.path = entry.path;
  if (entry.told) {
    Run& run = entry.told_run;
    if (!run.frames.empty()) {
      auto& [track, group] = run.frames.front();
      bytes_ -= FrameBytes(track, group);
      event.kind = Event::Kind::kFrame;
      event.track = std::move(track);
      event.group = std::move(group);
      run.frames.erase(run.frames.begin());
      return event;
    }
    if (!run.ended) return std::nullopt;  // nothing of the told run waits; a next run cannot exist
    run = Run();
    entry.told = false;
    --ended_;
    event.kind = Event::Kind::kEnd;
    return event;
  }
  if (!entry.next) return std::nullopt;
  // The next run becomes the told one: its announcement goes first.
  entry.told = true;
  entry.told_run = *std::move(entry.next);
  entry.next.reset();
  event.kind = Event::Kind::kAnnounce;
  return event;
}

void WatchQueue::DropRun(Run& run) {
  for (const auto& [track, group] : run.frames) bytes_ -= FrameBytes(track, group);
  if (run.ended) --ended_;
  run = Run();
}

void WatchQueue::Forget(Entry& entry) {
  bytes_ -= kEntryOverhead + entry.path.size();
  std::string path = std::move(entry.path);
  entries_.erase(path);
}

absl::Status WatchQueue::CheckLimits() {
  if (ended_ <= limits_.max_ended && bytes_ <= limits_.max_bytes) return status_;
  return Overflow(absl::StrCat("the watcher fell behind: ", ended_, " broadcasts ended unsent (limit ",
                               limits_.max_ended, ") and ", bytes_, " bytes held (limit ", limits_.max_bytes,
                               "); read faster or watch a narrower prefix, then watch again"));
}

absl::Status WatchQueue::Overflow(std::string_view why) {
  status_ = absl::ResourceExhaustedError(absl::string_view(why.data(), why.size()));
  entries_.clear();
  dirty_.clear();
  ended_ = 0;
  bytes_ = 0;
  return status_;
}

}  // namespace moq_stats::server
