// PublisherSession and LiteSubscriber over two real qmux::Connections joined
// in memory (QmuxSessionPair): announce and subscribe end to end, QMux
// stream-count and data credit under moq-lite traffic, unsubscribe, close
// from either side, malformed bytes, and a soak that checks the connections'
// stream maps stay bounded. Each test runs for lite-03, -04 and -05, with
// the publisher as QMux client (dial mode) and as QMux server (serve mode),
// over WebSocket records, TCP records and draft-00 WebSocket frames.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/origin.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"
#include "tests/origin_bridge/lite/test_tools/qmux_session_pair.h"
#include "tests/origin_bridge/qmux/test_tools/connection_test_peer.h"

namespace moq_stats::lite::test {
namespace {

using lite::Version;
using qmux::ConnectionTestPeer;
using Strings = std::vector<std::string>;

std::string Entry(uint64_t sequence, const std::string& payload) { return absl::StrCat(sequence, ":", payload); }

// How the two connections carry QMux.
enum class Carrier { kWebSocket, kTcp, kWebSocketDraft00 };

// Version, whether the publisher is the QMux server, the carrier.
using Param = std::tuple<Version, bool, Carrier>;

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  const Version v = std::get<0>(info.param);
  const char* version = v == Version::kLite05 ? "Lite05" : (v == Version::kLite04 ? "Lite04" : "Lite03");
  const Carrier c = std::get<2>(info.param);
  const char* carrier = c == Carrier::kWebSocket ? "Ws" : c == Carrier::kTcp ? "Tcp" : "WsQmux00";
  return absl::StrCat(version, std::get<1>(info.param) ? "Serve" : "Dial", carrier);
}

class PublisherOverQmuxTest : public ::testing::TestWithParam<Param> {
 protected:
  Version version() const { return std::get<0>(GetParam()); }

  QmuxSessionPair::Options Options() const {
    QmuxSessionPair::Options options;
    options.version = version();
    options.publisher_is_server = std::get<1>(GetParam());
    const Carrier carrier = std::get<2>(GetParam());
    options.mode = carrier == Carrier::kTcp ? qmux::RecordMode::kTcp : qmux::RecordMode::kWebSocket;
    options.records = carrier != Carrier::kWebSocketDraft00;
    options.publisher.origin_id = 7;
    return options;
  }

  void Open(QmuxSessionPair::Options options) {
    pair_ = std::make_unique<QmuxSessionPair>(std::move(options), &origin_);
    ASSERT_TRUE(pair_->Start());
    ASSERT_FALSE(pair_->session().closed());
    ASSERT_FALSE(pair_->subscriber().closed());
    if (version() == Version::kLite05) {
      ASSERT_TRUE(pair_->subscriber().peer_setup().has_value());
    }
  }

  LiteSubscriber& sub() { return pair_->subscriber(); }
  // Streams each QMux connection keeps now.
  size_t publisher_streams() { return Streams(pair_->publisher_connection()); }
  size_t subscriber_streams() { return Streams(pair_->subscriber_connection()); }
  static size_t Streams(const qmux::Connection& c) { return ConnectionTestPeer::stream_count(c); }
  const lite::PublisherCounters& counters() { return pair_->session().counters(); }

  void ExpectOpen() {
    EXPECT_FALSE(pair_->session().closed());
    EXPECT_FALSE(pair_->subscriber().closed()) << pair_->subscriber().error();
    EXPECT_FALSE(pair_->publisher_connection().closed());
    EXPECT_FALSE(pair_->subscriber_connection().closed());
  }

  Origin origin_;
  std::unique_ptr<QmuxSessionPair> pair_;
};

TEST_P(PublisherOverQmuxTest, AnnouncesAndServesFourTracksLatestFirstThenLive) {
  const std::vector<std::string> names = {"t0", "t1", "t2", "t3"};
  auto producer = origin_.Publish(Path("live/room"), names);
  ASSERT_TRUE(producer.ok());
  std::vector<TrackProducer*> tracks;
  for (int t = 0; t < 4; ++t) {
    tracks.push_back((*producer)->track(names[t]));
    tracks[t]->WriteFrame(TestPayload(names[t], 0));
    tracks[t]->WriteFrame(TestPayload(names[t], 1, 2000));
  }
  Open(Options());
  const uint64_t announces = *sub().RequestAnnounces("live");
  std::vector<uint64_t> subs;
  for (int t = 0; t < 4; ++t) subs.push_back(*sub().Subscribe("live/room", names[t]));
  ASSERT_TRUE(pair_->Pump());
  const LiteSubscriber::AnnounceStream* a = sub().announces(announces);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->active, (std::set<std::string>{"room"}));
  if (version() == Version::kLite05) {
    ASSERT_TRUE(a->ok.has_value());
    EXPECT_EQ(a->ok->hop_id, 7u);
    EXPECT_EQ(a->ok->active_count, 1u);
  }
  // A late subscriber starts at the latest group.
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(sub().Received(subs[t]), (Strings{Entry(1, TestPayload(names[t], 1, 2000))}));
  }

  // Then live, in order, intact (sizes across record and frame boundaries).
  const size_t sizes[] = {1, 16352, 16353, 40000};
  for (uint64_t seq = 2; seq < 6; ++seq) {
    for (int t = 0; t < 4; ++t) tracks[t]->WriteFrame(TestPayload(names[t], seq, sizes[seq - 2]));
  }
  ASSERT_TRUE(pair_->Pump());
  for (int t = 0; t < 4; ++t) {
    std::vector<std::string> want = {Entry(1, TestPayload(names[t], 1, 2000))};
    for (uint64_t seq = 2; seq < 6; ++seq) {
      want.push_back(Entry(seq, TestPayload(names[t], seq, sizes[seq - 2])));
    }
    EXPECT_EQ(sub().Received(subs[t]), want) << "track " << t;
  }
  EXPECT_EQ(counters().groups_sent, 20u);
  EXPECT_EQ(counters().groups_skipped, 0u);

  // The producer going unannounces the broadcast and ends every
  // subscription.
  producer->reset();
  ASSERT_TRUE(pair_->Pump());
  ASSERT_FALSE(a->messages.empty());
  EXPECT_EQ(a->messages.back().status, lite::AnnounceStatus::kEnded);
  EXPECT_EQ(a->messages.back().suffix, "room");
  EXPECT_TRUE(a->active.empty());
  for (uint64_t s : subs) {
    const LiteSubscriber::Subscription* subscription = sub().subscription(s);
    EXPECT_TRUE(subscription->finished);
    if (version() == Version::kLite05) {
      ASSERT_FALSE(subscription->responses.empty());
      const auto* end = std::get_if<lite::SubscribeEnd>(&subscription->responses.back());
      ASSERT_NE(end, nullptr);
      EXPECT_EQ(end->group, 6u);
    }
  }
  EXPECT_EQ(counters().subscriptions_active, 0u);
  ExpectOpen();
}

// Pumping after each write: every group arrives although the subscriber's
// connection grants only 100 unidirectional streams at a time.
TEST_P(PublisherOverQmuxTest, StreamCreditReturnsAsGroupStreamsFinish) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  QmuxSessionPair::Options options = Options();
  ASSERT_EQ(options.subscriber_params.initial_max_streams_uni, 100u);
  Open(options);
  const uint64_t s = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  for (uint64_t i = 0; i < 250; ++i) {
    track->WriteFrame(TestPayload("g", i, 50));
    ASSERT_TRUE(pair_->Pump());
  }
  std::vector<uint64_t> want(250);
  for (uint64_t i = 0; i < 250; ++i) want[i] = i;
  EXPECT_EQ(CompleteSequences(sub(), s), want);
  EXPECT_EQ(counters().groups_skipped, 0u);
  EXPECT_GE(pair_->publisher_connection().counters().streams_opened, 250u);
  ExpectOpen();
}

// The owner polls on every wake but the bytes do not move: credit runs out,
// the newest group waits (older held ones are counted as skipped), and the
// subscription is live again once credit is back.
TEST_P(PublisherOverQmuxTest, BurstBeyondStreamCreditKeepsTheLatest) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  Open(Options());
  const uint64_t s = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  for (uint64_t i = 0; i < 250; ++i) {
    track->WriteFrame(TestPayload("g", i, 50));
    pair_->session().Poll();
  }
  ASSERT_TRUE(pair_->Pump());
  std::vector<uint64_t> got = CompleteSequences(sub(), s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), 249u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1], got[i]);
  // lite-05's SETUP stream takes one of the 100.
  const size_t before_exhaustion = version() == Version::kLite05 ? 99 : 100;
  EXPECT_EQ(got.size(), before_exhaustion + 1);
  EXPECT_EQ(counters().groups_skipped, 250 - got.size());
  track->WriteFrame(TestPayload("g", 250, 50));
  ASSERT_TRUE(pair_->Pump());
  got = CompleteSequences(sub(), s);
  EXPECT_EQ(got.back(), 250u);
  EXPECT_EQ(sub().Received(s).back(), Entry(250, TestPayload("g", 250, 50)));
  ExpectOpen();
}

// No poll between writes: the origin's consumer keeps the newest groups and
// the subscription goes on.
TEST_P(PublisherOverQmuxTest, BurstWithoutPollingDeliversTheLatestAndGoesOn) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  Open(Options());
  const uint64_t s = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  for (uint64_t i = 0; i < 250; ++i) track->WriteFrame(TestPayload("g", i, 50));
  ASSERT_TRUE(pair_->Pump());
  std::vector<uint64_t> got = CompleteSequences(sub(), s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), 249u);
  EXPECT_LT(got.size(), 250u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1], got[i]);
  track->WriteFrame(TestPayload("g", 250, 50));
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(CompleteSequences(sub(), s).back(), 250u);
  ExpectOpen();
}

TEST_P(PublisherOverQmuxTest, TwoThousandTracksInOneBurstNoneStarves) {
  constexpr int kTracks = 2000;
  std::vector<std::string> names;
  for (int t = 0; t < kTracks; ++t) names.push_back(absl::StrCat("t", t));
  auto producer = origin_.Publish(Path("many"), names);
  ASSERT_TRUE(producer.ok());
  QmuxSessionPair::Options options = Options();
  // One subscribe stream per track, all open at once.
  options.publisher_params.initial_max_streams_bidi = 4096;
  Open(options);
  std::vector<uint64_t> subs;
  for (int t = 0; t < kTracks; ++t) {
    absl::StatusOr<uint64_t> s = sub().Subscribe("many", names[t]);
    ASSERT_TRUE(s.ok()) << s.status();
    subs.push_back(*s);
  }
  ASSERT_TRUE(pair_->Pump());
  for (const std::string& name : names) (*producer)->track(name)->WriteFrame(TestPayload(name, 0));
  ASSERT_TRUE(pair_->Pump());
  ASSERT_EQ(sub().groups().size(), static_cast<size_t>(kTracks));
  for (int t = 0; t < kTracks; ++t) {
    EXPECT_EQ(sub().Received(subs[t]), (Strings{Entry(0, TestPayload(names[t], 0))}));
  }
  EXPECT_EQ(counters().groups_skipped, 0u);
  ExpectOpen();
}

// A frame ten times the per-stream credit (and larger than the connection
// credit) arrives whole as the subscriber's connection returns credit.
TEST_P(PublisherOverQmuxTest, FrameLargerThanStreamCreditArrivesWhole) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  QmuxSessionPair::Options options = Options();
  options.subscriber_params.initial_max_stream_data_uni = 1024;
  options.subscriber_params.initial_max_data = 4096;
  Open(options);
  const uint64_t s = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  track->WriteFrame(TestPayload("big", 0, 10 * 1024));
  track->WriteFrame(TestPayload("big", 1, 64 * 1024));
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(s),
            (Strings{Entry(0, TestPayload("big", 0, 10 * 1024)), Entry(1, TestPayload("big", 1, 64 * 1024))}));
  EXPECT_GT(pair_->publisher_connection().counters().blocked_on_credit, 0u);
  ExpectOpen();
}

// Windows of a few bytes both ways: requests and groups trickle through
// in pieces and all of them arrive.
TEST_P(PublisherOverQmuxTest, TinyCreditWindowsStillDeliverEverything) {
  auto producer = origin_.Publish(Path("b"), {"t0", "t1"});
  QmuxSessionPair::Options options = Options();
  for (qmux::TransportParameters* p : {&options.publisher_params, &options.subscriber_params}) {
    p->initial_max_data = 7;
    p->initial_max_stream_data_bidi_local = 1;
    p->initial_max_stream_data_bidi_remote = 1;
    p->initial_max_stream_data_uni = 1;
    p->initial_max_streams_uni = 1;
  }
  Open(options);
  const uint64_t s0 = *sub().Subscribe("b", "t0");
  const uint64_t s1 = *sub().Subscribe("b", "t1");
  ASSERT_TRUE(pair_->Pump());
  for (uint64_t g = 0; g < 2; ++g) {
    (*producer)->track("t0")->WriteFrame(TestPayload("a", g));
    (*producer)->track("t1")->WriteFrame(TestPayload("b", g));
    ASSERT_TRUE(pair_->Pump());
  }
  EXPECT_EQ(sub().Received(s0), (Strings{Entry(0, TestPayload("a", 0)), Entry(1, TestPayload("a", 1))}));
  EXPECT_EQ(sub().Received(s1), (Strings{Entry(0, TestPayload("b", 0)), Entry(1, TestPayload("b", 1))}));
  ExpectOpen();
}

TEST_P(PublisherOverQmuxTest, UnsubscribeStopsGroupsAndResubscribeWorks) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  Open(Options());
  const uint64_t first = *sub().Subscribe("b", "t");
  track->WriteFrame("g0");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(first), (Strings{"0:g0"}));
  ASSERT_TRUE(sub().Unsubscribe(first).ok());
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(counters().subscriptions_active, 0u);
  EXPECT_TRUE(sub().subscription(first)->finished);  // The publisher's FIN.
  track->WriteFrame("g1");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(first), (Strings{"0:g0"}));
  // Both sides of the subscribe stream are done: neither connection keeps
  // it (SETUP streams are finished too).
  EXPECT_EQ(publisher_streams(), 0u);
  EXPECT_EQ(subscriber_streams(), 0u);
  const uint64_t second = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  track->WriteFrame("g2");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(second), (Strings{"1:g1", "2:g2"}));
  EXPECT_EQ(sub().Received(first), (Strings{"0:g0"}));
  EXPECT_EQ(counters().subscriptions_served, 2u);
  ExpectOpen();
}

TEST_P(PublisherOverQmuxTest, SubscriberCloseReleasesThePublishersConsumers) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  Open(Options());
  (void)*sub().RequestAnnounces("");
  const uint64_t s = *sub().Subscribe("b", "t");
  track->WriteFrame("g0");
  ASSERT_TRUE(pair_->Pump());
  ASSERT_EQ(sub().Received(s), (Strings{"0:g0"}));
  EXPECT_EQ(counters().subscriptions_active, 1u);
  EXPECT_EQ(counters().announced_broadcasts, 1u);
  const uint64_t code = static_cast<uint64_t>(lite::ErrorCode::kUnauthorized);
  pair_->subscriber_connection().Close(code, "bye");
  ASSERT_TRUE(pair_->Pump());
  ASSERT_TRUE(pair_->session().closed());
  const CloseInfo& info = *pair_->session().close_info();
  EXPECT_TRUE(info.by_peer);
  EXPECT_TRUE(info.application);
  EXPECT_EQ(info.code, code);
  EXPECT_EQ(info.reason, "bye");
  EXPECT_EQ(counters().subscriptions_active, 0u);
  EXPECT_EQ(counters().announced_broadcasts, 0u);

  // The consumers are released: the origin no longer wakes the session and
  // nothing more is sent.
  const uint64_t sent = counters().groups_sent;
  const uint64_t bytes = pair_->publisher_connection().counters().bytes_sent;
  track->WriteFrame("g1");
  auto other = origin_.Publish(Path("c"), {"t"});
  EXPECT_FALSE(pair_->woken());
  pair_->session().Poll();
  pair_->session().OnStreamCreditAvailable();
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(counters().groups_sent, sent);
  EXPECT_EQ(pair_->publisher_connection().counters().bytes_sent, bytes);
  EXPECT_EQ(publisher_streams(), 0u);
}

// Bad bytes written below the test subscriber, through its connection: the
// publisher closes the whole QMux connection (APPLICATION_CLOSE) with the
// moq-lite code the codec names, and the subscriber's side sees it.
TEST_P(PublisherOverQmuxTest, MalformedRequestsCloseWithTheCodecsCode) {
  std::string garbage;  // ANNOUNCE_REQUEST body whose prefix claims 5 bytes of 1.
  lite::AppendVarint(static_cast<uint64_t>(lite::ControlStreamType::kAnnounce), &garbage);
  garbage += std::string("\x01\x05", 2);
  std::string oversized;  // SUBSCRIBE declaring far more than max_message_size.
  lite::AppendVarint(static_cast<uint64_t>(lite::ControlStreamType::kSubscribe), &oversized);
  lite::AppendVarint(uint64_t{1} << 40, &oversized);
  for (const auto& [bytes, code] :
       {std::pair(garbage, lite::ErrorCode::kDecode), std::pair(oversized, lite::ErrorCode::kBoundsExceeded)}) {
    Open(Options());
    qmux::Connection& conn = pair_->subscriber_connection();
    ASSERT_TRUE(conn.Write(*conn.OpenStream(true), bytes, false).ok());
    ASSERT_TRUE(pair_->Pump());
    ASSERT_TRUE(pair_->session().closed());
    EXPECT_FALSE(pair_->session().close_info()->by_peer);
    EXPECT_EQ(pair_->session().close_info()->code, static_cast<uint64_t>(code));
    ASSERT_TRUE(conn.closed());
    EXPECT_TRUE(conn.close_info()->by_peer);
    EXPECT_TRUE(conn.close_info()->application);
    EXPECT_EQ(conn.close_info()->code, static_cast<uint64_t>(code));
    ASSERT_TRUE(sub().closed());
    EXPECT_EQ(sub().close_info()->code, static_cast<uint64_t>(code));
  }
}

// An unknown unidirectional stream type is refused on that stream only: the
// peer's connection resets its side on STOP_SENDING, the stream is retired
// on both sides and the session goes on.
TEST_P(PublisherOverQmuxTest, UnknownStreamTypeIsRefusedAndRetired) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  Open(Options());
  qmux::Connection& conn = pair_->subscriber_connection();
  const uint64_t id = *conn.OpenStream(false);
  std::string bytes;
  lite::AppendVarint(0x3f, &bytes);
  ASSERT_TRUE(conn.Write(id, bytes, false).ok());
  ASSERT_TRUE(pair_->Pump());
  ExpectOpen();
  EXPECT_EQ(publisher_streams(), 0u);
  EXPECT_EQ(subscriber_streams(), 0u);
  const uint64_t s = *sub().Subscribe("b", "t");
  (*producer)->track("t")->WriteFrame("g0");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(s), (Strings{"0:g0"}));
}

// The subscriber abandons its subscribe stream (RESET_STREAM): the
// subscription ends and the stream is retired on both sides.
TEST_P(PublisherOverQmuxTest, SubscribeStreamResetEndsTheSubscription) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  Open(Options());
  const uint64_t s = *sub().Subscribe("b", "t");
  track->WriteFrame("g0");
  ASSERT_TRUE(pair_->Pump());
  pair_->subscriber_connection().ResetStream(sub().subscription(s)->stream, 3);
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(counters().subscriptions_active, 0u);
  EXPECT_EQ(sub().subscription(s)->reset_code, 3u);  // Echoed, as Rust does.
  track->WriteFrame("g1");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(CompleteSequences(sub(), s), (std::vector<uint64_t>{0}));
  EXPECT_EQ(publisher_streams(), 0u);
  EXPECT_EQ(subscriber_streams(), 0u);
  ExpectOpen();
}

// The subscriber cancels a group stream halfway (STOP_SENDING, as moq-lite
// subscribers drop old groups): the publisher's connection resets it, the
// stream is retired and later groups still come.
TEST_P(PublisherOverQmuxTest, StopSendingOnAGroupStreamCancelsOnlyThatGroup) {
  auto producer = origin_.Publish(Path("b"), {"t"});
  TrackProducer* track = (*producer)->track("t");
  QmuxSessionPair::Options options = Options();
  options.subscriber_params.initial_max_stream_data_uni = 1024;
  Open(options);
  const uint64_t s = *sub().Subscribe("b", "t");
  ASSERT_TRUE(pair_->Pump());
  track->WriteFrame(TestPayload("big", 0, 20000));
  pair_->session().Poll();
  ASSERT_GT(pair_->DeliverOnce(), 0u);
  ASSERT_EQ(sub().groups().size(), 1u);
  ASSERT_FALSE(sub().groups()[0].complete);
  pair_->subscriber_connection().StopSending(sub().groups()[0].stream, 7);
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().groups()[0].reset_code, 7u);
  EXPECT_FALSE(sub().groups()[0].complete);
  EXPECT_EQ(subscriber_streams(), 1u);  // Subscribe.
  EXPECT_EQ(publisher_streams(), 1u);
  track->WriteFrame("g1");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().Received(s), (Strings{"1:g1"}));
  ExpectOpen();
}

// A subscription to a broadcast that does not exist is reset with Unroutable;
// both connections retire the stream (the subscriber's side resets itself
// on the publisher's STOP_SENDING).
TEST_P(PublisherOverQmuxTest, UnknownBroadcastIsRefusedAndTheStreamRetired) {
  Open(Options());
  const uint64_t s = *sub().Subscribe("nowhere", "t");
  ASSERT_TRUE(pair_->Pump());
  EXPECT_EQ(sub().subscription(s)->reset_code, static_cast<uint64_t>(lite::ErrorCode::kUnroutable));
  EXPECT_EQ(counters().subscriptions_refused, 1u);
  EXPECT_EQ(publisher_streams(), 0u);
  EXPECT_EQ(subscriber_streams(), 0u);
  ExpectOpen();
}

// Groups held because the mux holds more than max_queued_bytes unsent go out
// once the owner has moved those bytes and polled, without waiting for
// origin news.
TEST_P(PublisherOverQmuxTest, GroupsHeldForQueuedBytesGoOutOnceTheBytesDrain) {
  auto producer = origin_.Publish(Path("b"), {"t0", "t1", "t2", "t3"});
  QmuxSessionPair::Options options = Options();
  options.publisher.max_queued_bytes = 1024;
  Open(options);
  std::vector<uint64_t> subs;
  for (int t = 0; t < 4; ++t) subs.push_back(*sub().Subscribe("b", absl::StrCat("t", t)));
  ASSERT_TRUE(pair_->Pump());
  for (int t = 0; t < 4; ++t) {
    (*producer)->track(absl::StrCat("t", t))->WriteFrame(TestPayload("q", t, 2000));
  }
  ASSERT_TRUE(pair_->Pump());
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(CompleteSequences(sub(), subs[t]), (std::vector<uint64_t>{0})) << "track " << t;
  }
  ExpectOpen();
}

INSTANTIATE_TEST_SUITE_P(
    AllVersionsBothPerspectives, PublisherOverQmuxTest,
    ::testing::Combine(::testing::Values(Version::kLite03, Version::kLite04, Version::kLite05), ::testing::Bool(),
                       ::testing::Values(Carrier::kWebSocket, Carrier::kTcp, Carrier::kWebSocketDraft00)),
    ParamName);

class PublisherOverQmuxSoakTest : public PublisherOverQmuxTest {};

// 10,000 broadcasts of 4 tracks, one frame each, announced, subscribed in
// batches of 100 broadcasts, ended and unsubscribed: every group arrives and
// neither connection keeps more streams than a batch needs.
TEST_P(PublisherOverQmuxSoakTest, TenThousandBroadcastsOfFourTracks) {
  constexpr int kBroadcasts = 10000;
  constexpr int kBatch = 100;
  constexpr int kTracks = 4;
  const std::vector<std::string> names = {"t0", "t1", "t2", "t3"};
  QmuxSessionPair::Options options = Options();
  // A batch's subscribe streams are open at once.
  options.publisher_params.initial_max_streams_bidi = 1000;
  Open(options);
  const uint64_t announces = *sub().RequestAnnounces("soak");
  ASSERT_TRUE(pair_->Pump());

  size_t seen = 0;
  for (int batch = 0; batch < kBroadcasts / kBatch; ++batch) {
    std::vector<std::unique_ptr<BroadcastProducer>> producers;
    std::map<uint64_t, std::string> expected;  // Subscribe id -> "seq:payload".
    for (int i = 0; i < kBatch; ++i) {
      const std::string path = absl::StrCat("soak/b", batch * kBatch + i);
      auto producer = origin_.Publish(Path(path), names);
      ASSERT_TRUE(producer.ok());
      for (int t = 0; t < kTracks; ++t) {
        (*producer)->track(names[t])->WriteFrame(TestPayload(path, t, 64));
        absl::StatusOr<uint64_t> s = sub().Subscribe(path, names[t]);
        ASSERT_TRUE(s.ok()) << s.status();
        expected[*s] = Entry(0, TestPayload(path, t, 64));
      }
      producers.push_back(std::move(*producer));
    }
    ASSERT_TRUE(pair_->Pump());
    const std::vector<LiteSubscriber::ReceivedGroup>& groups = sub().groups();
    std::map<uint64_t, std::string> missing = expected;
    for (; seen < groups.size(); ++seen) {
      const LiteSubscriber::ReceivedGroup& g = groups[seen];
      ASSERT_TRUE(g.complete);
      ASSERT_EQ(g.frames.size(), 1u);
      auto it = missing.find(g.subscribe_id);
      ASSERT_NE(it, missing.end()) << "group for subscription " << g.subscribe_id;
      ASSERT_EQ(Entry(g.sequence, g.frames[0].payload), it->second);
      missing.erase(it);
    }
    ASSERT_TRUE(missing.empty()) << "batch " << batch << ": " << missing.size() << " missing";
    // A batch's subscribe streams plus the announce stream, no more.
    ASSERT_LE(publisher_streams(), kBatch * kTracks + 1u);
    ASSERT_LE(subscriber_streams(), kBatch * kTracks + 1u);

    producers.clear();
    ASSERT_TRUE(pair_->Pump());
    for (const auto& [s, entry] : expected) {
      ASSERT_TRUE(sub().subscription(s)->finished);
      ASSERT_TRUE(sub().Unsubscribe(s).ok());
    }
    ASSERT_TRUE(pair_->Pump());
    // Only the announce stream is left on either side.
    ASSERT_EQ(publisher_streams(), 1u);
    ASSERT_EQ(subscriber_streams(), 1u);
  }
  EXPECT_EQ(seen, uint64_t{kBroadcasts} * kTracks);
  EXPECT_EQ(counters().groups_sent, uint64_t{kBroadcasts} * kTracks);
  EXPECT_EQ(counters().subscriptions_served, uint64_t{kBroadcasts} * kTracks);
  EXPECT_EQ(counters().subscriptions_active, 0u);
  const LiteSubscriber::AnnounceStream* a = sub().announces(announces);
  EXPECT_EQ(a->messages.size(), 2u * kBroadcasts);
  EXPECT_TRUE(a->active.empty());
  ExpectOpen();
}

INSTANTIATE_TEST_SUITE_P(AllVersionsBothPerspectives, PublisherOverQmuxSoakTest,
                         ::testing::Combine(::testing::Values(Version::kLite03, Version::kLite04, Version::kLite05),
                                            ::testing::Bool(), ::testing::Values(Carrier::kWebSocket, Carrier::kTcp)),
                         ParamName);

}  // namespace
}  // namespace moq_stats::lite::test
