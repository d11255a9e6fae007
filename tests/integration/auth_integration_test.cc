// End to end: who the real daemon lets in on its listeners. The unix socket
// is trusted by its file mode and group; TCP needs a bearer token or a
// client certificate (generated with the openssl CLI at test time); a TCP
// listener beyond loopback without either is refused at start.

#include <grp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/src/channel_security.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_tools/daemon_process.h"
#include "tests/integration/test_tools/relay_stream.h"
#include "tests/integration/test_tools/stats_reader.h"

namespace moq_stats {
namespace integration {
namespace {

namespace pb = ::moq::stats::v1;
using ::testing::HasSubstr;

constexpr char kOldToken[] = "old-token-0123456789abcdef";
constexpr char kNewToken[] = "new-token-0123456789abcdef";
constexpr char kWrongToken[] = "wrong-token-0123456789abcdef";

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// A TCP channel with `security` (a token, TLS files), its own subchannels.
std::shared_ptr<grpc::Channel> TcpChannel(int port, const internal::ChannelSecurityFiles& files) {
  absl::StatusOr<internal::ChannelSecurity> security = internal::LoadChannelSecurity(files);
  EXPECT_TRUE(security.ok()) << security.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  return internal::NewSecuredChannel(absl::StrCat("127.0.0.1:", port),
                                     security.ok() ? *security : internal::ChannelSecurity{}, args);
}

// Opens a Session (the write RPC) on `channel`: its status.
grpc::Status OpenSession(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  RelayStream relay(channel, absl::Seconds(5));  // a backstop for streams the TLS handshake strands
  pb::Welcome welcome;
  grpc::Status status = relay.Open(id, &welcome);
  if (status.ok()) {
    EXPECT_TRUE(relay.Close().ok());
  }
  return status;
}

grpc::Status Info(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = pb::StatsService::NewStub(channel);
  pb::GetInfoResponse info;
  return GetInfo(*stub, &info);
}

grpc::Status List(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = pb::StatsService::NewStub(channel);
  std::vector<pb::Level> levels;
  return ListAllLevels(*stub, "", 100, &levels);
}

// The daemon on its unix socket and on loopback TCP `port`, with two
// tokens (one being rotated out) and `extra` flags.
std::vector<std::string> TokenDaemonArgs(const TempDir& tmp, int port, std::vector<std::string> extra = {}) {
  std::string tokens =
      WriteFile(tmp.path(), "tokens", absl::StrCat("# rotation in progress\n", kOldToken, "\n\n", kNewToken, "\n"));
  std::vector<std::string> args = {"--listen", absl::StrCat("127.0.0.1:", port), "--auth-token-file", tokens};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

internal::ChannelSecurityFiles TokenFile(const TempDir& tmp, const std::string& token) {
  return {WriteFile(tmp.path(), "client-" + token, token + "\n"), "", "", ""};
}

TEST(AuthIntegrationTest, TcpWritesNeedATokenAndTheUnixSocketNeedsNone) {
  TempDir tmp;
  const int port = PickFreeLoopbackPort();
  DaemonProcess daemon(TokenDaemonArgs(tmp, port));
  ASSERT_TRUE(daemon.Start());

  grpc::Status anonymous = OpenSession(TcpChannel(port, {}), "anonymous");
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(anonymous);
  grpc::Status wrong = OpenSession(TcpChannel(port, TokenFile(tmp, kWrongToken)), "wrong");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(wrong);
  // Both tokens of the rotation are accepted.
  grpc::Status old_token = OpenSession(TcpChannel(port, TokenFile(tmp, kOldToken)), "old");
  EXPECT_TRUE(old_token.ok()) << Describe(old_token);
  grpc::Status new_token = OpenSession(TcpChannel(port, TokenFile(tmp, kNewToken)), "new");
  EXPECT_TRUE(new_token.ok()) << Describe(new_token);
  // The unix socket is trusted by its file mode.
  grpc::Status unix_socket = OpenSession(daemon.channel(), "unix");
  EXPECT_TRUE(unix_socket.ok()) << Describe(unix_socket);

  // Reads need the token too unless the flag says otherwise.
  EXPECT_EQ(List(TcpChannel(port, {})).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info(TcpChannel(port, {})).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Info(TcpChannel(port, TokenFile(tmp, kNewToken))).ok());
  EXPECT_TRUE(Info(daemon.channel()).ok());

  // No token reaches the log.
  EXPECT_EQ(daemon.Terminate(), 0);
  for (const char* token : {kOldToken, kNewToken, kWrongToken}) {
    EXPECT_THAT(daemon.Log(), ::testing::Not(HasSubstr(token)));
  }
}

TEST(AuthIntegrationTest, ReadsNeedNoTokenOnlyWithAllowUnauthenticatedReads) {
  TempDir tmp;
  const int port = PickFreeLoopbackPort();
  DaemonProcess daemon(TokenDaemonArgs(tmp, port, {"--allow-unauthenticated-reads"}));
  ASSERT_TRUE(daemon.Start());
  auto anonymous = TcpChannel(port, {});
  grpc::Status list = List(anonymous);
  EXPECT_TRUE(list.ok()) << Describe(list);
  grpc::Status info = Info(anonymous);
  EXPECT_TRUE(info.ok()) << Describe(info);
  pb::Level level;
  auto stub = pb::StatsService::NewStub(anonymous);
  EXPECT_EQ(GetLevel(*stub, "", &level).error_code(), grpc::StatusCode::NOT_FOUND);  // got in, found nothing
  grpc::Status write = OpenSession(anonymous, "anonymous");
  EXPECT_EQ(write.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(write);
}

// Runs `command` through the shell; false (with the output) when it fails.
::testing::AssertionResult Run(const std::string& command) {
  std::string full = command + " 2>&1";
  std::FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return ::testing::AssertionFailure() << "popen failed";
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  int rc = pclose(pipe);
  if (rc != 0) return ::testing::AssertionFailure() << command << " failed (" << rc << "):\n" << out;
  return ::testing::AssertionSuccess();
}

// A CA, a server certificate for 127.0.0.1 and localhost, a client
// certificate from that CA and one from another CA, made with openssl.
::testing::AssertionResult MakeCertificates(const std::string& dir) {
  const std::string d = "cd '" + dir + "' && ";
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  for (const char* ca : {"ca", "rogue-ca"}) {
    auto made = Run(
        absl::StrCat(d, "openssl req -x509 ", key, " -keyout ", ca, ".key -out ", ca, ".pem -days 2 -subj /CN=", ca));
    if (!made) return made;
  }
  WriteFile(dir, "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  WriteFile(dir, "client.ext", "extendedKeyUsage=clientAuth\n");
  struct Leaf {
    const char* name;
    const char* ca;
    const char* ext;
  };
  for (const Leaf& leaf : {Leaf{"server", "ca", "server.ext"}, Leaf{"client", "ca", "client.ext"},
                           Leaf{"rogue", "rogue-ca", "client.ext"}}) {
    auto made = Run(absl::StrCat(d, "openssl req ", key, " -keyout ", leaf.name, ".key -out ", leaf.name,
                                 ".csr -subj /CN=", leaf.name, " && openssl x509 -req -in ", leaf.name, ".csr -CA ",
                                 leaf.ca, ".pem -CAkey ", leaf.ca, ".key -CAcreateserial -days 2 -extfile ", leaf.ext,
                                 " -out ", leaf.name, ".pem"));
    if (!made) return made;
  }
  return ::testing::AssertionSuccess();
}

TEST(AuthIntegrationTest, MutualTlsAcceptsAVerifiedClientCertificateOnly) {
  TempDir tmp;
  ASSERT_TRUE(MakeCertificates(tmp.path()));
  const std::string dir = tmp.path() + "/";
  const int port = PickFreeLoopbackPort();
  DaemonProcess daemon({"--listen", absl::StrCat("127.0.0.1:", port), "--tls-cert", dir + "server.pem", "--tls-key",
                        dir + "server.key", "--tls-client-ca", dir + "ca.pem"});
  ASSERT_TRUE(daemon.Start());

  grpc::Status verified =
      OpenSession(TcpChannel(port, {"", dir + "ca.pem", dir + "client.pem", dir + "client.key"}), "verified");
  EXPECT_TRUE(verified.ok()) << Describe(verified);
  grpc::Status reads = Info(TcpChannel(port, {"", dir + "ca.pem", dir + "client.pem", dir + "client.key"}));
  EXPECT_TRUE(reads.ok()) << Describe(reads);
  // Without a client certificate, or with one from another CA, the
  // handshake fails: nothing gets in.
  grpc::Status no_cert = OpenSession(TcpChannel(port, {"", dir + "ca.pem", "", ""}), "no-cert");
  EXPECT_FALSE(no_cert.ok());
  EXPECT_FALSE(Info(TcpChannel(port, {"", dir + "ca.pem", "", ""})).ok());
  grpc::Status rogue =
      OpenSession(TcpChannel(port, {"", dir + "ca.pem", dir + "rogue.pem", dir + "rogue.key"}), "rogue");
  EXPECT_FALSE(rogue.ok());
  // Plaintext gets nowhere either.
  EXPECT_FALSE(Info(TcpChannel(port, {})).ok());
  // The unix socket stays plaintext and trusted.
  grpc::Status unix_socket = OpenSession(daemon.channel(), "unix");
  EXPECT_TRUE(unix_socket.ok()) << Describe(unix_socket);
}

TEST(AuthIntegrationTest, AListenerBeyondLoopbackWithoutAuthenticationIsRefusedAtStart) {
  TempDir tmp;
  const int port = PickFreeLoopbackPort();
  CommandResult refused = RunSidecarCommand(
      {"--listen", absl::StrCat("0.0.0.0:", port), "--admin-listen=", "--moq-listen=off"}, tmp.path());
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat("\"0.0.0.0:", port, "\" is reachable beyond this machine")));
  EXPECT_THAT(refused.err, HasSubstr("--insecure-listen"));

  DaemonProcess insecure({"--listen", absl::StrCat("0.0.0.0:", port), "--insecure-listen"});
  ASSERT_TRUE(insecure.Start());
  grpc::Status open = OpenSession(TcpChannel(port, {}), "anyone");
  EXPECT_TRUE(open.ok()) << Describe(open);
  EXPECT_THAT(insecure.Log(), HasSubstr("accepts writes from anyone who can connect"));
  // Reflection and channelz are not registered for such a listener.
  EXPECT_THAT(insecure.Log(), HasSubstr("gRPC reflection and channelz are off"));
}

TEST(AuthIntegrationTest, CheckConfigShowsWhatEachListenerAcceptsAndNoToken) {
  TempDir tmp;
  std::vector<std::string> args = TokenDaemonArgs(tmp, 50051, {"--check-config", "--allow-unauthenticated-reads"});
  args.insert(args.begin(), {"--listen", "unix:s.sock", "--listen", "0.0.0.0:50052"});
  CommandResult result = RunSidecarCommand(args, tmp.path());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("listener unix:s.sock accepts: trusted (whoever the socket's mode 0660 lets connect)"));
  EXPECT_THAT(result.out, HasSubstr("listener 127.0.0.1:50051 accepts: bearer token; reads open to anyone\n"));
  EXPECT_THAT(result.out, HasSubstr("listener 0.0.0.0:50052 accepts: bearer token; reads open to anyone; reachable "
                                    "beyond this machine\n"));
  EXPECT_THAT(result.out, HasSubstr("auth-token-file=" + tmp.path() + "/tokens\n"));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr(kOldToken)));

  // A token file without a token is a configuration error; one that does
  // not exist on this machine (a Secret mounted at run time) only a warning.
  const std::string empty = WriteFile(tmp.path(), "empty-tokens", "# none yet\n");
  CommandResult malformed = RunSidecarCommand({"--check-config", "--auth-token-file", empty}, tmp.path());
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_THAT(malformed.err, HasSubstr("--auth-token-file: " + empty + ": holds no token"));
  CommandResult missing = RunSidecarCommand({"--check-config", "--auth-token-file", tmp.path() + "/none"}, tmp.path());
  EXPECT_EQ(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("warning: --auth-token-file " + tmp.path() + "/none does not exist here"));
  // The daemon itself refuses to start without it.
  DaemonProcess without({"--auth-token-file", tmp.path() + "/none"});
  EXPECT_FALSE(without.Start());
  EXPECT_THAT(without.Log(), HasSubstr("--auth-token-file: cannot read " + tmp.path() + "/none"));
}

TEST(AuthIntegrationTest, UnixSocketModeAndGroupAreSetAfterBind) {
  const gid_t group = 65534;  // nogroup; the daemon runs as root in the tests or is in its own groups
  if (geteuid() != 0) GTEST_SKIP() << "changing a socket's group to another one needs root";
  DaemonProcess daemon({"--listen-mode=0600", "--listen-group=65534"});
  ASSERT_TRUE(daemon.Start());
  struct stat st {};
  ASSERT_EQ(stat(daemon.socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_gid, group);

  DaemonProcess unknown({"--listen-group=no-such-group-here"});
  ::testing::AssertionResult started = unknown.Start();
  EXPECT_FALSE(started);
  EXPECT_THAT(unknown.Log(), HasSubstr("--listen-group: no group \"no-such-group-here\""));
}

}  // namespace
}  // namespace integration
}  // namespace moq_stats
