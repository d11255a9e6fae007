// `moq-stats watch`: the announces and frames the sidecar publishes under a
// prefix, one line each, until the stream ends or a signal stops it.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/internal/command_runners.h"
#include "client/cli/json_out.h"
#include "client/cli/sidecar_channel.h"
#include "client/cli/stop_signals.h"
#include "client/cli/terminal_text.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace cli {
namespace internal {
namespace {

namespace pb = ::moq::stats::v1;

// How often watch's signal thread looks whether the stream ended.
constexpr absl::Duration kSignalPoll = absl::Milliseconds(100);

// Waits until `channel` is connected, at most until `deadline`. OK when it
// is (`*connected` true), or when connecting failed (`*connected` false: a
// call then fails at once with the reason); DEADLINE_EXCEEDED when neither
// happened in time.
grpc::Status AwaitConnection(const std::shared_ptr<grpc::Channel>& channel, absl::Time deadline, absl::Duration timeout,
                             bool* connected) {
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) {
    if (!channel->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrCat("not connected within ", absl::FormatDuration(timeout)));
    }
    state = channel->GetState(/*try_to_connect=*/true);
  }
  *connected = state == GRPC_CHANNEL_READY;
  return grpc::Status::OK;
}

std::string WatchEventLine(const pb::WatchEvent& event, bool json) {
  if (event.has_announce()) {
    const pb::Announce& a = event.announce();
    if (json) return JsonObject().AddString(a.active() ? "announce" : "end", a.path()).str();
    return absl::StrCat(a.active() ? "# announce " : "# end ", TerminalSafe(a.path()));
  }
  if (event.has_frame()) {
    const pb::Frame& f = event.frame();
    if (!json) return TerminalSafe(f.payload());
    JsonObject o;
    o.AddString("path", f.path()).AddString("track", f.track()).Add("sequence", f.sequence());
    if (IsValidJson(f.payload())) {
      o.AddRaw("frame", f.payload());
    } else {
      o.AddString("frame_text", f.payload());
    }
    return o.str();
  }
  // An event of a newer contract: shown so that nothing passes unseen.
  if (json) return JsonObject().AddString("unknown_event", event.ShortDebugString()).str();
  return absl::StrCat("# unknown event ", TerminalSafe(event.ShortDebugString()));
}

}  // namespace

CommandOutcome RunWatch(const Invocation& inv, std::ostream& out) {
  const GlobalOptions& global = inv.global;
  StopSignals stop;  // before the channel starts gRPC's threads
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made = NewSidecarChannel(global);
  if (!made.ok()) return Fail(2, std::string(made.status().message()));
  std::shared_ptr<grpc::Channel> channel = *std::move(made);
  bool connected = false;
  if (grpc::Status s = AwaitConnection(channel, absl::Now() + global.timeout, global.timeout, &connected); !s.ok()) {
    return CallFailed("Watch", global.target, s);
  }
  auto stub = pb::StatsService::NewStub(channel);
  pb::WatchRequest request;
  request.set_prefix(inv.argument);
  grpc::ClientContext context;  // no deadline: runs until stopped
  std::unique_ptr<grpc::ClientReader<pb::WatchEvent>> reader = stub->Watch(&context, request);

  std::atomic<bool> ended{false};        // the stream ended; the stopper may go
  std::atomic<bool> interrupted{false};  // a signal cancelled the stream
  std::thread stopper([&] {
    while (!ended.load()) {
      if (stop.Wait(kSignalPoll)) {
        interrupted.store(true);
        context.TryCancel();
        return;
      }
    }
  });
  size_t events = 0;
  pb::WatchEvent event;
  while (reader->Read(&event)) {
    ++events;
    out << WatchEventLine(event, global.json) << std::endl;  // flushed: a reader sees each line at once
  }
  ended.store(true);
  stopper.join();
  grpc::Status status = reader->Finish();
  if (interrupted.load() || status.ok()) return Done();
  if (IsUnreachable(status) && (connected || events > 0)) {
    // The sidecar was reached: the stream ended (a shutdown, a broken
    // connection) rather than never started.
    return Fail(1, absl::StrCat("the watch stream from the sidecar at ", global.target,
                                " ended: ", StatusCodeName(status.error_code()), ": ", status.error_message()));
  }
  return CallFailed("Watch", global.target, status);
}

}  // namespace internal
}  // namespace cli
}  // namespace moq_stats
