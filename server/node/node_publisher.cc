#include "server/node/node_publisher.h"

#include <array>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json/parse.h"
#include "common/logging.h"

namespace moq_stats::server {
namespace {

constexpr std::string_view kSessionsTrack = "sessions.json";

// The tier's prefix of its track names: none for the default tier.
std::string TierPrefix(Tier tier) { return tier == Tier::kExternal ? "" : "internal/"; }

std::string TrafficTrackName(Tier tier, Role role) {
  return absl::StrCat(TierPrefix(tier), role == Role::kPublisher ? "publisher.json" : "subscriber.json");
}

// The name of a track's compressed sibling.
std::string CompressedName(const std::string& name) { return name + ".z"; }

// One tick's report of one group: the entries of each (tier, role).
using GroupEntries = std::array<std::vector<NodeTrack::Entry>, kTierRoleCount>;

}  // namespace

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
  const std::vector<std::string> names = {TrafficTrackName(Tier::kExternal, Role::kPublisher),
                                          TrafficTrackName(Tier::kExternal, Role::kSubscriber),
                                          std::string(kSessionsTrack)};
  std::vector<std::string> all = names;
  for (const std::string& name : names) all.push_back(CompressedName(name));
  absl::StatusOr<std::unique_ptr<BroadcastProducer>> broadcast =
      options_.origin->Publish(BroadcastPath(group_key), all);
  if (!broadcast.ok()) return broadcast.status();
  Group group;
  for (const std::string& name : names) {
    group.tracks[name].producer = (*broadcast)->track(name);
    group.tracks[name].compressed = std::make_unique<CompressedTrack>((*broadcast)->track(CompressedName(name)));
  }
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
  // Read (and let the table forget what nobody holds) under the lock, so two
  // ticks never interleave their reports.
  const std::vector<PathReport> reports = options_.paths->Report();
  std::map<std::string, GroupEntries> active;
  if (options_.depth == 0) active[""];
  for (const PathReport& report : reports) {
    GroupEntries& entries = active[NodeGroupOf(report.path, options_.depth).str()];
    for (Role role : kRoles) {
      entries[TierRoleIndex(report.tier, role)].emplace_back(report.path.str(),
                                                             report.roles[static_cast<size_t>(role)]);
    }
  }
  // Groups with no path in the report end.
  for (auto it = groups_.begin(); it != groups_.end();) {
    it = active.count(it->first) != 0 ? std::next(it) : groups_.erase(it);
  }
  size_t written = 0;
  for (auto& [key, entries] : active) {
    auto group_it = groups_.find(key);
    if (group_it == groups_.end()) {
      absl::StatusOr<Group> group = Announce(Path(key));
      if (!group.ok()) continue;  // the path is taken: try again next tick
      group_it = groups_.emplace(key, *std::move(group)).first;
    }
    Group& group = group_it->second;
    for (Tier tier : kTiers) {
      const bool has_entries = !entries[TierRoleIndex(tier, Role::kPublisher)].empty() ||
                               !entries[TierRoleIndex(tier, Role::kSubscriber)].empty();
      for (Role role : kRoles) {
        const std::string name = TrafficTrackName(tier, role);
        auto track = group.tracks.find(name);
        if (track == group.tracks.end()) {
          if (!has_entries) continue;  // a named tier's tracks appear with its first path
          absl::StatusOr<TrackProducer*> producer = group.broadcast->CreateTrack(name);
          absl::StatusOr<TrackProducer*> compressed = group.broadcast->CreateTrack(CompressedName(name));
          if (!producer.ok() || !compressed.ok()) continue;
          track =
              group.tracks.emplace(name, Track{*producer, {}, std::make_unique<CompressedTrack>(*compressed)}).first;
        }
        std::optional<std::string> frame = track->second.frames.Tick(std::move(entries[TierRoleIndex(tier, role)]));
        if (!frame) continue;
        Write(track->second, *std::move(frame));
        ++written;
      }
    }
    Track& sessions = group.tracks[std::string(kSessionsTrack)];
    if (std::optional<std::string> frame = sessions.frames.Tick({}); frame && sessions.producer != nullptr) {
      Write(sessions, *std::move(frame));
      ++written;
    }
  }
  frames_written_ += written;
  return written;
}

void NodePublisher::Write(Track& track, std::string frame) {
  if (track.compressed != nullptr) {
    // The compressed sibling carries the same value.
    absl::StatusOr<json::Value> value = json::Parse(frame);
    if (!value.ok()) {
      MOQSTATS_LOG(ERROR) << "a node-format frame of track " << track.producer->name()
                          << " is not JSON: " << value.status();
    } else if (absl::StatusOr<bool> z = track.compressed->Write(*std::move(value)); !z.ok()) {
      MOQSTATS_LOG(WARNING) << "track " << track.producer->name() << ".z: " << z.status();
    }
  }
  track.producer->WriteFrame(std::move(frame));
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
