#include "client/cli/sidecar_channel.h"

#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/src/channel_security.h"

namespace moq_stats {
namespace cli {
namespace {

using ::google::protobuf::internal::WireFormatLite;

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

// HealthCheckRequest { string service = 1; } on the wire.
std::string EncodeHealthCheckRequest(const std::string& service) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    if (!service.empty()) {  // proto3 leaves a default value out
      out.WriteTag(WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      out.WriteVarint32(static_cast<uint32_t>(service.size()));
      out.WriteString(service);
    }
  }  // the CodedOutputStream flushes into `bytes` here
  return bytes;
}

// HealthCheckResponse { ServingStatus status = 1; } from the wire; false when
// the bytes are not one.
bool DecodeHealthCheckResponse(const std::string& bytes, int* status) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  *status = 0;  // proto3: absent is the default, UNKNOWN
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT)) {
      uint64_t value = 0;
      if (!in.ReadVarint64(&value)) return false;
      *status = static_cast<int>(static_cast<int32_t>(value));  // an enum is an int32
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> NewSidecarChannel(const GlobalOptions& global) {
  absl::StatusOr<internal::ChannelSecurity> security =
      internal::LoadChannelSecurity({global.auth_token_file, global.tls_ca, global.tls_cert, global.tls_key});
  if (!security.ok()) return security.status();
  grpc::ChannelArguments args;
  // A channel of its own: nothing of another process's state applies.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A node-format frame carries every live path (~23 MB at 100,000 paths),
  // far past gRPC's default 4 MiB: take what a Watch stream may hold.
  args.SetMaxReceiveMessageSize(64 << 20);
  return internal::NewSecuredChannel(global.target, *security, args);
}

std::string StatusCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int n = static_cast<int>(code);
  if (n >= 0 && n < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[n];
  return absl::StrCat("code ", n);
}

bool IsUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::string DescribeCallError(absl::string_view what, const std::string& target, const grpc::Status& status) {
  const std::string code = StatusCodeName(status.error_code());
  if (IsUnreachable(status)) {
    return absl::StrCat("cannot reach the sidecar at ", target, ": ", code, ": ", status.error_message());
  }
  return absl::StrCat(what, " failed: the sidecar at ", target, " answered ", code, ": ", status.error_message());
}

std::string ServingStatusName(int status) {
  switch (status) {
    case static_cast<int>(ServingStatus::kUnknown):
      return "UNKNOWN";
    case static_cast<int>(ServingStatus::kServing):
      return "SERVING";
    case static_cast<int>(ServingStatus::kNotServing):
      return "NOT_SERVING";
    case static_cast<int>(ServingStatus::kServiceUnknown):
      return "SERVICE_UNKNOWN";
    default:
      return absl::StrCat("status ", status);
  }
}

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service, absl::Time deadline,
                         int* status) {
  grpc::Slice request_slice(EncodeHealthCheckRequest(service));
  grpc::ByteBuffer request(&request_slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));

  grpc::GenericStub stub(channel);
  grpc::Status result;
  absl::Notification done;
  stub.UnaryCall(&context, kHealthCheckMethod, grpc::StubOptions(), &request, &response,
                 [&result, &done](grpc::Status s) {
                   result = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!result.ok()) return result;

  std::vector<grpc::Slice> slices;
  if (grpc::Status s = response.Dump(&slices); !s.ok()) return s;
  std::string bytes;
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  if (!DecodeHealthCheckResponse(bytes, status)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the health check answer is not a HealthCheckResponse");
  }
  return grpc::Status::OK;
}

}  // namespace cli
}  // namespace moq_stats
