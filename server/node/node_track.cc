#include "server/node/node_track.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_string.h"

namespace moq_stats::server {
namespace {

void AppendField(Counter c, uint64_t value, std::string* out) {
  out->push_back('"');
  out->append(kCountFields[static_cast<size_t>(c)].name);
  out->append("\":");
  absl::StrAppend(out, value);
}

}  // namespace

void AppendNodeTraffic(const Counts& counts, std::string* out) {
  out->push_back('{');
  for (Counter c : kNodeTrafficOrder) {
    if (out->back() != '{') out->push_back(',');
    AppendField(c, counts[c], out);
  }
  out->push_back('}');
}

void AppendNodeTrafficPatch(const Counts& before, const Counts& after, std::string* out) {
  out->push_back('{');
  for (Counter c : kNodeTrafficOrder) {
    if (before[c] == after[c]) continue;
    if (out->back() != '{') out->push_back(',');
    AppendField(c, after[c], out);
  }
  out->push_back('}');
}

bool NodeTrafficLive(const Counts& c) {
  return c.announced > c.announced_closed || c.broadcasts > c.broadcasts_closed ||
         c.subscriptions > c.subscriptions_closed;
}

std::optional<NodeFrame> NodeTrack::Tick(const std::vector<Entry>& entries) {
  const uint64_t tick = ++ticks_;
  // Paths let go last tick leave, and are forgotten once the frame is built.
  std::vector<std::string_view> released;
  released.swap(released_);
  for (std::string_view path : released) {
    auto it = slots_.find(absl::string_view(path.data(), path.size()));
    if (it == slots_.end()) continue;
    if (it->second.in_frame) Leave(it->first, it->second);
    forgotten_.push_back(slots_.extract(it));
  }
  // This tick's reports, by the live-or-changed rule.
  std::vector<std::string_view> transient;
  for (const Entry& entry : entries) {
    auto it = slots_.find(absl::string_view(entry.path.data(), entry.path.size()));
    if (it == slots_.end()) it = slots_.emplace(std::string(entry.path), Slot{}).first;
    const std::string_view path = it->first;
    Slot& slot = it->second;
    slot.touched = tick;
    const bool moved = entry.counts != slot.shown;
    const bool live = NodeTrafficLive(entry.counts);
    if ((moved || live) && !slot.in_frame) {
      slot.in_frame = true;
      entering_.push_back(Member{path, &slot});
      std::string text;
      AppendNodeTraffic(entry.counts, &text);
      patch_.emplace_back(path, std::move(text));
    } else if (!moved && !live && slot.in_frame) {
      Leave(path, slot);  // in the last frame only because it changed then
    } else if (moved && slot.in_frame) {
      changed_.push_back(path);
      std::string text;
      AppendNodeTrafficPatch(slot.shown, entry.counts, &text);
      patch_.emplace_back(path, std::move(text));
    }
    slot.shown = entry.counts;
    if (slot.in_frame && !live) transient.push_back(path);
    if (entry.released) released_.push_back(path);
  }
  // Paths in the last frame only because they changed then, and not
  // reported now, leave.
  for (std::string_view path : transient_) {
    auto it = slots_.find(absl::string_view(path.data(), path.size()));
    if (it == slots_.end() || it->second.touched == tick || !it->second.in_frame) continue;
    Leave(it->first, it->second);
  }
  transient_.swap(transient);

  std::optional<NodeFrame> out;
  if (tick == 1 || !patch_.empty()) {
    Assemble();
    out.emplace();
    out->text = frame_;
    if (tick == 1) {
      out->patch = *frame_;
    } else {
      // One member per path, the last change of it winning.
      std::stable_sort(patch_.begin(), patch_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out->patch.push_back('{');
      for (size_t i = 0; i < patch_.size(); ++i) {
        if (i + 1 < patch_.size() && patch_[i + 1].first == patch_[i].first) continue;
        if (out->patch.size() > 1) out->patch.push_back(',');
        AppendJsonString(patch_[i].first, &out->patch);
        out->patch.push_back(':');
        out->patch.append(patch_[i].second);
      }
      out->patch.push_back('}');
    }
  }
  patch_.clear();
  forgotten_.clear();
  return out;
}

void NodeTrack::Leave(std::string_view path, Slot& slot) {
  slot.in_frame = false;
  leaving_.push_back(path);
  patch_.emplace_back(path, "null");
}

std::shared_ptr<std::string> NodeTrack::FreshBuffer() {
  if (previous_ && previous_.use_count() == 1) return std::move(previous_);
  previous_.reset();
  return std::make_shared<std::string>();
}

void NodeTrack::Assemble() {
  const auto by_path = [](const Member& m, std::string_view path) { return m.path < path; };
  const auto index_of = [&](std::string_view path) {
    return static_cast<size_t>(std::lower_bound(order_.begin(), order_.end(), path, by_path) - order_.begin());
  };
  // The members of the last frame this tick touches, by index: true to
  // serialize anew, false to drop.
  std::vector<std::pair<size_t, bool>> touched;
  touched.reserve(leaving_.size() + changed_.size());
  for (std::string_view path : leaving_) touched.emplace_back(index_of(path), false);
  for (std::string_view path : changed_) touched.emplace_back(index_of(path), true);
  std::sort(touched.begin(), touched.end());
  // Where each entering member goes: before the last frame's member at that
  // index.
  std::sort(entering_.begin(), entering_.end(), [](const Member& a, const Member& b) { return a.path < b.path; });
  std::vector<size_t> before(entering_.size());
  for (size_t e = 0; e < entering_.size(); ++e) before[e] = index_of(entering_[e].path);

  std::shared_ptr<std::string> buffer = FreshBuffer();
  std::string& frame = *buffer;
  frame.clear();
  frame.reserve((frame_ ? frame_->size() : 0) + 2);
  std::vector<Member>& order = spare_order_;
  order.clear();
  order.reserve(order_.size() + entering_.size());
  frame.push_back('{');
  // A member serialized from its slot.
  const auto emit = [&](Member member) {
    if (frame.size() > 1) frame.push_back(',');
    member.offset = frame.size();
    AppendJsonString(member.path, &frame);
    frame.push_back(':');
    AppendNodeTraffic(member.slot->shown, &frame);
    member.length = frame.size() - member.offset;
    order.push_back(member);
  };
  // The last frame's members [a, b), copied in one piece.
  const auto copy = [&](size_t a, size_t b) {
    if (a >= b) return;
    if (frame.size() > 1) frame.push_back(',');
    const size_t from = order_[a].offset;
    const size_t to = order_[b - 1].offset + order_[b - 1].length;
    const size_t start = frame.size();
    frame.append(*frame_, from, to - from);
    for (size_t i = a; i < b; ++i) {
      Member member = order_[i];
      member.offset = member.offset - from + start;
      order.push_back(member);
    }
  };
  const size_t n = order_.size();
  size_t i = 0, t = 0, e = 0;
  for (;;) {
    const size_t cut = std::min(t < touched.size() ? touched[t].first : n, e < entering_.size() ? before[e] : n);
    copy(i, cut);
    i = cut;
    while (e < entering_.size() && before[e] == i) emit(entering_[e++]);
    if (t < touched.size() && touched[t].first == i) {
      // A member both dropped and changed is dropped (false sorts first).
      if (touched[t].second) emit(order_[i]);
      while (t < touched.size() && touched[t].first == i) ++t;
      ++i;
      continue;
    }
    if (i == n) break;
  }
  frame.push_back('}');
  previous_ = std::move(frame_);
  frame_ = std::move(buffer);
  order_.swap(order);
  leaving_.clear();
  changed_.clear();
  entering_.clear();
}

}  // namespace moq_stats::server
