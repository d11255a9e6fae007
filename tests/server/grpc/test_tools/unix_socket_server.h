#ifndef MOQ_STATS_TESTS_SERVER_GRPC_TEST_TOOLS_UNIX_SOCKET_SERVER_H_
#define MOQ_STATS_TESTS_SERVER_GRPC_TEST_TOOLS_UNIX_SOCKET_SERVER_H_

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace test {

// A gRPC server for one service on a unix socket in a fresh temporary
// directory, and a channel to it: real HTTP/2 with its flow control, so a
// client that does not read holds the server's writes back as a remote one
// would. Shuts down (cancelling what is still open) and removes the
// directory when destroyed. The service must outlive it.
class UnixSocketServer {
 public:
  explicit UnixSocketServer(grpc::Service* service) {
    char dir[] = "/tmp/moq-grpc-test-XXXXXX";
    if (mkdtemp(dir) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = dir;
    target_ = "unix:" + dir_ + "/s.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort(target_, grpc::InsecureServerCredentials());
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
    if (!server_) ADD_FAILURE() << "cannot listen on " << target_;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
  }
  ~UnixSocketServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  UnixSocketServer(const UnixSocketServer&) = delete;
  UnixSocketServer& operator=(const UnixSocketServer&) = delete;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::string dir_;
  std::string target_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace test
}  // namespace moq_stats::server

#endif  // MOQ_STATS_TESTS_SERVER_GRPC_TEST_TOOLS_UNIX_SOCKET_SERVER_H_
