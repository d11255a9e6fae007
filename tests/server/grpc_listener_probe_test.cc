// The gRPC listener probe against a real gRPC server on a unix socket, a
// socket that listens but never accepts, and a path where nothing listens;
// and what a probe costs while its peer does not answer.

#include "server/grpc_listener_probe.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats::server {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A unix socket that listens and never accepts: connects complete in the
// kernel's backlog, and nothing ever answers.
class DeafListener {
 public:
  explicit DeafListener(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && listen(fd_, 64) == 0;
  }
  ~DeafListener() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

absl::Duration ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

class GrpcListenerProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "grpc_listener_probe_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    dir_ = templ;
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/good.sock", grpc::InsecureServerCredentials());
    // A server needs a service of its own beside the health service.
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    deaf_ = std::make_unique<DeafListener>(dir_ + "/deaf.sock");
    ASSERT_TRUE(deaf_->ok()) << std::strerror(errno);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::string good() const { return "unix:" + dir_ + "/good.sock"; }
  std::string deaf() const { return "unix:" + dir_ + "/deaf.sock"; }
  std::string absent() const { return "unix:" + dir_ + "/absent.sock"; }

  std::string dir_;
  moq::stats::v1::StatsService::Service service_;  // every method unimplemented
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<DeafListener> deaf_;
};

TEST_F(GrpcListenerProbeTest, ProbeOnceTellsAServingListenerFromADeafOrAbsentOne) {
  EXPECT_TRUE(GrpcListenerProbe::ProbeOnce(good(), absl::Seconds(5)).ok());
  const absl::Time start = absl::Now();
  absl::Status silent = GrpcListenerProbe::ProbeOnce(deaf(), absl::Milliseconds(300));
  EXPECT_EQ(silent.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(silent.message()), HasSubstr(deaf()));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "the timeout bounds a probe";
  EXPECT_FALSE(GrpcListenerProbe::ProbeOnce(absent(), absl::Milliseconds(300)).ok());
}

TEST_F(GrpcListenerProbeTest, FailureNamesOnlyTheListenersThatStoppedAnswering) {
  GrpcListenerProbe::Options options;
  options.targets = {good(), deaf()};
  options.interval = absl::Milliseconds(20);
  options.timeout = absl::Milliseconds(200);
  options.failures_to_fail = 2;
  GrpcListenerProbe probe(options);
  EXPECT_THAT(probe.Failure(), IsEmpty()) << "nothing failed before the first probe";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (probe.probes() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_GE(probe.probes(), 3u);
  const std::string failure = probe.Failure();
  EXPECT_THAT(failure, HasSubstr(deaf()));
  EXPECT_THAT(failure, ::testing::Not(HasSubstr(good())));
}

// What the probe costs while its peer is absent or does not answer: CPU
// per probe and memory over many probes (the daemon probes every 5 s).
TEST_F(GrpcListenerProbeTest, ProbingASilentOrAbsentPeerCostsLittle) {
  GrpcListenerProbe::Options options;
  options.targets = {deaf(), absent()};
  options.interval = absl::Milliseconds(1);
  options.timeout = absl::Milliseconds(50);
  const absl::Duration cpu_before = ProcessCpu();
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  uint64_t probes = 0;
  {
    GrpcListenerProbe probe(options);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (probe.probes() < 40 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
    probes = probe.probes();
  }
  ASSERT_GE(probes, 40u);
  const absl::Duration cpu_per_probe = (ProcessCpu() - cpu_before) / double(probes);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  std::cout << "probe of 2 silent/absent listeners: " << absl::FormatDuration(cpu_per_probe) << " CPU per probe, "
            << probes << " probes, max RSS +" << (after.ru_maxrss - before.ru_maxrss) << " KiB\n";
  EXPECT_LT(cpu_per_probe, absl::Milliseconds(20));
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 20 * 1024) << "KiB";
}

}  // namespace
}  // namespace moq_stats::server
