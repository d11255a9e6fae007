#include "server/grpc_listener_probe.h"

#include <utility>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/logging.h"

namespace moq_stats::server {
namespace {

// grpc.health.v1.Health/Check; an empty request (service "") asks about the
// server as a whole.
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

}  // namespace

GrpcListenerProbe::GrpcListenerProbe(Options options) : options_(std::move(options)) {
  for (const std::string& address : options_.targets) targets_.push_back(Target{address, 0, absl::OkStatus()});
  thread_ = std::thread([this] { Loop(); });
}

GrpcListenerProbe::~GrpcListenerProbe() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

absl::Status GrpcListenerProbe::ProbeOnce(const std::string& target, absl::Duration timeout) {
  grpc::ChannelArguments args;
  // A connection of its own: one shared with other channels could be an old
  // one, accepted before the listener stopped accepting.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // Wait for the connection within the deadline, rather than fail at the
  // first transient failure of a connect that is merely slow.
  context.set_wait_for_ready(true);
  grpc::ByteBuffer request;  // an empty HealthCheckRequest
  {
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
  }
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, kHealthCheck, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  if (status.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("gRPC listener ", target, " does not answer a new connection within ",
                                             absl::FormatDuration(timeout), ": ", status.error_message()));
}

void GrpcListenerProbe::Loop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    const absl::Time next = absl::Now() + options_.interval;
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithDeadline(absl::Condition(&stopping), next)) return;
    for (size_t i = 0; i < targets_.size(); ++i) {
      const std::string address = targets_[i].address;
      absl::Status result;
      {
        mu_.Unlock();
        result = ProbeOnce(address, options_.timeout);
        mu_.Lock();
      }
      Target& target = targets_[i];
      const bool was_failing = target.failures_in_a_row >= options_.failures_to_fail;
      target.failures_in_a_row = result.ok() ? 0 : target.failures_in_a_row + 1;
      target.last = result;
      const bool failing = target.failures_in_a_row >= options_.failures_to_fail;
      if (failing && !was_failing) MOQSTATS_LOG(ERROR) << result.message() << "; health reports failure";
      if (!failing && was_failing) MOQSTATS_LOG(WARNING) << "gRPC listener " << address << " accepts again";
      if (stopping_) return;
    }
    ++probes_;
  }
}

std::string GrpcListenerProbe::Failure() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const Target& target : targets_) {
    if (target.failures_in_a_row < options_.failures_to_fail) continue;
    absl::StrAppend(&out, out.empty() ? "" : "; ", target.last.message());
  }
  return out;
}

uint64_t GrpcListenerProbe::probes() const {
  absl::MutexLock lock(&mu_);
  return probes_;
}

}  // namespace moq_stats::server
