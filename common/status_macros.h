#ifndef MOQ_STATS_COMMON_STATUS_MACROS_H_
#define MOQ_STATS_COMMON_STATUS_MACROS_H_

// RETURN_IF_ERROR and ASSIGN_OR_RETURN, which Debian 12's Abseil lacks.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MOQSTATS_CONCAT_INNER(a, b) a##b
#define MOQSTATS_CONCAT(a, b) MOQSTATS_CONCAT_INNER(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status moqstats_status_ = (expr);            \
    if (!moqstats_status_.ok()) return moqstats_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value, or returns its
// status when it is not OK.
#define ASSIGN_OR_RETURN(lhs, expr) \
  MOQSTATS_ASSIGN_OR_RETURN_IMPL(MOQSTATS_CONCAT(moqstats_statusor_, __LINE__), lhs, expr)

#define MOQSTATS_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // MOQ_STATS_COMMON_STATUS_MACROS_H_
