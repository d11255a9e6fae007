#ifndef MOQ_STATS_CLIENT_SRC_C_API_INTERNAL_H_
#define MOQ_STATS_CLIENT_SRC_C_API_INTERNAL_H_

// What the two halves of the C ABI (c_api.cc: errors, options, the library
// and broadcast handles; c_api_guards.cc: the guards and their bumps) share:
// the opaque types and the helpers at the C boundary.
//
// Each opaque type holds the C++ object it stands for. Every helper here is
// inline, so that a bump stays a few instructions with no call.

#include <cstddef>
#include <new>
#include <string_view>

#include "common/tier_label.h"
#include "moq_stats/moq_stats.h"
#include "moq_stats/stats.h"

struct moq_stats_t {
  moq_stats::Stats stats;
};

struct moq_stats_options_t {
  moq_stats::Options options;
};

struct moq_stats_broadcast_t {
  moq_stats::BroadcastStats broadcast;
};

// The role is a template parameter in C++ and a value here: a guard holds
// one of each and opens only the one of its role (the other stays empty).
//
// It also keeps its broadcast handle, to open track guards with
// BroadcastStats::publisher_track/subscriber_track: the same as
// BroadcastGuard::track (a TrackGuard on the guard's handle), without
// instantiating BroadcastGuard::track, whose unused `name` parameter fails
// this library's -Wextra -Werror build.
struct moq_stats_broadcast_guard_t {
  int role;
  moq_stats::BroadcastStats broadcast;
  moq_stats::PublisherStats publisher;
  moq_stats::SubscriberStats subscriber;
};

struct moq_stats_track_guard_t {
  int role;
  moq_stats::PublisherTrack publisher;
  moq_stats::SubscriberTrack subscriber;
};

struct moq_stats_announce_guard_t {
  int role;
  moq_stats::PublisherAnnounce publisher;
  moq_stats::SubscriberAnnounce subscriber;
};

struct moq_stats_session_guard_t {
  moq_stats::SessionGuard session;
};

namespace moq_stats {
namespace internal {

// Stores `code` in `*err` unless `err` is NULL.
inline void SetErr(int* err, int code) {
  if (err != nullptr) *err = code;
}

// The hot path: `bump` on the C++ guard of the object's role, an inline
// relaxed atomic add on the slot of that role. Nothing in it allocates,
// locks or throws; the try/catch only keeps that promise should the C++
// side change, and costs nothing (the compiler sees no call that can throw
// and drops the handler). A NULL object is a no-op.
template <typename Guards, typename Bump>
void InRole(const Guards* guards, Bump bump) {
  if (guards == nullptr) return;
  try {
    if (guards->role == MOQ_STATS_ROLE_PUBLISHER) {
      bump(guards->publisher);
    } else {
      bump(guards->subscriber);
    }
  } catch (...) {
  }
}

// The error code of the exception being handled; call from a catch block.
inline int CurrentExceptionCode() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return MOQ_STATS_ERR_OUT_OF_MEMORY;
  } catch (...) {
    return MOQ_STATS_ERR_INTERNAL;
  }
}

// Runs `make`, which returns a new handle or sets `*code` and returns null,
// at the boundary: the handle, or null with the error in `*err`.
template <typename T, typename Make>
T* MakeHandle(int* err, Make&& make) {
  try {
    int code = MOQ_STATS_OK;
    T* made = make(&code);
    SetErr(err, made != nullptr ? MOQ_STATS_OK : code);
    return made;
  } catch (...) {
    SetErr(err, CurrentExceptionCode());
    return nullptr;
  }
}

// A (pointer, length) string that must not be null unless empty.
inline bool ValidString(const char* data, size_t len) { return data != nullptr || len == 0; }

// A (pointer, length) string as a view; the empty view when `len` is 0.
inline std::string_view View(const char* data, size_t len) {
  return len == 0 ? std::string_view() : std::string_view(data, len);
}

// A tier label Stats::tier(label) accepts.
inline bool ValidTierLabel(const char* data, size_t len) {
  return ValidString(data, len) && NormalizeTierLabel(View(data, len)).ok();
}

}  // namespace internal
}  // namespace moq_stats

#endif  // MOQ_STATS_CLIENT_SRC_C_API_INTERNAL_H_
