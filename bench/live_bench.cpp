// Tick-to-order latency inside the process, on loopback: a market-data websocket frame (JSON text,
// as Alpaca sends it) is parsed, its bar goes into the panel, the kernel runs the strategy,
// planner and risk gate, and the first order's HTTP request (POST /v2/orders with its JSON body
// and the auth headers) is written to a connected 127.0.0.1 TCP socket. Each iteration records
// its own latency; p50 / p99 / max are reported as counters (in microseconds), and `ready_p50` /
// `ready_p99` for the part before the socket write. The heap is faulted in first, as a live
// service does at start (live.prefault_mb). docs/performance.md has the figures.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>

#include "ballast/adapters/alpaca/messages.hpp"
#include "ballast/adapters/alpaca/rest.hpp"
#include "ballast/backtests/backtest_config.hpp"
#include "ballast/engine/kernel.hpp"
#include "ballast/live/time_ny.hpp"
#include "live_source.hpp"
#include "prefault.hpp"

namespace ballast {
namespace {

using Steady = std::chrono::steady_clock;

/// A loopback TCP connection whose far end drains everything written. The far end stands for the
/// broker, another machine: with two CPUs or more, the drain thread and the thread that writes
/// (the one measured) are kept on different CPUs while the sink lives, so a wake-up of the
/// drain never preempts the write it is reading.
class LoopbackSink {
 public:
  LoopbackSink() {
    const bool apart = std::thread::hardware_concurrency() >= 2 &&
                       pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) == 0 &&
                       CPU_ISSET(0, &saved_) && CPU_ISSET(1, &saved_);
    if (apart) {
      Pin(pthread_self(), 0);
      pinned_ = true;
    }
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 1);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    client_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(client_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    server_ = ::accept(listen_, nullptr, nullptr);
    drain_ = std::thread([this] {
      if (pinned_) Pin(pthread_self(), 1);
      // Polls rather than sleeping in read: a sleeping reader makes every write wake it (an
      // interprocessor interrupt the writer pays for), which a write to a remote broker never
      // does. With one CPU the reader must sleep (it would starve the writer).
      char buf[65536];
      for (;;) {
        const ssize_t n = ::recv(server_, buf, sizeof buf, pinned_ ? MSG_DONTWAIT : 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
        if (n < 0) {  // nothing yet: wait a little off the socket's lock, which the writer needs
#if defined(__x86_64__) || defined(__i386__)
          for (int k = 0; k < 2000; ++k)
            __builtin_ia32_pause();
#else
          std::this_thread::yield();
#endif
        }
      }
    });
  }
  ~LoopbackSink() {
    ::shutdown(client_, SHUT_RDWR);
    ::close(client_);
    drain_.join();
    ::close(server_);
    ::close(listen_);
    if (pinned_) (void)pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }
  void Write(const std::string& s) const {
    const ssize_t n = ::send(client_, s.data(), s.size(), MSG_NOSIGNAL);
    benchmark::DoNotOptimize(n);
  }

 private:
  static void Pin(pthread_t t, int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)pthread_setaffinity_np(t, sizeof one, &one);
  }

  int listen_ = -1, client_ = -1, server_ = -1;
  cpu_set_t saved_{};
  bool pinned_ = false;
  std::thread drain_;
};

/// Where a tick's frame comes from: as the stream's read returns a websocket frame, each frame is
/// written to a local socket and read back before the clock starts. (A loop that went straight
/// from one tick's socket writes to the next tick would time the kernel's leftover network work
/// from the last write; a live session's thread blocks in a read between frames.)
class FrameFeed {
 public:
  FrameFeed() { ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_); }
  ~FrameFeed() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  FrameFeed(const FrameFeed&) = delete;
  FrameFeed& operator=(const FrameFeed&) = delete;
  /// `frame`, after a trip through the socket.
  const std::string& Next(const std::string& frame) {
    buf_.resize(frame.size());
    std::size_t got = 0;
    if (::write(fds_[0], frame.data(), frame.size()) == static_cast<ssize_t>(frame.size())) {
      while (got < frame.size()) {
        const ssize_t n = ::read(fds_[1], buf_.data() + got, frame.size() - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
    }
    if (got != frame.size()) buf_ = frame;  // (never: a local socket of a few hundred bytes)
    return buf_;
  }

 private:
  int fds_[2] = {-1, -1};
  std::string buf_;
};

/// The venue's send path: the order's request bytes go to the socket. While `fill_at_once`, the
/// order then fills at its reference price (so the ledger holds what was bought).
class SocketVenue final : public Venue {
 public:
  explicit SocketVenue(const LoopbackSink& sink, const std::vector<std::string>& symbols,
                       bool fill_at_once = false)
      : sink_(sink), symbols_(symbols), fill_at_once_(fill_at_once) {}
  void SetListener(VenueListener* l) override { listener_ = l; }
  void Submit(const Order& o) override {
    const std::string body = alpaca::OrderBody(alpaca::OrderRequest{
        symbols_[o.symbol], std::string(ToString(o.side)), o.quantity,
        fmt::format("bl0123abcd-20260714-{}-{}", o.decision, symbols_[o.symbol]), "day"});
    request_.clear();
    fmt::format_to(std::back_inserter(request_),
                   "POST /v2/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAPCA-API-KEY-ID: PKBENCH\r\n"
                   "APCA-API-SECRET-KEY: bench\r\nContent-Type: application/json\r\n"
                   "Content-Length: {}\r\n\r\n{}",
                   body.size(), body);
    if (first_ready == Steady::time_point{}) first_ready = Steady::now();
    sink_.Write(request_);
    if (first_written == Steady::time_point{}) first_written = Steady::now();
    if (fill_at_once_ && listener_ != nullptr) {
      listener_->OnFill(
          Fill{o.id, o.symbol, o.side, o.quantity, o.reference_price, 0.0, 0.0, o.created, {}});
    }
  }
  void Cancel(OrderId, std::string_view) override {}
  void OnSliceOpen(std::size_t) override {}
  void OnSliceClose(std::size_t) override {}
  [[nodiscard]] std::size_t RequestBytes() const noexcept { return request_.size(); }
  Steady::time_point first_ready{};    ///< the first request's bytes built, before the write
  Steady::time_point first_written{};  ///< and written to the socket

 private:
  const LoopbackSink& sink_;
  const std::vector<std::string>& symbols_;
  VenueListener* listener_ = nullptr;

 public:
  bool fill_at_once_;

 private:
  std::string request_;
};

/// p50 / p99 / max of the per-iteration latencies, as counters in microseconds; and the p50 /
/// p99 of the part before the socket write (`ready`: the request built, the write not begun).
void ReportLatencies(benchmark::State& state, std::vector<double>& us, std::vector<double>& ready) {
  auto q = [](std::vector<double>& v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
  };
  state.counters["p50_us"] = q(us, 0.50);
  state.counters["p99_us"] = q(us, 0.99);
  state.counters["max_us"] = us.back();
  state.counters["ready_p50_us"] = q(ready, 0.50);
  state.counters["ready_p99_us"] = q(ready, 0.99);
}

// The heap faulted in as a live service does at start (live.prefault_mb, its default 64 MiB).
void PrefaultAsTheService() {
  static const bool done = live::detail::PrefaultHeap(std::size_t{64} << 20);
  (void)done;
}

void BM_TickToOrder(benchmark::State& state) {
  PrefaultAsTheService();
  const std::vector<std::string> symbols{"SPY", "AGG"};
  auto doc = ConfigDocument::FromText(
      R"({"data": {"store": "none.h5"}, "strategy": {"type": "calendar", "frequency": "daily",
          "targets": {"SPY": 0.6, "AGG": 0.4}}})",
      "bench.json");
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  const auto cfg = backtests::ParseBacktestConfig(doc, reg);
  BarPanel panel(symbols);
  panel.Reserve(static_cast<std::size_t>(state.max_iterations) + 16);
  DataSessions sessions({});
  SimClock clock;
  Ledger ledger(2, 100000.0);
  RunRecord record;
  record.events_enabled = false;
  record.weights_enabled = false;
  LoopbackSink sink;
  SocketVenue venue(sink, symbols);
  OrderManager orders(venue, ledger, record, symbols, "bench");
  Planner planner(backtests::MakePlannerOptions(cfg));
  RiskGate risk(0.0, cfg.commission);
  auto strategy = cfg.strategy.make();
  Kernel kernel(
      KernelParts{panel, sessions, clock, *strategy, planner, risk, venue, orders, ledger, record},
      KernelOptions{2, -1, false, 0});
  // Frames as the data stream sends them (one minute bar each), prepared up front.
  std::vector<std::string> frames;
  for (int i = 0; i < 64; ++i) {
    frames.push_back(fmt::format(
        R"([{{"T":"b","S":"SPY","o":500.1,"h":501.2,"l":499.8,"c":{},"v":8547,"t":"2026-07-14T15:{:02}:00Z","n":66,"vw":500.2}}])",
        500.0 + i * 0.01, i % 60));
  }
  FrameFeed feed;
  std::vector<alpaca::DataMessage> batch;
  alpaca::ParseError error;
  std::vector<double> us, ready;
  us.reserve(static_cast<std::size_t>(state.max_iterations));
  ready.reserve(static_cast<std::size_t>(state.max_iterations));
  Timestamp ts = DayToTimestamp(*ParseIsoDate("2000-01-03"));
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& frame = feed.Next(frames[i++ % frames.size()]);
    venue.first_written = venue.first_ready = {};
    const auto t0 = Steady::now();
    alpaca::ParseDataFrame(frame, batch, error);
    ts += kNanosPerDay;  // one slice per tick (a daily schedule trades on every slice)
    const std::size_t row = panel.AppendRow(ts);
    for (const auto& m : batch) {
      const auto col = panel.IndexOf(m.bar.symbol);
      panel.SetBar(row, static_cast<std::size_t>(col), m.bar.open, m.bar.high, m.bar.low,
                   m.bar.close, m.bar.volume);
    }
    panel.SetBar(row, 1, 100, 100, 100, 100, 0);
    kernel.OnSlice(row);
    us.push_back(std::chrono::duration<double, std::micro>(venue.first_written - t0).count());
    ready.push_back(std::chrono::duration<double, std::micro>(venue.first_ready - t0).count());
  }
  ReportLatencies(state, us, ready);
}
BENCHMARK(BM_TickToOrder)->Iterations(20000)->Unit(benchmark::kMicrosecond);

/// The kernel as the live session's EventSource feeds it between checks.
struct KernelSink final : SliceSink {
  Kernel* kernel = nullptr;
  void OnSlice(std::size_t row) override { kernel->OnSlice(row); }
  void OnSourceEnd() override {}
};

// The path a live service runs between its checks: a market-data frame is parsed, its minute
// bar goes into today's stream bars, the LiveSource's watch slice writes them over today's panel
// row (posted on the io_context, run here), the kernel's slice has a threshold strategy recheck
// its bands, and the rebalance's first order request is written to a loopback socket. The day's
// allocation fills; later orders do not (live, fills arrive later on the trade stream), so SPY
// 40 % and 41 % above it in turn is a breach at every slice. Events are built as live (the
// drift check, the rebalance). The session's journal commit before sending (SQLite,
// synchronous=FULL) is not included.
void BM_StreamBarToOrder(benchmark::State& state) {
  PrefaultAsTheService();
  const std::vector<std::string> symbols{"SPY", "AGG"};
  auto doc = ConfigDocument::FromText(
      R"({"data": {"store": "none.h5"}, "strategy": {"type": "threshold", "check": "daily",
          "band": {"absolute": 0.05}, "targets": {"SPY": 0.6, "AGG": 0.4}}})",
      "bench.json");
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  const auto cfg = backtests::ParseBacktestConfig(doc, reg);
  const Days day = *ParseIsoDate("2026-07-14");
  auto panel = std::make_shared<BarPanel>(symbols);
  const std::size_t row = panel->AppendRow(DayToTimestamp(day));
  panel->SetBar(row, 0, 100, 100, 100, 100, 1000);
  panel->SetBar(row, 1, 100, 100, 100, 100, 1000);
  DataSessions sessions({day});
  SimClock kernel_clock;
  SimClock clock;  // the session's: one second per tick from 09:30 New York
  clock.AdvanceTo(live::NyLocalToUtc(day, 570));
  Ledger ledger(2, 100000.0);
  RunRecord record;  // events on, as a live session keeps them (it drains them every cycle)
  record.weights_enabled = false;
  LoopbackSink sink;
  SocketVenue venue(sink, symbols, /*fill_at_once=*/true);
  OrderManager orders(venue, ledger, record, symbols, "bench");
  Planner planner(backtests::MakePlannerOptions(cfg));
  RiskGate risk(0.0, cfg.commission);
  auto strategy = cfg.strategy.make();
  Kernel kernel(KernelParts{*panel, sessions, kernel_clock, *strategy, planner, risk, venue, orders,
                            ledger, record},
                KernelOptions{2, -1, false, 0});
  boost::asio::io_context io;
  live::detail::LiveSource source(clock, 1.0, [] { return true; });
  KernelSink to_kernel;
  to_kernel.kernel = &kernel;
  source.SetPanel(panel);
  source.Start(io, to_kernel);
  source.Check(row);  // the day's check: the first allocation, and the bands to watch
  venue.fill_at_once_ = false;
  // Frames as the data stream sends them, prepared up front: updated bars of one minute (Alpaca
  // re-sends a minute when late trades change it), SPY at 140 and 141 in turn.
  std::vector<std::string> frames;
  for (const double px : {140.0, 141.0}) {
    frames.push_back(fmt::format(
        R"([{{"T":"u","S":"SPY","o":{0},"h":{0},"l":{0},"c":{0},"v":8547,"t":"{1}","n":66,"vw":{0}}}])",
        px, alpaca::FormatRfc3339(live::NyLocalToUtc(day, 600))));
  }
  FrameFeed feed;
  std::vector<alpaca::DataMessage> batch;
  alpaca::ParseError error;
  std::vector<double> us, ready;
  us.reserve(static_cast<std::size_t>(state.max_iterations));
  ready.reserve(static_cast<std::size_t>(state.max_iterations));
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& frame = feed.Next(frames[i++ % frames.size()]);
    clock.AdvanceTo(clock.Now() + 1'000'000'000LL);
    venue.first_written = venue.first_ready = {};
    const auto t0 = Steady::now();
    alpaca::ParseDataFrame(frame, batch, error);
    for (const auto& m : batch) {
      source.Today().Add(live::detail::TodayBars::Kind::kUpdatedMinute,
                         broker::DailyBar{m.bar.symbol, m.bar.t, m.bar.open, m.bar.high, m.bar.low,
                                          m.bar.close, m.bar.volume});
    }
    source.OnStreamBar();
    io.restart();
    io.poll();
    us.push_back(std::chrono::duration<double, std::micro>(venue.first_written - t0).count());
    ready.push_back(std::chrono::duration<double, std::micro>(venue.first_ready - t0).count());
    record.events.clear();
    record.trades.clear();
  }
  if (venue.first_written == Steady::time_point{})
    state.SkipWithError("the last tick sent nothing");
  ReportLatencies(state, us, ready);
  state.counters["slices"] = static_cast<double>(source.WatchSlices());
  state.counters["request_bytes"] = static_cast<double>(venue.RequestBytes());
}
BENCHMARK(BM_StreamBarToOrder)->Iterations(20000)->Unit(benchmark::kMicrosecond);

// The machine's share of the figures above: the same socket write alone (an order request of the
// same size to the same kind of loopback sink), and a fixed computation as long as the kernel's
// part of a tick. Their tails are what the host (a virtual machine's interrupts and preemption,
// the drain thread sharing two cores) adds to any path of that length.
void BM_LoopbackSendAlone(benchmark::State& state) {
  LoopbackSink sink;
  const std::string request(282, 'x');  // BM_StreamBarToOrder's request_bytes
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto t0 = Steady::now();
    sink.Write(request);
    us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
  }
  std::vector<double> none(us);
  ReportLatencies(state, us, none);
}
BENCHMARK(BM_LoopbackSendAlone)->Iterations(20000)->Unit(benchmark::kMicrosecond);

/// A fixed computation (a dependent chain of square roots, about as long as the kernel's part of
/// a tick); with `state.range(0)`, each iteration then writes a request to a loopback sink, not
/// timed, and goes straight on to the next (no FrameFeed): the computation's tail is then the
/// kernel's network work left over from the last write.
void BM_FixedWork(benchmark::State& state) {
  std::optional<LoopbackSink> sink;
  if (state.range(0) != 0) sink.emplace();
  const std::string request(282, 'x');
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto t0 = Steady::now();
    double x = 1.0;
    for (int k = 0; k < 400; ++k)
      x = std::sqrt(x + k);
    benchmark::DoNotOptimize(x);
    us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
    if (sink) sink->Write(request);
  }
  std::vector<double> none(us);
  ReportLatencies(state, us, none);
}
BENCHMARK(BM_FixedWork)
    ->ArgName("sends")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(20000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ballast
