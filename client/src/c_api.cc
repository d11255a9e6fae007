// The C ABI of moq_stats/moq_stats.h over the C++ library.
//
// Each opaque type holds the C++ object it stands for. Every entry point
// that reaches C++ library code catches every exception (none may unwind
// into a C caller); the few that only read or write plain fields
// (strerror, the numeric option setters, the role getters) have nothing that
// could throw. Every handle argument may be NULL.

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <new>
#include <string>
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

namespace {

// The fields of moq_stats_counters_t after struct_size, in order: what
// moq_stats_counters may write into a caller's struct of a given size.
struct CountersField {
  size_t offset;
  size_t size;
};
#define MOQ_STATS_COUNTERS_FIELD(name) \
  CountersField { offsetof(moq_stats_counters_t, name), sizeof(moq_stats_counters_t::name) }
constexpr CountersField kCountersFields[] = {
    MOQ_STATS_COUNTERS_FIELD(connected),      MOQ_STATS_COUNTERS_FIELD(batches_sent),
    MOQ_STATS_COUNTERS_FIELD(batches_acked),  MOQ_STATS_COUNTERS_FIELD(deltas_sent),
    MOQ_STATS_COUNTERS_FIELD(reconnects),     MOQ_STATS_COUNTERS_FIELD(resyncs),
    MOQ_STATS_COUNTERS_FIELD(live_handles),   MOQ_STATS_COUNTERS_FIELD(pending_batches),
    MOQ_STATS_COUNTERS_FIELD(last_error_len),
};
#undef MOQ_STATS_COUNTERS_FIELD
// A field appended to the struct and not listed here fails this.
static_assert(kCountersFields[std::size(kCountersFields) - 1].offset +
                      kCountersFields[std::size(kCountersFields) - 1].size ==
                  sizeof(moq_stats_counters_t),
              "kCountersFields lists every field of moq_stats_counters_t, the last one last");

void SetErr(int* err, int code) {
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
int CurrentExceptionCode() {
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
bool ValidString(const char* data, size_t len) { return data != nullptr || len == 0; }

std::string_view View(const char* data, size_t len) {
  return len == 0 ? std::string_view() : std::string_view(data, len);
}

// A tier label Stats::tier(label) accepts.
bool ValidTierLabel(const char* data, size_t len) {
  return ValidString(data, len) && moq_stats::NormalizeTierLabel(View(data, len)).ok();
}

bool ValidTier(int tier) { return tier == MOQ_STATS_TIER_EXTERNAL || tier == MOQ_STATS_TIER_INTERNAL; }

bool ValidRole(int role) { return role == MOQ_STATS_ROLE_PUBLISHER || role == MOQ_STATS_ROLE_SUBSCRIBER; }

// What moq_stats_connect refuses; the C++ API trusts its caller.
bool ValidOptions(const moq_stats::Options& o) {
  return o.flush_interval.count() >= 1 && o.reconnect_min.count() >= 1 && o.reconnect_min <= o.reconnect_max &&
         o.reconnect_max.count() <= INT_MAX;  // gRPC takes the backoff as an int
}

int SetString(moq_stats_options_t* options, std::string moq_stats::Options::*field, const char* data, size_t len) {
  if (options == nullptr || !ValidString(data, len)) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  try {
    options->options.*field = std::string(View(data, len));
    return MOQ_STATS_OK;
  } catch (...) {
    return CurrentExceptionCode();
  }
}

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
// Errors

const char* moq_stats_strerror(int code) {
  switch (code) {
    case MOQ_STATS_OK:
      return "ok";
    case MOQ_STATS_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case MOQ_STATS_ERR_OUT_OF_MEMORY:
      return "out of memory";
    case MOQ_STATS_ERR_INTERNAL:
      return "internal error";
    default:
      return "unknown error code";
  }
}

// ---------------------------------------------------------------------------
// Options

moq_stats_options_t* moq_stats_options_create(void) {
  try {
    return new moq_stats_options_t{};
  } catch (...) {
    return nullptr;
  }
}

void moq_stats_options_destroy(moq_stats_options_t* options) {
  try {
    delete options;
  } catch (...) {
  }
}

int moq_stats_options_set_session_id(moq_stats_options_t* options, const char* session_id, size_t session_id_len) {
  return SetString(options, &moq_stats::Options::session_id, session_id, session_id_len);
}

int moq_stats_options_set_relay_name(moq_stats_options_t* options, const char* relay_name, size_t relay_name_len) {
  return SetString(options, &moq_stats::Options::relay_name, relay_name, relay_name_len);
}

int moq_stats_options_set_prefix(moq_stats_options_t* options, const char* prefix, size_t prefix_len) {
  return SetString(options, &moq_stats::Options::prefix, prefix, prefix_len);
}

int moq_stats_options_set_flush_interval_ms(moq_stats_options_t* options, uint32_t flush_interval_ms) {
  if (options == nullptr) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  options->options.flush_interval = std::chrono::milliseconds(flush_interval_ms);
  return MOQ_STATS_OK;
}

int moq_stats_options_set_max_batch_entries(moq_stats_options_t* options, uint32_t max_batch_entries) {
  if (options == nullptr) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  options->options.max_batch_entries = max_batch_entries;
  return MOQ_STATS_OK;
}

int moq_stats_options_set_max_inflight(moq_stats_options_t* options, uint32_t max_inflight) {
  if (options == nullptr) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  options->options.max_inflight_batches = max_inflight;
  return MOQ_STATS_OK;
}

int moq_stats_options_set_reconnect_min_ms(moq_stats_options_t* options, uint32_t reconnect_min_ms) {
  if (options == nullptr) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  options->options.reconnect_min = std::chrono::milliseconds(reconnect_min_ms);
  return MOQ_STATS_OK;
}

int moq_stats_options_set_reconnect_max_ms(moq_stats_options_t* options, uint32_t reconnect_max_ms) {
  if (options == nullptr) return MOQ_STATS_ERR_INVALID_ARGUMENT;
  options->options.reconnect_max = std::chrono::milliseconds(reconnect_max_ms);
  return MOQ_STATS_OK;
}

int moq_stats_options_set_auth_token_file(moq_stats_options_t* options, const char* path, size_t path_len) {
  return SetString(options, &moq_stats::Options::auth_token_file, path, path_len);
}

int moq_stats_options_set_tls_files(moq_stats_options_t* options, const char* ca_file, size_t ca_file_len,
                                    const char* cert_file, size_t cert_file_len, const char* key_file,
                                    size_t key_file_len) {
  // Checked all at once, so that a bad argument changes none of them.
  if (options == nullptr || (ca_file == nullptr && ca_file_len != 0) || (cert_file == nullptr && cert_file_len != 0) ||
      (key_file == nullptr && key_file_len != 0)) {
    return MOQ_STATS_ERR_INVALID_ARGUMENT;
  }
  int rc = SetString(options, &moq_stats::Options::tls_ca_file, ca_file, ca_file_len);
  if (rc == MOQ_STATS_OK) rc = SetString(options, &moq_stats::Options::tls_cert_file, cert_file, cert_file_len);
  if (rc == MOQ_STATS_OK) rc = SetString(options, &moq_stats::Options::tls_key_file, key_file, key_file_len);
  return rc;
}

// ---------------------------------------------------------------------------
// The library

moq_stats_t* moq_stats_connect(const char* target, size_t target_len, const moq_stats_options_t* options, int* err) {
  return MakeHandle<moq_stats_t>(err, [&](int* code) -> moq_stats_t* {
    const moq_stats::Options defaults;
    const moq_stats::Options& o = options != nullptr ? options->options : defaults;
    if (target == nullptr || target_len == 0 || !ValidOptions(o)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    return new moq_stats_t{moq_stats::Stats::Connect(std::string(target, target_len), o)};
  });
}

moq_stats_t* moq_stats_disabled(void) {
  try {
    return new moq_stats_t{moq_stats::Stats::Disabled()};
  } catch (...) {
    return nullptr;
  }
}

int moq_stats_enabled(const moq_stats_t* stats) {
  try {
    return stats != nullptr && stats->stats.enabled() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int moq_stats_shutdown(moq_stats_t* stats, uint32_t deadline_ms, int* err) {
  if (stats == nullptr) {
    SetErr(err, MOQ_STATS_ERR_INVALID_ARGUMENT);
    return 0;
  }
  try {
    const bool acknowledged = stats->stats.Shutdown(std::chrono::milliseconds(deadline_ms));
    SetErr(err, MOQ_STATS_OK);
    return acknowledged ? 1 : 0;
  } catch (...) {
    SetErr(err, CurrentExceptionCode());
    return 0;
  }
}

void moq_stats_destroy(moq_stats_t* stats) {
  try {
    delete stats;
  } catch (...) {
  }
}

int moq_stats_counters(const moq_stats_t* stats, moq_stats_counters_t* counters, char* last_error,
                       size_t last_error_cap) {
  if (stats == nullptr || counters == nullptr || (last_error == nullptr && last_error_cap != 0) ||
      counters->struct_size < kCountersFields[0].offset + kCountersFields[0].size) {
    return MOQ_STATS_ERR_INVALID_ARGUMENT;
  }
  try {
    const moq_stats::ClientCounters c = stats->stats.counters();
    moq_stats_counters_t full{};
    full.connected = c.connected ? 1 : 0;
    full.batches_sent = c.batches_sent;
    full.batches_acked = c.batches_acked;
    full.deltas_sent = c.deltas_sent;
    full.reconnects = c.reconnects;
    full.resyncs = c.resyncs;
    full.live_handles = c.live_handles;
    full.pending_batches = c.pending_batches;
    full.last_error_len = c.last_error.size();
    // Only the fields the caller's struct holds (see moq_stats.h).
    for (const CountersField& field : kCountersFields) {
      if (field.offset + field.size > counters->struct_size) break;
      std::memcpy(reinterpret_cast<char*>(counters) + field.offset, reinterpret_cast<const char*>(&full) + field.offset,
                  field.size);
    }
    if (last_error_cap > 0) {
      const size_t n = std::min(c.last_error.size(), last_error_cap - 1);
      std::memcpy(last_error, c.last_error.data(), n);
      last_error[n] = '\0';
    }
    return MOQ_STATS_OK;
  } catch (...) {
    return CurrentExceptionCode();
  }
}

// ---------------------------------------------------------------------------
// Broadcast handles

moq_stats_broadcast_t* moq_stats_broadcast(const moq_stats_t* stats, int tier, const char* path, size_t path_len,
                                           int* err) {
  return MakeHandle<moq_stats_broadcast_t>(err, [&](int* code) -> moq_stats_broadcast_t* {
    if (stats == nullptr || !ValidTier(tier) || !ValidString(path, path_len)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    return new moq_stats_broadcast_t{
        stats->stats.tier(static_cast<moq_stats::Tier>(tier)).broadcast(View(path, path_len))};
  });
}

moq_stats_broadcast_t* moq_stats_broadcast_named(const moq_stats_t* stats, const char* tier_label,
                                                 size_t tier_label_len, const char* path, size_t path_len, int* err) {
  return MakeHandle<moq_stats_broadcast_t>(err, [&](int* code) -> moq_stats_broadcast_t* {
    if (stats == nullptr || !ValidTierLabel(tier_label, tier_label_len) || !ValidString(path, path_len)) {
      *code = MOQ_STATS_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
    return new moq_stats_broadcast_t{
        stats->stats.tier(View(tier_label, tier_label_len)).broadcast(View(path, path_len))};
  });
}

int moq_stats_broadcast_empty(const moq_stats_broadcast_t* broadcast) {
  try {
    return broadcast == nullptr || broadcast->broadcast.empty() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

void moq_stats_broadcast_destroy(moq_stats_broadcast_t* broadcast) {
  try {
    delete broadcast;
  } catch (...) {
  }
}

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
