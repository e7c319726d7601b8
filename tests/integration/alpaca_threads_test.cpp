// The Alpaca broker's trade stream reads on a thread of its own: a REST call that waits on the
// session's thread does not stall it, and its updates reach the listener on the session's
// io_context. Against the loopback fake over real HTTP and WebSocket sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ballast/adapters/alpaca/alpaca_broker.hpp"
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

TEST(AlpacaThreads, TradeUpdatesAreReadWhileARestCallWaitsAndHandledOnTheSessionThread) {
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
  alpaca::AlpacaBroker broker(io, e, alpaca::Credentials{o.key_id, o.secret});
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

}  // namespace
}  // namespace ballast
