// The C ABI of moq_stats/moq_stats.h over the C++ library: errors, options,
// the library and broadcast handles (the guards are in c_api_guards.cc; the
// opaque types and the boundary helpers both use, in c_api_internal.h).
//
// Every entry point that reaches C++ library code catches every exception
// (none may unwind into a C caller); the few that only read or write plain
// fields (strerror, the numeric option setters) have nothing that could
// throw. Every handle argument may be NULL.

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>

#include "client/src/c_api_internal.h"
#include "moq_stats/moq_stats.h"
#include "moq_stats/stats.h"

namespace {

using moq_stats::internal::CurrentExceptionCode;
using moq_stats::internal::MakeHandle;
using moq_stats::internal::SetErr;
using moq_stats::internal::ValidString;
using moq_stats::internal::ValidTierLabel;
using moq_stats::internal::View;

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

bool ValidTier(int tier) { return tier == MOQ_STATS_TIER_EXTERNAL || tier == MOQ_STATS_TIER_INTERNAL; }

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

}  // extern "C"
