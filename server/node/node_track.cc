#include "server/node/node_track.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace moq_stats::server {

void AppendNodeTraffic(const Counts& counts, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (Counter c : kNodeTrafficOrder) {
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(kCountFields[static_cast<size_t>(c)].name);
    out->append("\":");
    absl::StrAppend(out, counts[c]);
  }
  out->push_back('}');
}

bool NodeTrafficLive(const Counts& c) {
  return c.announced > c.announced_closed || c.broadcasts > c.broadcasts_closed ||
         c.subscriptions > c.subscriptions_closed;
}

std::optional<std::string> NodeTrack::Tick(std::vector<Entry> entries) {
  const uint64_t tick = ++ticks_;
  bool changed = tick == 1;  // the first tick always gives a frame
  size_t seen = 0;
  for (const auto& [path, counts] : entries) {
    auto it = slots_.find(absl::string_view(path.data(), path.size()));
    if (it == slots_.end()) it = slots_.emplace(std::string(path), Slot{}).first;
    Slot& slot = it->second;
    if (slot.seen != tick) ++seen;
    slot.seen = tick;
    const bool moved = counts != slot.shown;
    if (moved) slot.shown = counts;
    const bool in_frame = moved || NodeTrafficLive(counts);
    if (in_frame != slot.in_frame) {
      slot.in_frame = in_frame;
      if (in_frame) {
        entering_.push_back(Member{it->first, &slot});
      } else {
        marks_[&slot] = Mark::kLeave;
      }
      changed = true;
    } else if (moved) {
      marks_[&slot] = Mark::kReserialize;
      changed = true;
    }
  }
  // Paths the report no longer has leave the frame and are forgotten once
  // it is built (their members' paths point into their slots).
  std::vector<decltype(slots_)::iterator> gone;
  if (seen != slots_.size()) {
    for (auto it = slots_.begin(); it != slots_.end(); ++it) {
      if (it->second.seen == tick) continue;
      if (it->second.in_frame) {
        marks_[&it->second] = Mark::kLeave;
        changed = true;
      }
      gone.push_back(it);
    }
  }
  // A path that moved, entered or left changes the frame's text; nothing
  // else does.
  std::optional<std::string> out;
  if (changed) {
    Assemble();
    out = frame_;
  }
  for (auto it : gone) slots_.erase(it);
  return out;
}

void NodeTrack::Assemble() {
  std::sort(entering_.begin(), entering_.end(), [](const Member& a, const Member& b) { return a.path < b.path; });
  // Where each entering member goes among the last frame's: before the
  // member at that index.
  std::vector<size_t> before(entering_.size());
  for (size_t e = 0; e < entering_.size(); ++e) {
    before[e] =
        static_cast<size_t>(std::lower_bound(order_.begin(), order_.end(), entering_[e].path,
                                             [](const Member& m, std::string_view path) { return m.path < path; }) -
                            order_.begin());
  }
  // Built in the buffers of the frame before last, so their pages are reused.
  std::string& frame = spare_;
  std::vector<Member>& order = spare_order_;
  frame.clear();
  order.clear();
  order.reserve(order_.size() + entering_.size());
  frame.push_back('{');
  auto emit = [&](Member member, const std::string* from) {
    if (frame.size() > 1) frame.push_back(',');
    const size_t start = frame.size();
    if (from != nullptr) {
      frame.append(*from, member.offset, member.length);
    } else {
      AppendJsonString(member.path, &frame);
      frame.push_back(':');
      AppendNodeTraffic(member.slot->shown, &frame);
    }
    member.offset = start;
    member.length = frame.size() - start;
    order.push_back(member);
  };
  size_t e = 0;
  for (size_t i = 0; i <= order_.size(); ++i) {
    while (e < entering_.size() && before[e] == i) emit(entering_[e++], nullptr);
    if (i == order_.size()) break;
    const Member& member = order_[i];
    // Marks are looked up by address, which spares reading every slot.
    auto mark = marks_.empty() ? marks_.end() : marks_.find(member.slot);
    if (mark == marks_.end()) {
      emit(member, &frame_);
    } else if (mark->second == Mark::kReserialize) {
      emit(member, nullptr);
    }
  }
  frame.push_back('}');
  frame_.swap(frame);
  order_.swap(order);
  marks_.clear();
  entering_.clear();
}

}  // namespace moq_stats::server
