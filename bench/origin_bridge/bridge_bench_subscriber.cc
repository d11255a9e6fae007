#include "bench/origin_bridge/bridge_bench_subscriber.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "bench/origin_bridge/bridge_bench_server.h"
#include "origin_bridge/lite/messages.h"
#include "origin_bridge/lite/wire.h"
#include "origin_bridge/qmux/connection.h"
#include "origin_bridge/qmux/record.h"
#include "origin_bridge/transport/transport.h"

namespace moq_stats::bench {
namespace {

constexpr char kPrefix[] = "stats/prefix";

// Counters written by the io thread, read by the main thread. Relaxed: each
// is an independent total; the snapshot needs no ordering between them.
struct Totals {
  std::atomic<uint64_t> groups{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> bad{0};
  std::atomic<uint64_t> span{0};  // sum over subscriptions of (max seq - first seq + 1)
  std::atomic<uint64_t> last_group_ns{0};
  std::atomic<uint64_t> subscribed{0};
  std::atomic<uint64_t> announced{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<bool> failed{false};
};

void Add(std::atomic<uint64_t>& a, uint64_t n) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// One connection's moq-lite subscriber: the StreamEvents of its Connection.
class BenchSubscriber : public StreamEvents {
 public:
  struct Track {
    uint32_t level;
    uint32_t track;
  };

  BenchSubscriber(const SubscriberArgs& args, lite::Version version, StreamMux* mux, Totals* totals,
                  std::vector<Track> tracks, bool follow_announces)
      : args_(args),
        version_(version),
        mux_(mux),
        totals_(totals),
        tracks_(std::move(tracks)),
        follow_announces_(follow_announces),
        subs_(tracks_.size()) {}

  // SETUP, ANNOUNCE_REQUEST and as many SUBSCRIBEs as the peer's credit
  // allows (none before its transport parameters arrive); the rest when
  // credit comes (OnStreamCreditAvailable).
  void Begin() {
    setup_pending_ = version_ == lite::Version::kLite05;
    announce_pending_ = follow_announces_;
    OpenMore();
  }

  void OpenMore() {
    if (setup_pending_) {
      absl::StatusOr<uint64_t> id = mux_->OpenStream(false);
      if (!id.ok()) return;
      setup_pending_ = false;
      std::string bytes;
      lite::AppendVarint(uint64_t(lite::DataStreamType::kSetup), &bytes);
      (void)lite::Setup{}.Encode(version_, &bytes);
      (void)mux_->Write(*id, bytes, true);
    }
    if (announce_pending_) {
      absl::StatusOr<uint64_t> id = mux_->OpenStream(true);
      if (!id.ok()) return;
      announce_pending_ = false;
      std::string bytes;
      lite::AppendVarint(uint64_t(lite::ControlStreamType::kAnnounce), &bytes);
      lite::AnnounceRequest request;
      request.prefix = kPrefix;
      (void)request.Encode(version_, &bytes);
      (void)mux_->Write(*id, bytes, false);
      announce_stream_ = *id;
    }
    while (next_sub_ < tracks_.size()) {
      absl::StatusOr<uint64_t> id = mux_->OpenStream(true);
      if (!id.ok()) return;
      const Track& t = tracks_[next_sub_];
      lite::Subscribe s;
      s.id = next_sub_;
      s.broadcast = absl::StrCat(kPrefix, "/", t.level, "/node");
      s.track = TrackName(t.track);
      std::string bytes;
      lite::AppendVarint(uint64_t(lite::ControlStreamType::kSubscribe), &bytes);
      (void)s.Encode(version_, &bytes);
      (void)mux_->Write(*id, bytes, false);
      bidi_[*id].sub = next_sub_;
      ++next_sub_;
    }
  }

  static std::string TrackName(uint32_t t) {
    static const char* const kNames[] = {"publisher.json", "subscriber.json", "internal/publisher.json",
                                         "internal/subscriber.json"};
    return t < 4 ? kNames[t] : absl::StrCat("track", t, ".json");
  }

  void OnStreamOpened(uint64_t) override {}

  void OnStreamData(uint64_t id, std::string_view data, bool fin) override {
    if (IsUnidirectionalStream(id)) {
      auto it = uni_.find(id);
      if (it == uni_.end()) {
        if (fin) {
          ParseUni(data);
          return;
        }
        uni_[id].append(data.data(), data.size());
        return;
      }
      it->second.append(data.data(), data.size());
      if (fin) {
        ParseUni(it->second);
        uni_.erase(it);
      }
      return;
    }
    auto it = bidi_.find(id);
    if (it == bidi_.end()) {
      if (id != announce_stream_) return;
      it = bidi_.emplace(id, Bidi{}).first;
      it->second.announce = true;
    }
    Bidi& b = it->second;
    b.buf.append(data.data(), data.size());
    size_t pos = 0;
    for (int guard = 0; guard < 1 << 20 && pos < b.buf.size(); ++guard) {
      std::string_view rest(b.buf.data() + pos, b.buf.size() - pos);
      size_t consumed = 0;
      if (b.announce && version_ == lite::Version::kLite05 && !b.got_ok) {
        auto r = lite::AnnounceOk::Decode(version_, rest);
        if (!r.ok()) {
          if (r.error()) Fail("announce_ok");
          break;
        }
        b.got_ok = true;
        consumed = r.consumed;
      } else if (b.announce) {
        auto r = lite::Announce::Decode(version_, rest);
        if (!r.ok()) {
          if (r.error()) Fail("announce");
          break;
        }
        if (r.value.status == lite::AnnounceStatus::kActive) Add(totals_->announced, 1);
        consumed = r.consumed;
      } else {
        auto r = lite::DecodeSubscribeResponse(version_, rest);
        if (!r.ok()) {
          if (r.error()) Fail("subscribe response");
          break;
        }
        if (!b.answered) {
          b.answered = true;
          Add(totals_->subscribed, 1);
        }
        consumed = r.consumed;
      }
      pos += consumed;
    }
    b.buf.erase(0, pos);
  }

  void OnStreamReset(uint64_t id, uint64_t code) override {
    if (bidi_.count(id)) Fail(absl::StrCat("stream ", id, " reset with ", code));
    uni_.erase(id);
  }
  void OnStopSending(uint64_t, uint64_t) override {}
  void OnStreamCreditAvailable() override { OpenMore(); }
  void OnClosed(const CloseInfo& info) override {
    Add(totals_->closed, 1);
    if (info.code != 0) {
      std::fprintf(stderr, "subscriber: connection closed, code %" PRIu64 " %s\n", info.code, info.reason.c_str());
    }
  }

  size_t pending_subscribes() const { return tracks_.size() - next_sub_; }

 private:
  struct Bidi {
    uint64_t sub = 0;
    bool announce = false;
    bool got_ok = false;
    bool answered = false;
    std::string buf;
  };
  struct Sub {
    uint64_t max_seq = 0;
    uint64_t count = 0;
  };

  void Fail(const std::string& why) {
    std::fprintf(stderr, "subscriber: %s\n", why.c_str());
    totals_->failed.store(true);
  }

  void ParseUni(std::string_view bytes) {
    lite::WireReader r(bytes);
    uint64_t type = 0;
    if (r.ReadVarint(&type) != lite::ReadStatus::kOk) return Bad();
    if (type == uint64_t(lite::DataStreamType::kSetup)) return;
    if (type != uint64_t(lite::DataStreamType::kGroup)) return Bad();
    auto header = lite::GroupHeader::Decode(version_, bytes.substr(r.consumed()));
    if (!header.ok()) return Bad();
    lite::WireReader frames(bytes.substr(r.consumed() + header.consumed));
    const uint64_t sub_id = header.value.subscribe_id;
    if (sub_id >= subs_.size()) return Bad();
    const Track& t = tracks_[sub_id];
    uint64_t nframes = 0;
    bool ok = true;
    uint64_t payload_bytes = 0;
    for (int guard = 0; guard < 64 && !frames.empty(); ++guard) {
      if (version_ == lite::Version::kLite05) {
        uint64_t ts = 0;
        if (frames.ReadVarint(&ts) != lite::ReadStatus::kOk) {
          ok = false;
          break;
        }
      }
      std::string_view payload;
      if (frames.ReadBytes(&payload) != lite::ReadStatus::kOk) {
        ok = false;
        break;
      }
      expected_.clear();
      absl::StrAppend(&expected_, "{\"l\":", t.level, ",\"t\":", t.track, ",\"s\":", header.value.sequence, ",");
      if (payload.size() != std::max<size_t>(args_.frame_size, expected_.size() + 1) ||
          payload.substr(0, expected_.size()) != expected_ || payload.back() != '}') {
        ok = false;
      }
      payload_bytes += payload.size();
      ++nframes;
    }
    if (!ok || nframes != 1) return Bad();
    Sub& s = subs_[sub_id];
    const uint64_t seq = header.value.sequence;
    if (s.count == 0) {
      Add(totals_->span, 1);  // first group: the span starts here
      s.max_seq = seq;
    } else if (seq > s.max_seq) {
      Add(totals_->span, seq - s.max_seq);
      s.max_seq = seq;
    }
    ++s.count;
    Add(totals_->groups, 1);
    Add(totals_->bytes, payload_bytes);
    totals_->last_group_ns.store(MonotonicNs(), std::memory_order_relaxed);
  }

  void Bad() { Add(totals_->bad, 1); }

  const SubscriberArgs args_;
  const lite::Version version_;
  StreamMux* const mux_;
  Totals* const totals_;
  const std::vector<Track> tracks_;
  const bool follow_announces_;
  std::vector<Sub> subs_;
  size_t next_sub_ = 0;
  bool setup_pending_ = false;
  bool announce_pending_ = false;
  uint64_t announce_stream_ = ~uint64_t{0};
  std::unordered_map<uint64_t, std::string> uni_;  // partial group streams
  std::unordered_map<uint64_t, Bidi> bidi_;
  std::string expected_;
};

// One dialled connection: transport, QMux connection, subscriber.
struct ClientConnection {
  std::unique_ptr<bridge::Transport> transport;
  std::unique_ptr<qmux::Connection> connection;
  std::unique_ptr<BenchSubscriber> subscriber;
  bool transport_closed = false;

  void Flush() {
    if (transport_closed) return;
    std::vector<std::string> out = connection->TakeOutgoing();
    if (!out.empty()) transport->Send(std::move(out));
  }
};

}  // namespace

std::string BenchPayload(uint32_t level, uint32_t track, uint64_t sequence, uint32_t frame_size) {
  std::string p = absl::StrCat("{\"l\":", level, ",\"t\":", track, ",\"s\":", sequence, ",");
  if (p.size() + 1 < frame_size) {
    p.append("\"p\":\"");
    if (p.size() + 2 < frame_size) p.append(frame_size - p.size() - 2, 'x');
    p.append("\"");
  }
  p.push_back('}');
  if (p.size() < frame_size) p.insert(p.size() - 1, frame_size - p.size(), ' ');
  return p;
}

std::string FormatSnapshot(const SubscriberSnapshot& s) {
  return absl::StrCat(s.groups, " ", s.bytes, " ", s.bad, " ", s.skipped, " ", s.cpu_ns, " ", s.last_group_ns, " ",
                      s.closed);
}

bool ParseSnapshot(const std::string& line, SubscriberSnapshot* s) {
  return std::sscanf(line.c_str(), "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
                     &s->groups, &s->bytes, &s->bad, &s->skipped, &s->cpu_ns, &s->last_group_ns, &s->closed) == 7;
}

int RunSubscriberProcess(const SubscriberArgs& args) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  Totals totals;
  std::vector<std::unique_ptr<ClientConnection>> connections(args.connections);
  const uint64_t total_subs = uint64_t(args.levels) * args.tracks;

  bridge::DialTarget target;
  target.host = "127.0.0.1";
  target.port = args.port;
  for (uint32_t c = 0; c < args.connections; ++c) {
    std::vector<BenchSubscriber::Track> tracks;
    for (uint64_t i = total_subs * c / args.connections; i < total_subs * (c + 1) / args.connections; ++i) {
      tracks.push_back({uint32_t(i / args.tracks), uint32_t(i % args.tracks)});
    }
    bridge::AsyncDial(io, target, 10000,
                      [&, c, tracks = std::move(tracks)](absl::StatusOr<std::unique_ptr<bridge::Transport>> t) mutable {
                        if (!t.ok()) {
                          std::fprintf(stderr, "subscriber: dial: %s\n", std::string(t.status().message()).c_str());
                          totals.failed.store(true);
                          return;
                        }
                        auto conn = std::make_unique<ClientConnection>();
                        ClientConnection* raw = conn.get();
                        conn->transport = std::move(*t);
                        bridge::Negotiated n = conn->transport->negotiated().value_or(bridge::Negotiated{});
                        qmux::ConnectionOptions options;
                        options.perspective = qmux::Perspective::kClient;
                        options.mode = conn->transport->mode();
                        options.records = n.qmux_records;
                        options.local = qmux::LocalTransportParameters(options.mode);
                        options.local.initial_max_streams_uni = args.uni_streams;
                        if (args.max_data != 0) options.local.initial_max_data = args.max_data;
                        conn->connection = std::make_unique<qmux::Connection>(options, nullptr);
                        conn->subscriber = std::make_unique<BenchSubscriber>(args, n.version, conn->connection.get(),
                                                                             &totals, std::move(tracks), c == 0);
                        conn->connection->set_events(conn->subscriber.get());
                        bridge::Transport::Handlers handlers;
                        handlers.on_bytes = [raw](std::string_view bytes) {
                          raw->connection->OnBytesReceived(bytes);
                          raw->Flush();
                        };
                        handlers.on_closed = [raw](absl::Status) {
                          raw->transport_closed = true;
                          raw->connection->OnTransportClosed("transport closed");
                        };
                        conn->transport->Start(std::move(handlers));
                        conn->subscriber->Begin();
                        conn->Flush();
                        connections[c] = std::move(conn);
                      });
  }
  std::thread io_thread([&io] { io.run(); });

  // Wait (bounded) until every SUBSCRIBE was answered and every level announced.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  bool ready = false;
  while (std::chrono::steady_clock::now() < deadline && !totals.failed.load()) {
    if (totals.subscribed.load() == total_subs && totals.announced.load() >= args.levels &&
        totals.groups.load() >= total_subs) {
      ready = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (ready) {
    std::printf("ready %" PRIu64 " %" PRIu64 "\n", totals.subscribed.load(), totals.announced.load());
  } else {
    std::printf("fail subscribed=%" PRIu64 "/%" PRIu64 " announced=%" PRIu64 "/%u groups=%" PRIu64 "\n",
                totals.subscribed.load(), total_subs, totals.announced.load(), args.levels, totals.groups.load());
  }
  std::fflush(stdout);

  std::string line;
  while (ready && std::getline(std::cin, line)) {
    if (line == "x") break;
    SubscriberSnapshot s;
    s.groups = totals.groups.load(std::memory_order_relaxed);
    s.bytes = totals.bytes.load(std::memory_order_relaxed);
    s.bad = totals.bad.load(std::memory_order_relaxed);
    const uint64_t span = totals.span.load(std::memory_order_relaxed);
    s.skipped = span > s.groups ? span - s.groups : 0;
    s.cpu_ns = ProcessCpuNs();
    s.last_group_ns = totals.last_group_ns.load(std::memory_order_relaxed);
    s.closed = totals.closed.load(std::memory_order_relaxed);
    std::printf("%s\n", FormatSnapshot(s).c_str());
    std::fflush(stdout);
  }
  // The process exits without tearing down: the parent is done with it.
  std::fflush(stdout);
  std::_Exit(ready ? 0 : 1);
}

}  // namespace moq_stats::bench
