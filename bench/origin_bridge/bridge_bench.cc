// The origin bridge under the stats load: groups per second delivered to a
// MoQ subscriber over loopback WebSocket when every level changes every
// tick, and what it costs the publishing process in CPU.
//
// This process holds an Origin with L levels (broadcasts
// "stats/prefix/<i>/node", each with the four stats tracks), serves it over
// moq-lite-05 on qmux-01 WebSocket on 127.0.0.1, and runs a writer thread
// that, each tick, writes one frame of --frame_size bytes on every track (as
// the level publishers do), at a paced rate of groups per second or as fast
// as it can. The subscriber is a separate process (this binary with
// --subscriber; bridge_bench_subscriber.h) so that this process's CPU is the
// publishing side only. It subscribes to every track, counts the groups that
// arrive and checks every payload (level, track, sequence, size).
//
// Configurations (--configs, comma-separated):
//   session:<U>  the bridge's pieces (Transport, qmux::Connection,
//                PublisherSession, coalesced wake + Poll on one io thread;
//                bridge_bench_server.h), one subscriber connection holding
//                every subscription (the server grants that many
//                bidirectional streams), the subscriber granting U
//                unidirectional streams (one per group).
//   session:<U>:<D>  as session:<U>, the subscriber granting D MiB of
//                connection data credit instead of the QMux default 1 MiB.
//   bridge:<U>   the OriginBridge itself in serve mode. It grants 100
//                bidirectional streams per session (the QMux default), so the
//                subscriptions are spread over connections of 96 each and
//                --bridge_levels levels are served (default 2400: 9,600
//                tracks over 100 connections).
//
// Per case (offered rate), over the window from the first write until the
// last group arrived (at least the writing time):
//   delivered   complete, intact groups received per second
//   skipped     sequences the subscriber never saw (latest-wins)
//   proc cores  this process's CPU seconds per wall second (getrusage)
//   io cores    the bridge io thread's CPU seconds per wall second
//   writer      the writer thread's (frame building + origin writes + wakes)
//   io us/grp   io thread CPU per delivered group
//   sub cores   the subscriber process's CPU seconds per wall second
//
//   bridge_bench [--levels=10000] [--seconds=5] [--frame_size=200]
//                [--rates=40000,100000,200000,max] [--configs=session:10000,session:100,session:10000:64,bridge:10000]
//
// Exits 1 if a payload was corrupted or a configuration could not run.

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/origin_bridge/bridge_bench_server.h"
#include "bench/origin_bridge/bridge_bench_subscriber.h"
#include "origin/origin.h"
#include "origin_bridge/bridge/origin_bridge.h"

namespace moq_stats::bench {
namespace {

struct Options {
  uint32_t levels = 10000;
  uint32_t bridge_levels = 2400;
  uint32_t tracks = 4;
  uint32_t frame_size = 200;
  double seconds = 5;
  std::vector<double> rates = {40000, 100000, 200000, 0};  // groups/s; 0 = as fast as possible
  std::vector<std::string> configs = {"session:10000", "session:100", "session:10000:64", "bridge:10000"};
};

// The subscriber child, driven one line at a time.
class Child {
 public:
  bool Spawn(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return false;
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[0]);
      close(in[1]);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    return true;
  }
  ~Child() {
    if (pid_ <= 0) return;
    Send("x");
    close(to_);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  void Send(const std::string& line) {
    std::string l = line + "\n";
    if (write(to_, l.data(), l.size()) < 0) return;
  }
  bool ReadLine(std::string* line, int timeout_ms) {
    const uint64_t deadline = MonotonicNs() + uint64_t(timeout_ms) * 1000000u;
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      const uint64_t now = MonotonicNs();
      if (now >= deadline) return false;
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, int((deadline - now) / 1000000u) + 1) <= 0) continue;
      char tmp[4096];
      ssize_t n = read(from_, tmp, sizeof(tmp));
      if (n <= 0) return false;
      buf_.append(tmp, size_t(n));
    }
  }
  bool Query(SubscriberSnapshot* s) {
    Send("q");
    std::string line;
    return ReadLine(&line, 5000) && ParseSnapshot(line, s);
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
};

struct Row {
  std::string config;
  double offered = 0;  // groups/s written
  double delivered = 0;
  uint64_t skipped = 0, bad = 0, written = 0, received = 0;
  double proc_cores = 0, io_cores = 0, writer_cores = 0, sub_cores = 0;
  double io_us_per_group = 0, proc_us_per_group = 0;
  double window_s = 0;
  std::optional<ServerCounters> timing;  // session configs: where the io thread's time went
};

struct Publisher {
  Origin origin;
  std::vector<std::unique_ptr<BroadcastProducer>> broadcasts;
  std::vector<TrackProducer*> tracks;  // level-major
  std::vector<uint64_t> next_seq;
};

bool PublishLevels(Publisher* p, uint32_t levels, uint32_t tracks, uint32_t frame_size) {
  std::vector<std::string> names;
  for (uint32_t t = 0; t < tracks; ++t) {
    static const char* const kNames[] = {"publisher.json", "subscriber.json", "internal/publisher.json",
                                         "internal/subscriber.json"};
    names.push_back(t < 4 ? kNames[t] : absl::StrCat("track", t, ".json"));
  }
  for (uint32_t l = 0; l < levels; ++l) {
    auto b = p->origin.Publish(Path(absl::StrCat("stats/prefix/", l, "/node")), names);
    if (!b.ok()) return false;
    for (const std::string& n : names) p->tracks.push_back((*b)->track(n));
    p->broadcasts.push_back(*std::move(b));
  }
  p->next_seq.assign(p->tracks.size(), 0);
  // One tick before anyone subscribes: every track has a latest group, as the
  // stats tracks do, and lite-05 answers a SUBSCRIBE with SUBSCRIBE_START
  // only once it has a group to start at.
  for (size_t i = 0; i < p->tracks.size(); ++i) {
    p->tracks[i]->WriteFrame(BenchPayload(uint32_t(i / tracks), uint32_t(i % tracks), p->next_seq[i]++, frame_size));
  }
  return true;
}

// Writes ticks (a frame on every track) at `rate` groups/s (0: unpaced) for
// `seconds`. Returns groups written; *cpu_ns the thread's CPU.
uint64_t WriteTicks(Publisher* p, uint32_t tracks, uint32_t frame_size, double rate, double seconds, uint64_t* cpu_ns,
                    uint64_t* wall_ns) {
  uint64_t written = 0;
  std::thread writer([&] {
    const uint64_t c0 = ClockNs(CLOCK_THREAD_CPUTIME_ID);
    const uint64_t start = MonotonicNs();
    const uint64_t end = start + uint64_t(seconds * 1e9);
    const double per_tick = double(p->tracks.size());
    const uint64_t ticks = rate > 0 ? std::max<uint64_t>(1, uint64_t(seconds * rate / per_tick + 0.5)) : ~0ull;
    for (uint64_t k = 0; k < ticks; ++k) {
      if (rate > 0) {
        const uint64_t due = start + uint64_t(double(k) * per_tick / rate * 1e9);
        const uint64_t now = MonotonicNs();
        if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      } else if (MonotonicNs() >= end) {
        break;
      }
      for (size_t i = 0; i < p->tracks.size(); ++i) {
        p->tracks[i]->WriteFrame(
            BenchPayload(uint32_t(i / tracks), uint32_t(i % tracks), p->next_seq[i]++, frame_size));
        ++written;
      }
    }
    *cpu_ns = ClockNs(CLOCK_THREAD_CPUTIME_ID) - c0;
    // Paced: the nominal span of the ticks written (the last tick's period
    // included), so `offered` is the rate asked for; unpaced: as measured.
    *wall_ns = rate > 0 ? std::max<uint64_t>(MonotonicNs() - start, uint64_t(double(written) / rate * 1e9))
                        : MonotonicNs() - start;
  });
  writer.join();
  return written;
}

std::vector<Row> RunConfig(const Options& o, const std::string& config, bool* ok) {
  std::vector<Row> rows;
  const bool bridge_mode = config.rfind("bridge", 0) == 0;
  // <kind>:<uni streams>[:<connection data credit, MiB>]
  std::vector<std::string> parts = absl::StrSplit(config, ':');
  uint64_t uni = 10000, max_data_mib = 0;
  if (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &uni)) uni = 10000;
  if (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &max_data_mib)) max_data_mib = 0;
  const uint32_t levels = bridge_mode ? o.bridge_levels : o.levels;
  const uint64_t subs = uint64_t(levels) * o.tracks;
  const uint32_t connections = bridge_mode ? uint32_t((subs + 95) / 96) : 1;

  auto publisher = std::make_unique<Publisher>();
  if (!PublishLevels(publisher.get(), levels, o.tracks, o.frame_size)) {
    std::fprintf(stderr, "%s: could not publish\n", config.c_str());
    *ok = false;
    return rows;
  }
  std::unique_ptr<BenchServer> server;
  std::unique_ptr<bridge::OriginBridge> bridge;
  uint16_t port = 0;
  clockid_t io_clock = CLOCK_THREAD_CPUTIME_ID;
  if (bridge_mode) {
    std::vector<int> before = ThreadIds();
    bridge::BridgeOptions options;
    options.moq_listen = bridge::ListenAddress{"127.0.0.1", 0};
    options.max_serve_sessions = connections + 8;
    auto started = bridge::OriginBridge::Start(&publisher->origin, options);
    if (!started.ok()) {
      std::fprintf(stderr, "%s: %s\n", config.c_str(), std::string(started.status().message()).c_str());
      *ok = false;
      return rows;
    }
    bridge = *std::move(started);
    port = bridge->serve_port();
    std::set<int> old(before.begin(), before.end());
    for (int tid : ThreadIds()) {
      if (!old.count(tid)) io_clock = ThreadClockOfTid(tid);
    }
  } else {
    auto started = BenchServer::Start(&publisher->origin, subs + 16);
    if (!started.ok()) {
      std::fprintf(stderr, "%s: %s\n", config.c_str(), std::string(started.status().message()).c_str());
      *ok = false;
      return rows;
    }
    server = *std::move(started);
    port = server->port();
    io_clock = server->thread_clock();
  }

  Child child;
  const uint64_t setup0 = MonotonicNs();
  std::vector<std::string> child_args = {"bridge_bench",
                                         "--subscriber",
                                         absl::StrCat("--port=", port),
                                         absl::StrCat("--levels=", levels),
                                         absl::StrCat("--tracks=", o.tracks),
                                         absl::StrCat("--frame_size=", o.frame_size),
                                         absl::StrCat("--uni_streams=", uni),
                                         absl::StrCat("--max_data=", max_data_mib << 20),
                                         absl::StrCat("--connections=", connections)};
  child.Spawn(child_args);
  std::string line;
  if (!child.ReadLine(&line, 150000) || line.rfind("ready", 0) != 0) {
    std::fprintf(stderr, "%s: subscriber not ready: %s\n", config.c_str(), line.c_str());
    *ok = false;
    return rows;
  }
  std::fprintf(stderr, "%s: %" PRIu64 " subscriptions over %u connection(s) ready in %.1f s\n", config.c_str(), subs,
               connections, double(MonotonicNs() - setup0) / 1e9);

  for (double rate : o.rates) {
    Row row;
    row.config = config;
    SubscriberSnapshot s0, s1;
    if (!child.Query(&s0)) break;
    std::optional<ServerCounters> t0;
    if (server) t0 = server->counters();
    const uint64_t p0 = ProcessCpuNs(), io0 = ClockNs(io_clock), w0 = MonotonicNs();
    uint64_t writer_cpu = 0, writer_wall = 0;
    row.written = WriteTicks(publisher.get(), o.tracks, o.frame_size, rate, o.seconds, &writer_cpu, &writer_wall);
    // Drain: until everything written is accounted for or nothing moves for 500 ms.
    uint64_t last_progress = MonotonicNs(), last_count = 0;
    for (int i = 0; i < 400; ++i) {
      if (!child.Query(&s1)) break;
      const uint64_t count = s1.groups + s1.skipped - s0.groups - s0.skipped;
      if (count >= row.written) break;
      if (count != last_count) {
        last_count = count;
        last_progress = MonotonicNs();
      } else if (MonotonicNs() - last_progress > 500000000u) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const uint64_t p1 = ProcessCpuNs(), io1 = ClockNs(io_clock);
    if (server) {
      ServerCounters t1 = server->counters();
      ServerCounters d;
      d.polls = t1.polls - t0->polls;
      d.poll_ns = t1.poll_ns - t0->poll_ns;
      d.receive_ns = t1.receive_ns - t0->receive_ns;
      d.take_ns = t1.take_ns - t0->take_ns;
      d.send_ns = t1.send_ns - t0->send_ns;
      d.publisher.groups_sent = t1.publisher.groups_sent - t0->publisher.groups_sent;
      d.publisher.groups_skipped = t1.publisher.groups_skipped - t0->publisher.groups_skipped;
      d.wire_bytes_sent = t1.wire_bytes_sent - t0->wire_bytes_sent;
      row.timing = d;
    }
    const uint64_t end = std::max(w0 + writer_wall, s1.last_group_ns);
    const double window = double(end - w0) / 1e9;
    row.window_s = window;
    row.offered = double(row.written) / (double(writer_wall) / 1e9);
    row.received = s1.groups - s0.groups;
    row.delivered = double(row.received) / window;
    row.skipped = s1.skipped - s0.skipped;
    row.bad = s1.bad - s0.bad;
    row.proc_cores = double(p1 - p0) / 1e9 / window;
    row.io_cores = double(io1 - io0) / 1e9 / window;
    row.writer_cores = double(writer_cpu) / 1e9 / window;
    row.sub_cores = double(s1.cpu_ns - s0.cpu_ns) / 1e9 / window;
    row.io_us_per_group = row.received ? double(io1 - io0) / 1e3 / double(row.received) : 0;
    row.proc_us_per_group = row.received ? double(p1 - p0) / 1e3 / double(row.received) : 0;
    if (row.bad != 0 || s1.closed != 0) *ok = false;
    rows.push_back(row);
    std::fprintf(stderr, "  %s offered %.0f/s: delivered %.0f/s\n", config.c_str(), row.offered, row.delivered);
  }
  if (bridge) bridge->Stop();
  if (server) server->Stop();
  return rows;
}

void PrintTable(const std::vector<Row>& rows) {
  std::printf("\n%-14s %10s %10s %9s %4s %6s %6s %6s %6s %8s %8s %6s\n", "config", "offered/s", "deliver/s", "skipped",
              "bad", "proc", "io", "writer", "sub", "io us/g", "proc us/g", "win s");
  std::printf("%-14s %10s %10s %9s %4s %6s %6s %6s %6s %8s %8s %6s\n", "", "groups", "groups", "", "", "cores", "cores",
              "cores", "cores", "", "", "");
  for (const Row& r : rows) {
    std::printf("%-14s %10.0f %10.0f %9" PRIu64 " %4" PRIu64 " %6.2f %6.2f %6.2f %6.2f %8.2f %8.2f %6.2f\n",
                r.config.c_str(), r.offered, r.delivered, r.skipped, r.bad, r.proc_cores, r.io_cores, r.writer_cores,
                r.sub_cores, r.io_us_per_group, r.proc_us_per_group, r.window_s);
  }
  std::printf("\nWhere the io thread's time went (session configs; us per delivered group):\n");
  std::printf("%-14s %10s %8s %8s %8s %8s %8s %10s %10s\n", "config", "offered/s", "Poll", "receive", "take", "send",
              "other", "polls", "grp/poll");
  for (const Row& r : rows) {
    if (!r.timing || r.received == 0) continue;
    const ServerCounters& t = *r.timing;
    const double g = double(r.received);
    const double io_us = r.io_us_per_group;
    const double poll = double(t.poll_ns) / 1e3 / g, recv = double(t.receive_ns) / 1e3 / g,
                 take = double(t.take_ns) / 1e3 / g, send = double(t.send_ns) / 1e3 / g;
    std::printf("%-14s %10.0f %8.2f %8.2f %8.2f %8.2f %8.2f %10" PRIu64 " %10.1f\n", r.config.c_str(), r.offered, poll,
                recv, take, send, io_us - poll - recv - take - send, t.polls,
                t.polls ? double(t.publisher.groups_sent) / double(t.polls) : 0.0);
  }
}

bool ParseArgs(int argc, char** argv, Options* o, SubscriberArgs* s, bool* subscriber) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 ? a.c_str() + n : nullptr;
    };
    if (a == "--subscriber") {
      *subscriber = true;
    } else if (const char* v = value("--port=")) {
      s->port = uint16_t(std::atoi(v));
    } else if (const char* v = value("--levels=")) {
      s->levels = o->levels = uint32_t(std::atoi(v));
    } else if (const char* v = value("--bridge_levels=")) {
      o->bridge_levels = uint32_t(std::atoi(v));
    } else if (const char* v = value("--tracks=")) {
      s->tracks = o->tracks = uint32_t(std::atoi(v));
    } else if (const char* v = value("--frame_size=")) {
      s->frame_size = o->frame_size = uint32_t(std::atoi(v));
    } else if (const char* v = value("--uni_streams=")) {
      s->uni_streams = uint64_t(std::atoll(v));
    } else if (const char* v = value("--max_data=")) {
      s->max_data = uint64_t(std::atoll(v));
    } else if (const char* v = value("--connections=")) {
      s->connections = uint32_t(std::atoi(v));
    } else if (const char* v = value("--seconds=")) {
      o->seconds = std::atof(v);
    } else if (const char* v = value("--rates=")) {
      o->rates.clear();
      for (absl::string_view r : absl::StrSplit(v, ','))
        o->rates.push_back(r == "max" ? 0 : std::atof(std::string(r).c_str()));
    } else if (const char* v = value("--configs=")) {
      o->configs = absl::StrSplit(v, ',');
    } else {
      std::fprintf(stderr,
                   "usage: %s [--levels=N] [--bridge_levels=N] [--tracks=4] [--frame_size=200] [--seconds=S]\n"
                   "          [--rates=40000,100000,200000,max] "
                   "[--configs=session:10000,session:100,session:10000:64,bridge:10000]\n",
                   argv[0]);
      return false;
    }
  }
  if (o->levels == 0 || o->tracks == 0 || o->tracks > 64 || o->seconds <= 0 || o->seconds > 120 ||
      s->connections == 0 || o->frame_size > 60000) {
    std::fprintf(stderr, "bad arguments\n");
    return false;
  }
  return true;
}

}  // namespace
}  // namespace moq_stats::bench

int main(int argc, char** argv) {
  using namespace moq_stats::bench;
  // Debian's Abseil is a debug build with the deadlock detector on; a
  // release Abseil has it off (as the daemon runs).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  signal(SIGPIPE, SIG_IGN);
  Options options;
  SubscriberArgs sub;
  bool subscriber = false;
  if (!ParseArgs(argc, argv, &options, &sub, &subscriber)) return 2;
  if (subscriber) return RunSubscriberProcess(sub);

  std::printf(
      "bridge_bench: %u levels x %u tracks, %u-byte frames, %.1f s per case, moq-lite-05 / qmux-01 over "
      "WebSocket on 127.0.0.1, %u CPUs\n",
      options.levels, options.tracks, options.frame_size, options.seconds, std::thread::hardware_concurrency());
  std::fflush(stdout);
  bool ok = true;
  std::vector<Row> rows;
  for (const std::string& config : options.configs) {
    std::vector<Row> r = RunConfig(options, config, &ok);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  PrintTable(rows);
  return ok ? 0 : 1;
}
