#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_GRPC_STATUS_TESTING_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_GRPC_STATUS_TESTING_H_

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "tests/integration/test_tools/daemon_process.h"

// Assertions on a grpc::Status that print its code and message on failure.
#define MOQSTATS_GRPC_OK_IMPL_(expr, fail)                                                         \
  do {                                                                                             \
    const ::grpc::Status moqstats_grpc_status_ = (expr);                                           \
    fail(moqstats_grpc_status_.ok()) << #expr << " gave "                                          \
                                     << ::moq_stats::integration::Describe(moqstats_grpc_status_); \
  } while (0)
#define ASSERT_GRPC_OK(expr) MOQSTATS_GRPC_OK_IMPL_(expr, ASSERT_TRUE)
#define EXPECT_GRPC_OK(expr) MOQSTATS_GRPC_OK_IMPL_(expr, EXPECT_TRUE)

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_GRPC_STATUS_TESTING_H_
