// The C ABI of moq_stats/moq_stats.h over the C++ library: the guards
// (broadcast, track, announce and session) and the bumps on them. The
// opaque types and the boundary helpers are in c_api_internal.h.
//
// Every entry point that reaches C++ library code catches every exception
// (none may unwind into a C caller); the role getters only read a plain
// field and have nothing that could throw. Every handle argument may be
// NULL.

#include <cstddef>
#include <string_view>

#include "client/src/c_api_internal.h"
#include "moq_stats/moq_stats.h"
#include "moq_stats/stats.h"

namespace {

using moq_stats::internal::InRole;
using moq_stats::internal::MakeHandle;
using moq_stats::internal::ValidString;
using moq_stats::internal::ValidTierLabel;
using moq_stats::internal::View;

bool ValidRole(int role) { return role == MOQ_STATS_ROLE_PUBLISHER || role == MOQ_STATS_ROLE_SUBSCRIBER; }

// The track guard of `role` on `broadcast`: its subscriptions += 1.
moq_stats_track_guard_t* NewTrackGuard(const moq_stats::BroadcastStats& broadcast, int role, std::string_view name) {
  auto* track = new moq_stats_track_guard_t{role, {}, {}};
  if (role == MOQ_STATS_ROLE_PUBLISHER) {
    track->publisher = broadcast.publisher_track(name);
  } else {
    track->subscriber = broadcast.subscriber_track(name);
  }
  return track;
}

}  // namespace

extern "C" {

// ---------------------------------------------------------------------------
// Broadcast guards

moq_stats_broadcast_guard_t* moq_stats_broadcast_guard_open(const moq_stats_broadcast_t* broadcast, int role,
                                                            int* err) {
  return MakeHandle<moq_stats_broadcast_guard_t>(err, [&](int* code) -> moq_stats_broadcast_guard_t* {
    if (broadcast == nullptr || !ValidRole(role)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    // Allocate first, so that a failed allocation counts no open.
    auto* guard = new moq_stats_broadcast_guard_t{role, broadcast->broadcast, {}, {}};
    if (role == MOQ_STATS_ROLE_PUBLISHER) {
      guard->publisher = broadcast->broadcast.publisher();
    } else {
      guard->subscriber = broadcast->broadcast.subscriber();
    }
    return guard;
  });
}

int moq_stats_broadcast_guard_role(const moq_stats_broadcast_guard_t* guard) {
  return guard != nullptr ? guard->role : -1;
}

void moq_stats_broadcast_guard_close(moq_stats_broadcast_guard_t* guard) {
  try {
    delete guard;
  } catch (...) {
  }
}

// ---------------------------------------------------------------------------
// Track guards

moq_stats_track_guard_t* moq_stats_broadcast_guard_track(const moq_stats_broadcast_guard_t* guard, const char* name,
                                                         size_t name_len, int* err) {
  return MakeHandle<moq_stats_track_guard_t>(err, [&](int* code) -> moq_stats_track_guard_t* {
    if (guard == nullptr || !ValidString(name, name_len)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    return NewTrackGuard(guard->broadcast, guard->role, View(name, name_len));
  });
}

moq_stats_track_guard_t* moq_stats_broadcast_track(const moq_stats_broadcast_t* broadcast, int role, const char* name,
                                                   size_t name_len, int* err) {
  return MakeHandle<moq_stats_track_guard_t>(err, [&](int* code) -> moq_stats_track_guard_t* {
    if (broadcast == nullptr || !ValidRole(role) || !ValidString(name, name_len)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    return NewTrackGuard(broadcast->broadcast, role, View(name, name_len));
  });
}

int moq_stats_track_guard_role(const moq_stats_track_guard_t* track) { return track != nullptr ? track->role : -1; }

void moq_stats_track_guard_close(moq_stats_track_guard_t* track) {
  try {
    delete track;
  } catch (...) {
  }
}

void moq_stats_track_frame(const moq_stats_track_guard_t* track) {
  InRole(track, [](const auto& guard) { guard.frame(); });
}

void moq_stats_track_bytes(const moq_stats_track_guard_t* track, uint64_t n) {
  InRole(track, [n](const auto& guard) { guard.bytes(n); });
}

void moq_stats_track_group(const moq_stats_track_guard_t* track) {
  InRole(track, [](const auto& guard) { guard.group(); });
}

void moq_stats_track_datagram(const moq_stats_track_guard_t* track) {
  InRole(track, [](const auto& guard) { guard.datagram(); });
}

void moq_stats_track_fetch(const moq_stats_track_guard_t* track) {
  InRole(track, [](const auto& guard) { guard.fetch(); });
}

void moq_stats_broadcast_guard_fetch(const moq_stats_broadcast_guard_t* guard) {
  InRole(guard, [](const auto& g) { g.fetch(); });
}

// ---------------------------------------------------------------------------
// Announce guards

moq_stats_announce_guard_t* moq_stats_announce_guard_open(const moq_stats_broadcast_t* broadcast, int role, int* err) {
  return MakeHandle<moq_stats_announce_guard_t>(err, [&](int* code) -> moq_stats_announce_guard_t* {
    if (broadcast == nullptr || !ValidRole(role)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    // Allocate first, so that a failed allocation counts no open.
    auto* guard = new moq_stats_announce_guard_t{role, {}, {}};
    if (role == MOQ_STATS_ROLE_PUBLISHER) {
      guard->publisher = broadcast->broadcast.publisher_announce();
    } else {
      guard->subscriber = broadcast->broadcast.subscriber_announce();
    }
    return guard;
  });
}

void moq_stats_announce_guard_close(moq_stats_announce_guard_t* guard) {
  try {
    delete guard;
  } catch (...) {
  }
}

moq_stats_session_guard_t* moq_stats_session_guard_open(const moq_stats_t* stats, const char* tier_label,
                                                        size_t tier_label_len, const char* auth_root,
                                                        size_t auth_root_len, int* err) {
  return MakeHandle<moq_stats_session_guard_t>(err, [&](int* code) -> moq_stats_session_guard_t* {
    if (stats == nullptr || !ValidTierLabel(tier_label, tier_label_len) || !ValidString(auth_root, auth_root_len)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    // Allocate first, so that a failed allocation counts no open.
    auto* guard = new moq_stats_session_guard_t{};
    guard->session = stats->stats.tier(View(tier_label, tier_label_len)).session(View(auth_root, auth_root_len));
    return guard;
  });
}

int moq_stats_session_guard_empty(const moq_stats_session_guard_t* guard) {
  try {
    return guard == nullptr || guard->session.empty() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

void moq_stats_session_guard_close(moq_stats_session_guard_t* guard) {
  try {
    delete guard;
  } catch (...) {
  }
}

}  // extern "C"
