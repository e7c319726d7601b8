// Alpaca's websockets as a session runs them: on threads of their own (a REST call that waits on
// the session's thread does not stall them, and updates reach the listener on the session's
// io_context), and timed by the session's clock. Against the loopback fake over real HTTP and
// WebSocket sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ballast/adapters/alpaca/alpaca_broker.hpp"
#include "ballast/adapters/alpaca/io_thread.hpp"
#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/live/time_ny.hpp"
#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"

namespace ballast {
namespace {

using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

struct Listener final : broker::BrokerListener {
  std::thread::id session_thread = std::this_thread::get_id();
  bool ready = false;
  bool on_session_thread = true;
  std::vector<broker::OrderUpdate> updates;
  void Check() {
    on_session_thread = on_session_thread && std::this_thread::get_id() == session_thread;
  }
  void OnUpdatesReady(bool) override {
    Check();
    ready = true;
  }
  void OnUpdatesDown() override { Check(); }
  void OnOrderUpdate(const broker::OrderUpdate& u) override {
    Check();
    updates.push_back(u);
  }
  void OnBrokerEvent(std::string_view, const std::string&) override { Check(); }
  void OnBrokerFatal(const std::string&) override { Check(); }
};

/// Runs `io` until `done()` or a generous bound; true when done.
template <class F>
bool RunUntil(boost::asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(AlpacaStreams, TradeUpdatesAreReadWhileARestCallWaitsAndHandledOnTheSessionThread) {
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.hold_fills = true;
  FakeAlpaca fake(o);
  const std::string ws = "ws://127.0.0.1:" + std::to_string(fake.Port());
  alpaca::Endpoints e;
  e.trading_url = e.data_url = fake.HttpUrl();
  e.trading_stream_url = ws + "/stream";
  e.data_stream_url = ws + "/v2/test";
  boost::asio::io_context io;
  WallClock clock(io);
  alpaca::AlpacaBroker broker(io, clock, e, alpaca::Credentials{o.key_id, o.secret});
  Listener listener;
  broker.StartUpdates(listener);
  ASSERT_TRUE(RunUntil(io, [&] { return listener.ready; }));

  broker::OrderRequest r;
  r.client_order_id = "threads-1";
  r.symbol = "SPY";
  r.qty = 1.0;
  ASSERT_EQ(broker.Place(r).kind, broker::PlaceResult::Kind::kAccepted);
  ASSERT_TRUE(RunUntil(io, [&] { return !listener.updates.empty(); }));  // "new"
  const std::uint64_t before = broker.GetStats().update_messages;

  // GET /v2/account now waits at the server. While this thread waits in it, the fill is
  // published; the stream must read it meanwhile (its message count moves), and only then is
  // the account call let go. A stream on this thread could not read it until the call returns.
  fake.HoldAccount();
  std::atomic<bool> read_while_waiting = false;
  std::thread helper([&] {
    if (!fake.WaitForHeldAccount(std::chrono::seconds(30))) return fake.ReleaseAccount();
    fake.ReleaseFills();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (broker.GetStats().update_messages > before) {
        read_while_waiting = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    fake.ReleaseAccount();
  });
  const auto account = broker.GetAccount();
  helper.join();
  EXPECT_TRUE(read_while_waiting);
  EXPECT_GT(account.equity, 0.0);
  // The fill reaches the listener on this thread, when this thread runs the io_context.
  ASSERT_TRUE(RunUntil(io, [&] {
    return !listener.updates.empty() &&
           listener.updates.back().phase == broker::OrderPhase::kFilled;
  }));
  EXPECT_TRUE(listener.on_session_thread);
  broker.StopUpdates();
}

/// A clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  std::atomic<Timestamp> now{DayToTimestamp(*ParseIsoDate("2026-07-14")) + 19 * 3600'000'000'000LL};
  [[nodiscard]] Timestamp Now() const override { return now.load(); }
  void ScheduleAt(Timestamp, std::function<void()>) override {}
  void FireDue(Timestamp) override {}
};

TEST(AlpacaStreams, TheStaleDataWatchdogKeepsTheSessionsTimeNotTheSystems) {
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  alpaca::Endpoints e;
  e.data_stream_url = "ws://127.0.0.1:" + std::to_string(fake.Port()) + "/v2/test";
  ManualClock clock;
  std::atomic<int> data = 0;
  alpaca::IoThread thread;
  alpaca::DataStream stream(
      thread.Io(), clock, e, alpaca::Credentials{o.key_id, o.secret}, {"SPY", "AGG"},
      alpaca::DataStream::Handlers{
          {}, [&](const alpaca::DataMessage&) { ++data; }, {}, {}, [] { return true; }},
      alpaca::StreamOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(30'000),
                            std::chrono::milliseconds(10'000), std::chrono::milliseconds(400)});
  thread.Run([&] { stream.Start(); });
  auto wait_for = [](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return data.load() > 0; }));  // the fake's bars, then silence
  EXPECT_EQ(stream.LastData(), clock.Now());               // stamped by the session's clock
  // The session's clock stands still: however long the system clock runs on (here three stale
  // periods of 400 ms, checked every 100 ms), no data is overdue. Load can only delay the
  // watchdog, never make it fire, so this wait cannot fail spuriously.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(fake.DataStreamConnections(), 1);
  clock.now += 1'000'000'000;  // a second of the session's time: the data is stale
  EXPECT_TRUE(wait_for([&] { return fake.DataStreamConnections() >= 2; }));
  thread.Run([&] { stream.Stop(); });
  thread.Join();
}

TEST(AlpacaStreams, ARateLimitResetIsReadOnTheBrokersClock) {
  // The fake's clock starts at 15:45 New York on its last bar's day and runs on; its
  // X-Ratelimit-Reset is a second after its now. A client keeping the broker's time waits that
  // second; one reading the system clock (months away from the fake's) would not wait at all.
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.rate_limit_first = 1;
  FakeAlpaca fake(o);
  ManualClock clock;
  clock.now = live::NyLocalToUtc(*ParseIsoDate("2026-07-14"), 15 * 60 + 45);
  alpaca::Endpoints e;
  e.trading_url = e.data_url = fake.HttpUrl();
  std::vector<std::string> events;
  alpaca::Rest rest(clock, e, alpaca::Credentials{o.key_id, o.secret},
                    [&](std::string_view kind, const std::string& detail) {
                      events.push_back(std::string(kind) + ": " + detail);
                    });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_GT(rest.GetAccount().cash, 0.0);
  // A lower bound on a wait: load can only make it longer.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("429, waiting 1.0 s"), std::string::npos) << events[0];
}

}  // namespace
}  // namespace ballast
