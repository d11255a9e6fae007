#ifndef MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_BATCH_BUILDER_H_
#define MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_BATCH_BUILDER_H_

// Builders for the Session's wire messages, so that a test reads as the
// traffic it stands for:
//
//   pb::Batch batch = BatchBuilder(1)
//                         .Define(1, "a/b", pb::TIER_EXTERNAL)
//                         .Add(DeltaFor(1, pb::ROLE_PUBLISHER).broadcasts_opened(1).bytes(100))
//                         .Release(7);

#include <cstdint>
#include <string>
#include <utility>

#include "moq/stats/v1/stats.pb.h"

namespace moq_stats::server {
namespace test {

// One HandleDelta, field by field.
class DeltaFor {
 public:
  DeltaFor(uint32_t handle, ::moq::stats::v1::Role role) {
    delta_.set_handle(handle);
    delta_.set_role(role);
  }
  // For a role number outside the enum (an unknown role from a newer relay).
  DeltaFor(uint32_t handle, int role) {
    delta_.set_handle(handle);
    delta_.set_role(static_cast<::moq::stats::v1::Role>(role));
  }

  DeltaFor& broadcasts_opened(uint64_t n) {
    delta_.set_broadcasts_opened(n);
    return *this;
  }
  DeltaFor& broadcasts_closed(uint64_t n) {
    delta_.set_broadcasts_closed(n);
    return *this;
  }
  DeltaFor& subscriptions_opened(uint64_t n) {
    delta_.set_subscriptions_opened(n);
    return *this;
  }
  DeltaFor& subscriptions_closed(uint64_t n) {
    delta_.set_subscriptions_closed(n);
    return *this;
  }
  DeltaFor& bytes(uint64_t n) {
    delta_.set_bytes(n);
    return *this;
  }
  DeltaFor& frames(uint64_t n) {
    delta_.set_frames(n);
    return *this;
  }
  DeltaFor& groups(uint64_t n) {
    delta_.set_groups(n);
    return *this;
  }
  DeltaFor& announced_opened(uint64_t n) {
    delta_.set_announced_opened(n);
    return *this;
  }
  DeltaFor& announced_closed(uint64_t n) {
    delta_.set_announced_closed(n);
    return *this;
  }
  DeltaFor& announced_bytes(uint64_t n) {
    delta_.set_announced_bytes(n);
    return *this;
  }
  DeltaFor& fetches(uint64_t n) {
    delta_.set_fetches(n);
    return *this;
  }
  DeltaFor& datagrams(uint64_t n) {
    delta_.set_datagrams(n);
    return *this;
  }
  DeltaFor& sessions_opened(uint64_t n) {
    delta_.set_sessions_opened(n);
    return *this;
  }
  DeltaFor& sessions_closed(uint64_t n) {
    delta_.set_sessions_closed(n);
    return *this;
  }

  const ::moq::stats::v1::HandleDelta& proto() const { return delta_; }

 private:
  ::moq::stats::v1::HandleDelta delta_;
};

// One Batch, entry by entry, in the order given within each list.
class BatchBuilder {
 public:
  explicit BatchBuilder(uint64_t sequence) { batch_.set_sequence(sequence); }

  BatchBuilder& Define(uint32_t handle, std::string path,
                       ::moq::stats::v1::Tier tier = ::moq::stats::v1::TIER_EXTERNAL) {
    ::moq::stats::v1::Define* define = batch_.add_defines();
    define->set_handle(handle);
    define->set_path(std::move(path));
    define->set_tier(tier);
    return *this;
  }
  // A handle of the tier labelled `label` (Define.tier_label), with the
  // tier enum a relay sets beside it.
  BatchBuilder& DefineLabelled(uint32_t handle, std::string path, std::string label) {
    Define(handle, std::move(path));
    batch_.mutable_defines(batch_.defines_size() - 1)->set_tier_label(std::move(label));
    return *this;
  }
  // A presence handle of auth root `root` in the tier labelled `label`.
  BatchBuilder& DefinePresence(uint32_t handle, std::string root, std::string label = "") {
    DefineLabelled(handle, std::move(root), std::move(label));
    batch_.mutable_defines(batch_.defines_size() - 1)->set_presence(true);
    return *this;
  }
  // For a tier number outside the enum.
  BatchBuilder& DefineWithTier(uint32_t handle, std::string path, int tier) {
    return Define(handle, std::move(path), static_cast<::moq::stats::v1::Tier>(tier));
  }

  BatchBuilder& Add(const DeltaFor& delta) {
    *batch_.add_deltas() = delta.proto();
    return *this;
  }

  BatchBuilder& Release(uint32_t handle) {
    batch_.add_releases(handle);
    return *this;
  }

  // Sets `resync`; the guards open after it are given with Open.
  BatchBuilder& Resync() {
    batch_.set_resync(true);
    return *this;
  }

  // With Resync: handles this batch does not define are closed and released.
  BatchBuilder& ReleaseUnlisted() {
    batch_.set_release_unlisted(true);
    return *this;
  }
  // With Resync: more parts of this resync follow (resync_continues).
  BatchBuilder& Continues() {
    batch_.set_resync_continues(true);
    return *this;
  }
  BatchBuilder& Open(uint32_t handle, ::moq::stats::v1::Role role, uint64_t broadcasts, uint64_t subscriptions,
                     uint64_t announced = 0) {
    ::moq::stats::v1::OpenGuards* open = batch_.add_open();
    open->set_handle(handle);
    open->set_role(role);
    open->set_broadcasts(broadcasts);
    open->set_subscriptions(subscriptions);
    open->set_announced(announced);
    return *this;
  }
  // With Resync: `sessions` session guards open on presence handle `handle`.
  BatchBuilder& OpenSessions(uint32_t handle, uint64_t sessions) {
    ::moq::stats::v1::OpenGuards* open = batch_.add_open();
    open->set_handle(handle);
    open->set_role(::moq::stats::v1::ROLE_PUBLISHER);
    open->set_sessions(sessions);
    return *this;
  }

  const ::moq::stats::v1::Batch& proto() const { return batch_; }
  // By value, so that `const pb::Batch& b = BatchBuilder(1)...;` does not
  // dangle.
  operator ::moq::stats::v1::Batch() const { return batch_; }  // NOLINT: meant to convert

 private:
  ::moq::stats::v1::Batch batch_;
};

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_SESSIONS_TEST_TOOLS_BATCH_BUILDER_H_
