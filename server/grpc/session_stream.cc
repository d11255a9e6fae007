#include "server/grpc/session_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "server/grpc/grpc_status.h"
#include "server/grpc/stream_set.h"

namespace moq_stats::server {
namespace pb = ::moq::stats::v1;

SessionStream::SessionStream(std::shared_ptr<SessionRegistry> registry, StreamSet* streams,
                             const SessionStreamOptions& options, std::atomic<uint64_t>* open_timeouts)
    : registry_(std::move(registry)), streams_(streams), open_timeouts_(open_timeouts), link_(this) {
  streams_->Add(this, link_.Bind([](SessionStream& stream, const grpc::Status& status) { stream.End(status); }));
  if (options.scheduler != nullptr) {
    // Does nothing once the stream is gone (the link is cleared in OnDone).
    options.scheduler->ScheduleAt(
        options.clock->Now() + options.open_timeout,
        link_.Bind([timeout = options.open_timeout](SessionStream& stream) { stream.OpenDeadline(timeout); }));
  }
  StartRead(&request_);
}

void SessionStream::OpenDeadline(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  if (attachment_.valid() || finished_ || finish_wanted_) return;
  open_timeouts_->fetch_add(1, std::memory_order_relaxed);
  FinishLocked(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                            absl::StrCat("no open within ", absl::FormatDuration(timeout),
                                         " of the stream's start; the first request must be open")));
}

void SessionStream::End(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  // A stream ended by the sidecar (shutdown, take-over) keeps its session for
  // a resume: detach it, so the grace period runs.
  DetachLocked();
  FinishLocked(status);
}

void SessionStream::OnReadDone(bool ok) {
  if (!ok) {
    // The relay half-closed or went away without Close.
    absl::MutexLock lock(&mu_);
    DetachLocked();
    FinishLocked(grpc::Status::OK);
    return;
  }
  Process();
}

void SessionStream::Process() {
  if (request_.request_case() == pb::SessionRequest::kOpen) {
    // Attach may call another stream's take-over callback, which locks that
    // stream: no lock of ours is held across it.
    bool twice;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || finish_wanted_) return;
      twice = attachment_.valid();
      if (twice) {
        // A protocol error ends the stream; the session waits for a resume.
        DetachLocked();
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "open sent twice on one stream"));
      }
    }
    if (twice) return;
    absl::StatusOr<SessionRegistry::Attached> attached = registry_->Attach(
        request_.open().session_id(), request_.open().relay(),
        link_.Bind([](SessionStream& stream, const absl::Status& why) {
          absl::MutexLock stream_lock(&stream.mu_);
          stream.attached_ = false;  // the registry already moved the session on (taken over or evicted)
          stream.FinishLocked(ToGrpcStatus(why));
        }));
    absl::MutexLock lock(&mu_);
    if (!attached.ok()) {
      FinishLocked(ToGrpcStatus(attached.status()));
      return;
    }
    attachment_ = attached->attachment;
    attached_ = true;
    if (finished_ || finish_wanted_) {
      // Ended (shutdown) while attaching: give the session its grace period.
      DetachLocked();
      return;
    }
    welcome_.set_resumed(attached->resumed);
    welcome_.set_applied_sequence(attached->applied_sequence);
    welcome_.mutable_limits()->set_max_handles(registry_->limits().max_handles);
    welcome_.mutable_limits()->set_max_batch_entries(registry_->limits().max_batch_entries);
    welcome_.set_resync_parts(true);
    welcome_.set_session_presence(true);
    welcome_.set_expired_applied_sequence(attached->expired_applied_sequence);
    welcome_pending_ = true;
    WriteLocked();
    StartRead(&request_);
    return;
  }

  absl::MutexLock lock(&mu_);
  if (finished_ || finish_wanted_) return;
  switch (request_.request_case()) {
    case pb::SessionRequest::kBatch: {
      if (!attachment_.valid()) {
        FinishLocked(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the first request must be open"));
        return;
      }
      bool held = false;
      absl::Status status = registry_->Apply(attachment_, request_.batch(), &held);
      if (!status.ok()) {
        MOQSTATS_LOG(DEBUG) << "session batch " << request_.batch().sequence()
                            << " refused: " << LogSafe(status.ToString());
        DetachLocked();
        FinishLocked(ToGrpcStatus(status));
        return;
      }
      if (!held) {  // a resync part waits for its last part: nothing applied yet
        ack_wanted_ = request_.batch().sequence();
        WriteLocked();
      }
      break;
    }
    case pb::SessionRequest::kClose: {
      if (!attachment_.valid()) {
        FinishLocked(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the first request must be open"));
        return;
      }
      if (attached_) registry_->Close(attachment_);
      attached_ = false;
      FinishLocked(grpc::Status::OK);
      return;
    }
    default:
      DetachLocked();
      FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty request: set open, batch or close"));
      return;
  }
  StartRead(&request_);
}

void SessionStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    // The relay is gone; nothing more can be written.
    broken_ = true;
    DetachLocked();
    if (finish_wanted_ && !finished_) {
      // A finish was waiting for this write (e.g. the relay cancelled
      // mid-write): every stream must be finished, or the server's shutdown
      // waits for it forever.
      finished_ = true;
      Finish(finish_status_);
      return;
    }
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the relay failed"));
    return;
  }
  WriteLocked();
  if (!writing_ && finish_wanted_ && !finished_) {
    finished_ = true;
    Finish(finish_status_);
  }
}

void SessionStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  DetachLocked();
  FinishLocked(grpc::Status::CANCELLED);
}

void SessionStream::OnDone() {
  link_.Clear();
  streams_->Remove(this);
  delete this;
}

void SessionStream::DetachLocked() {
  if (!attached_) return;
  attached_ = false;
  registry_->Detach(attachment_);
}

void SessionStream::FinishLocked(const grpc::Status& status) {
  if (finished_ || finish_wanted_) return;
  finish_wanted_ = true;
  finish_status_ = status;
  // Acks already owed are written first, so the relay does not resend what
  // was applied; OnWriteDone finishes once they are out.
  WriteLocked();
  if (writing_) return;
  finished_ = true;
  Finish(status);
}

void SessionStream::WriteLocked() {
  if (writing_ || finished_ || broken_) return;
  response_.Clear();
  if (welcome_pending_) {
    welcome_pending_ = false;
    *response_.mutable_welcome() = welcome_;
  } else if (ack_wanted_ > ack_sent_) {
    ack_sent_ = ack_wanted_;
    response_.mutable_ack()->set_applied_sequence(ack_sent_);
  } else {
    return;
  }
  writing_ = true;
  StartWrite(&response_);
}

}  // namespace moq_stats::server
