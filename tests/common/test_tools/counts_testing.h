#ifndef MOQ_STATS_TESTS_COMMON_TEST_TOOLS_COUNTS_TESTING_H_
#define MOQ_STATS_TESTS_COMMON_TEST_TOOLS_COUNTS_TESTING_H_

// Arithmetic and printing of Counts for tests: sums and differences counter
// by counter, and a readable form in gtest failures.

#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "moq_stats/counts.h"

namespace moq_stats {

inline Counts operator+(Counts a, const Counts& b) {
  for (const CountField& f : kCountFields) a.*f.field += b.*f.field;
  return a;
}
inline Counts& operator+=(Counts& a, const Counts& b) { return a = a + b; }
inline Counts operator-(Counts a, const Counts& b) {
  for (const CountField& f : kCountFields) a.*f.field -= b.*f.field;
  return a;
}

// "{broadcasts 2/1 closed, subscriptions 3/3 closed, bytes 100, frames 2, groups 1}"
inline std::string Show(const Counts& c) {
  return absl::StrCat("{broadcasts ", c.broadcasts, "/", c.broadcasts_closed, " closed, subscriptions ",
                      c.subscriptions, "/", c.subscriptions_closed, " closed, bytes ", c.bytes, ", frames ", c.frames,
                      ", groups ", c.groups, "}");
}

// Found by argument-dependent lookup: gtest prints Counts this way.
inline void PrintTo(const Counts& c, std::ostream* os) { *os << Show(c); }

}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_COMMON_TEST_TOOLS_COUNTS_TESTING_H_
