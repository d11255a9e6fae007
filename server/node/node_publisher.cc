#include "server/node/node_publisher.h"

#include <array>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/json/parse.h"
#include "common/logging.h"

namespace moq_stats::server {
namespace {

constexpr std::string_view kSessionsTrack = "sessions.json";

std::string TrafficTrackName(std::string_view label, Role role) {
  return NodeTrackName(label, role == Role::kPublisher ? "publisher.json" : "subscriber.json");
}

// The name of a track's compressed sibling.
std::string CompressedName(const std::string& name) { return name + ".z"; }

}  // namespace

// One tick's report of one group: per tier label, the traffic entries of
// each role and the sessions entries.
struct NodePublisher::GroupEntries {
  std::map<std::string, std::array<std::vector<NodeTrack::Entry>, 2>> traffic;
  std::map<std::string, std::vector<SessionsTrack::Entry>> sessions;
};

std::string NodeTrackName(std::string_view label, std::string_view name) {
  return label.empty() ? std::string(name)
                       : absl::StrCat(absl::string_view(label.data(), label.size()), "/",
                                      absl::string_view(name.data(), name.size()));
}

Path NodeGroupOf(const Path& path, uint32_t depth) {
  return path.segment_count() <= depth ? path : path.first_segments(depth);
}

absl::StatusOr<std::shared_ptr<NodePublisher>> NodePublisher::Create(Options options) {
  if (options.origin == nullptr || options.scheduler == nullptr || options.clock == nullptr || !options.paths) {
    return absl::InvalidArgumentError("the node publisher needs an origin, a scheduler, a clock and a path table");
  }
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the node publisher's interval must be positive");
  }
  std::shared_ptr<NodePublisher> publisher(new NodePublisher(std::move(options)));
  if (publisher->options_.depth == 0) {
    absl::MutexLock lock(&publisher->mu_);
    absl::StatusOr<Group> group = publisher->Announce(Path());
    if (!group.ok()) return group.status();
    publisher->groups_.emplace("", *std::move(group));
  }
  publisher->ScheduleNext();
  return publisher;
}

Path NodePublisher::BroadcastPath(const Path& group) const {
  std::string path = options_.prefix.str();
  if (!group.empty()) absl::StrAppend(&path, "/", group.str());
  absl::StrAppend(&path, "/node");
  if (!options_.node.empty()) absl::StrAppend(&path, "/", options_.node.str());
  return Path(path);
}

absl::StatusOr<NodePublisher::Group> NodePublisher::Announce(const Path& group_key) {
  const std::vector<std::string> names = {TrafficTrackName("", Role::kPublisher),
                                          TrafficTrackName("", Role::kSubscriber), std::string(kSessionsTrack)};
  std::vector<std::string> all = names;
  for (const std::string& name : names) all.push_back(CompressedName(name));
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast =
      options_.origin->Publish(BroadcastPath(group_key), all);
  if (!broadcast.ok()) return broadcast.status();
  Group group;
  for (size_t i = 0; i < 2; ++i) {
    group.tracks[names[i]] = {(*broadcast)->track(names[i]),
                              {},
                              std::make_unique<CompressedTrack>((*broadcast)->track(CompressedName(names[i])))};
  }
  group.sessions[""] = {(*broadcast)->track(names[2]),
                        {},
                        std::make_unique<CompressedTrack>((*broadcast)->track(CompressedName(names[2])))};
  group.broadcast = *std::move(broadcast);
  return group;
}

void NodePublisher::ScheduleNext() {
  std::weak_ptr<NodePublisher> weak = weak_from_this();
  options_.scheduler->ScheduleAt(options_.clock->Now() + options_.interval, [weak] {
    std::shared_ptr<NodePublisher> self = weak.lock();
    if (!self) return;
    self->Tick();
    {
      absl::MutexLock lock(&self->mu_);
      if (self->stopped_) return;
    }
    self->ScheduleNext();
  });
}

size_t NodePublisher::Tick() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return 0;
  // Read (and let the tables forget what nobody holds) under the lock, so two
  // ticks never interleave their reports.
  std::vector<PathReport> reports = options_.paths->Report();
  TakeUndelivered(&reports);
  const std::vector<PresenceReport> presence =
      options_.presence ? options_.presence->Report() : std::vector<PresenceReport>();
  std::map<std::string, GroupEntries> active;
  if (options_.depth == 0) active[""];
  for (const PathReport& report : reports) {
    auto& roles = active[NodeGroupOf(report.path, options_.depth).str()].traffic[report.tier];
    for (Role role : kRoles) {
      roles[static_cast<size_t>(role)].push_back(
          NodeTrack::Entry{report.path.str(), report.roles[static_cast<size_t>(role)], report.released});
    }
  }
  for (const PresenceReport& report : presence) {
    active[NodeGroupOf(Path(report.root), options_.depth).str()].sessions[report.tier].emplace_back(report.root,
                                                                                                    report.counts);
  }
  // A group with nothing reported now and no path held ends; the others
  // all tick (paths let go or shown once leave their frames).
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (active.count(it->first) != 0) {
      ++it;
    } else if (Holds(it->second)) {
      active[it->first];
      ++it;
    } else {
      it = groups_.erase(it);
    }
  }
  size_t written = 0;
  for (auto& [key, entries] : active) {
    auto group_it = groups_.find(key);
    if (group_it == groups_.end()) {
      absl::StatusOr<Group> group = Announce(Path(key));
      if (!group.ok()) {
        // The path is taken: try again next tick, with these reports.
        KeepUndelivered(key, reports);
        continue;
      }
      group_it = groups_.emplace(key, *std::move(group)).first;
    }
    written += TickGroup(group_it->second, entries);
  }
  frames_written_ += written;
  return written;
}

void NodePublisher::TakeUndelivered(std::vector<PathReport>* reports) {
  if (undelivered_.empty()) return;
  absl::flat_hash_set<std::pair<std::string, std::string>> fresh;
  for (const PathReport& report : *reports) fresh.emplace(report.tier, report.path.str());
  for (auto& [key, report] : undelivered_) {
    if (!fresh.contains(key)) reports->push_back(std::move(report));  // else the newer one wins
  }
  undelivered_.clear();
}

void NodePublisher::KeepUndelivered(const std::string& group, const std::vector<PathReport>& reports) {
  for (const PathReport& report : reports) {
    if (NodeGroupOf(report.path, options_.depth).str() == group) {
      undelivered_.insert_or_assign({report.tier, report.path.str()}, report);
    }
  }
}

bool NodePublisher::Holds(const Group& group) {
  for (const auto& [name, track] : group.tracks) {
    if (track.frames.held() > 0) return true;
  }
  return false;
}

size_t NodePublisher::TickGroup(Group& group, GroupEntries& entries) {
  size_t written = 0;
  // Every tier with tracks already, and every tier with entries now.
  std::set<std::string> tiers = {""};
  for (const auto& [name, track] : group.tracks) {
    const size_t slash = name.rfind('/');
    tiers.insert(slash == std::string::npos ? "" : name.substr(0, slash));
  }
  for (const auto& [tier, roles] : entries.traffic) tiers.insert(tier);
  for (const std::string& tier : tiers) {
    auto found = entries.traffic.find(tier);
    for (Role role : kRoles) {
      static const std::vector<NodeTrack::Entry> kNone;
      const std::vector<NodeTrack::Entry>& now =
          found != entries.traffic.end() ? found->second[static_cast<size_t>(role)] : kNone;
      const std::string name = TrafficTrackName(tier, role);
      auto track = group.tracks.find(name);
      if (track == group.tracks.end()) {
        if (now.empty()) continue;  // a named tier's tracks appear with its first path
        absl::StatusOr<TrackProducer*> producer = group.broadcast->CreateTrack(name);
        absl::StatusOr<TrackProducer*> compressed = group.broadcast->CreateTrack(CompressedName(name));
        if (!producer.ok() || !compressed.ok()) continue;
        track = group.tracks.emplace(name, Track{*producer, {}, std::make_unique<CompressedTrack>(*compressed)}).first;
      }
      std::optional<NodeFrame> frame = track->second.frames.Tick(now);
      if (!frame) continue;
      WriteTraffic(track->second, *std::move(frame));
      ++written;
    }
  }
  for (auto& [tier, roots] : entries.sessions) {
    if (group.sessions.count(tier) != 0) continue;
    const std::string name = NodeTrackName(tier, kSessionsTrack);
    absl::StatusOr<TrackProducer*> producer = group.broadcast->CreateTrack(name);
    absl::StatusOr<TrackProducer*> compressed = group.broadcast->CreateTrack(CompressedName(name));
    if (producer.ok() && compressed.ok()) {
      group.sessions.emplace(tier, SessionsTrackState{*producer, {}, std::make_unique<CompressedTrack>(*compressed)});
    }
  }
  for (auto& [tier, track] : group.sessions) {
    auto found = entries.sessions.find(tier);
    std::vector<SessionsTrack::Entry> now;
    if (found != entries.sessions.end()) now = std::move(found->second);
    std::optional<std::string> frame = track.frames.Tick(std::move(now));
    if (!frame || track.producer == nullptr) continue;
    Write(track.producer, track.compressed.get(), *std::move(frame));
    ++written;
  }
  return written;
}

void NodePublisher::WriteTraffic(Track& track, NodeFrame frame) {
  // The compressed sibling carries the same value, from the frame's patch.
  if (absl::Status s = track.compressed->WriteText(*frame.text, frame.patch); !s.ok()) {
    MOQSTATS_LOG(WARNING) << "track " << track.producer->name() << ".z: " << s;
  }
  track.producer->WriteFrame(std::move(frame.text));
}

void NodePublisher::Write(TrackProducer* producer, CompressedTrack* compressed, std::string frame) {
  if (compressed != nullptr) {
    // The compressed sibling carries the same value.
    absl::StatusOr<json::Value> value = json::Parse(frame);
    if (!value.ok()) {
      MOQSTATS_LOG(ERROR) << "a node-format frame of track " << producer->name() << " is not JSON: " << value.status();
    } else if (absl::StatusOr<bool> z = compressed->Write(*std::move(value)); !z.ok()) {
      MOQSTATS_LOG(WARNING) << "track " << producer->name() << ".z: " << z.status();
    }
  }
  producer->WriteFrame(std::move(frame));
}

void NodePublisher::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  groups_.clear();
}

size_t NodePublisher::broadcasts() const {
  absl::MutexLock lock(&mu_);
  return groups_.size();
}

uint64_t NodePublisher::frames_written() const {
  absl::MutexLock lock(&mu_);
  return frames_written_;
}

}  // namespace moq_stats::server
