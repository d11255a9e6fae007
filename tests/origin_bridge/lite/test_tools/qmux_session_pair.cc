#include "tests/origin_bridge/lite/test_tools/qmux_session_pair.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace moq_stats::lite::test {

QmuxSessionPair::QmuxSessionPair(Options options, Origin* origin) : woken_(std::make_shared<std::atomic<bool>>(false)) {
  qmux::ConnectionOptions publisher_options;
  publisher_options.perspective = options.publisher_is_server ? qmux::Perspective::kServer : qmux::Perspective::kClient;
  publisher_options.mode = options.mode;
  publisher_options.local = options.publisher_params;
  publisher_options.records = options.records;
  qmux::ConnectionOptions subscriber_options;
  subscriber_options.perspective =
      options.publisher_is_server ? qmux::Perspective::kClient : qmux::Perspective::kServer;
  subscriber_options.mode = options.mode;
  subscriber_options.local = options.subscriber_params;
  subscriber_options.records = options.records;
  publisher_connection_ = std::make_unique<qmux::Connection>(std::move(publisher_options), nullptr);
  subscriber_connection_ = std::make_unique<qmux::Connection>(std::move(subscriber_options), nullptr);

  options.publisher.version = options.version;
  options.subscriber.version = options.version;
  std::shared_ptr<std::atomic<bool>> woken = woken_;
  // Release: the origin's writes before the wake are visible to the Poll
  // that follows the acquire in Pump.
  session_ = std::make_unique<lite::PublisherSession>(options.publisher, publisher_connection_.get(), origin,
                                                      [woken] { woken->store(true, std::memory_order_release); });
  subscriber_ = std::make_unique<LiteSubscriber>(options.subscriber, subscriber_connection_.get());
  publisher_connection_->set_events(session_.get());
  subscriber_connection_->set_events(subscriber_.get());
}

QmuxSessionPair::~QmuxSessionPair() {
  publisher_connection_->set_events(nullptr);
  subscriber_connection_->set_events(nullptr);
  // Sessions go before the connections they borrow.
  subscriber_.reset();
  session_.reset();
}

bool QmuxSessionPair::Start() {
  session_->Start();
  // The subscriber's SETUP may wait for the publisher's stream credit (its
  // transport parameters); exchange them first.
  if (!Pump()) return false;
  if (!subscriber_->Start().ok()) return false;
  return Pump();
}

size_t QmuxSessionPair::Deliver(qmux::Connection& from, qmux::Connection& to) {
  std::vector<std::string> chunks = from.TakeOutgoing();
  for (const std::string& chunk : chunks) to.OnBytesReceived(chunk);
  return chunks.size();
}

size_t QmuxSessionPair::DeliverOnce() {
  return Deliver(*publisher_connection_, *subscriber_connection_) +
         Deliver(*subscriber_connection_, *publisher_connection_);
}

bool QmuxSessionPair::Pump(int max_rounds) {
  bool moved_before = false;
  for (int round = 0; round < max_rounds; ++round) {
    // Acquire: pairs with the wake's release.
    const bool was_woken = woken_->exchange(false, std::memory_order_acq_rel);
    // As the session's owner must: Poll after a wake, and after bytes were
    // taken off the mux (groups held for queued bytes may go out now).
    if (was_woken || moved_before) session_->Poll();
    const size_t moved = DeliverOnce();
    moved_before = moved > 0;
    if (!was_woken && moved == 0 && !publisher_connection_->has_outgoing() && !subscriber_connection_->has_outgoing() &&
        !woken()) {
      return true;
    }
  }
  return false;
}

std::string TestPayload(const std::string& tag, uint64_t sequence, size_t size) {
  std::string out = absl::StrCat(tag, "#", sequence, ":");
  for (size_t i = 0; out.size() < size; ++i) {
    out.push_back(static_cast<char>((i * 7 + sequence) & 0xff));
  }
  return out;
}

std::vector<uint64_t> CompleteSequences(const LiteSubscriber& subscriber, uint64_t subscribe_id) {
  std::vector<uint64_t> out;
  for (const LiteSubscriber::ReceivedGroup& g : subscriber.groups()) {
    if (g.subscribe_id == subscribe_id && g.complete) out.push_back(g.sequence);
  }
  return out;
}

}  // namespace moq_stats::lite::test
