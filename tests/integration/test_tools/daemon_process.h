#ifndef MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_DAEMON_PROCESS_H_
#define MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "moq/stats/v1/stats.grpc.pb.h"

namespace moq_stats {
namespace integration {

// The daemon binary under test (set by tests/integration/CMakeLists.txt).
const char* SidecarBinary();

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when this goes. Not copyable: it owns the directory.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A loopback TCP port free right now: bound to port 0 and closed again.
int PickFreeLoopbackPort();

// How a command run to completion ended.
struct CommandResult {
  // The exit status, or 128 + the signal that ended it; -1 when it did not
  // end within the timeout (it is then killed).
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the daemon binary with `args` (argv[0] added) in `dir` to completion,
// with no MOQ_STATS_* variables in its environment. For the flag checks that
// exit at once (--help, --check-config, a bad value).
CommandResult RunSidecarCommand(const std::vector<std::string>& args, const std::string& dir,
                                absl::Duration timeout = absl::Seconds(10));

// The real moq-stats-sidecar daemon, run as a child process in a fresh
// temporary working directory:
//   --listen unix:<dir>/s.sock --admin-listen 127.0.0.1:<free port>
//   --grace=300ms --stats-interval=100ms --checkpoint-interval=100ms
//   --shutdown-timeout=1s --moq-listen=off --log-level=debug
// followed by the test's own flags (a later flag wins: pass
// --moq-listen=127.0.0.1:0 to serve MoQ clients). Its stdout and stderr
// go to <dir>/daemon.log, which is printed when the test has failed.
//
// The child gets SIGKILL if the test process dies, and the destructor kills a
// daemon still running, so none is ever left behind. Use from the test's
// thread only.
class DaemonProcess {
 public:
  explicit DaemonProcess(std::vector<std::string> extra_args = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon and waits until grpc.health.v1.Health/Check answers
  // SERVING on the socket (each try with a short deadline, 10 s in all).
  // Fails early, with the exit status, when the daemon exits instead.
  ::testing::AssertionResult Start();

  // Starts it again with the same directory and flags; the previous process
  // must have ended (Terminate or Kill).
  ::testing::AssertionResult Restart() { return Start(); }

  // SIGTERM, then waits for the exit: the exit status (128 + signal when
  // killed by one), or -1 when it did not exit within `timeout`, in which
  // case it is killed.
  int Terminate(absl::Duration timeout = absl::Seconds(10));

  // Sends `signal` without waiting.
  void Signal(int signal);

  // Waits until the daemon exits: its exit status (128 + signal), or nullopt
  // on timeout (it keeps running).
  std::optional<int> Wait(absl::Duration timeout);

  // SIGKILL, and reaps it.
  void Kill();

  // Listens on loopback TCP `port` instead of the unix socket (the socket
  // file is then never made); target() and channel() follow. Call before
  // Start.
  void ListenOnTcp(int port);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // The working directory, the socket file and the gRPC target (the socket's,
  // unless ListenOnTcp).
  const std::string& dir() const { return dir_.path(); }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& target() const { return target_; }
  int admin_port() const { return admin_port_; }
  const std::vector<std::string>& args() const { return args_; }

  // A channel to the daemon made at the last Start (a fresh one each time,
  // with its own subchannel pool and short reconnect backoff).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  std::unique_ptr<moq::stats::v1::StatsService::Stub> NewStub() const {
    return moq::stats::v1::StatsService::NewStub(channel_);
  }

  // What the daemon wrote so far, over every start.
  std::string Log() const;

 private:
  ::testing::AssertionResult WaitServing(absl::Duration timeout);
  // Reaps the child if it exited: its exit status, else nullopt.
  std::optional<int> Reap(bool block);

  TempDir dir_;
  std::string socket_path_;
  std::string target_;  // the gRPC target of the --listen address
  std::string log_path_;
  int admin_port_ = 0;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  int starts_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

// A channel to `target` that does not share subchannels with other channels
// and reconnects quickly, so that a restarted daemon is reached at once.
std::shared_ptr<grpc::Channel> NewTestChannel(const std::string& target);

// "CODE: message", for failure messages.
std::string Describe(const grpc::Status& status);

}  // namespace integration
}  // namespace moq_stats

#endif  // MOQ_STATS_TESTS_INTEGRATION_TEST_TOOLS_DAEMON_PROCESS_H_
