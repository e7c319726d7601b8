// The live safety bugs of issue 14, one test each, against the loopback fake Alpaca with the
// real binary. Each reproduces a run that did the wrong thing before the fix.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

// Trade stream refused for the whole run, and a cycle that gives up on it after 1 s: the
// decision is journaled and its orders kept, unsent (state "planned").
constexpr const char* kShortStreamWindow = R"(, "stream_connect_seconds": 1)";

testkit::CliResult DeferredRun(const std::string& cfg, const std::string& out) {
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.refuse_trade_stream = -1;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  auto r = Live(cfg, out);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(fake.Posts(), 0u);
  return r;
}

std::string LastCycleState(const std::string& out) {
  const auto rows = Query(out + "/journal.sqlite",
                          "SELECT state FROM cycles WHERE state != 'dry_run' ORDER BY id DESC "
                          "LIMIT 1");
  return rows.empty() ? "" : rows[0][0];
}

// Bug 1: the kill switch was bypassed when an interrupted cycle was resumed.
TEST(LiveSafety, KillSwitchStopsAResumedCycle) {
  testkit::TempDir dir;
  const std::string cfg =
      Config(dir, std::string(kShortStreamWindow) + R"(, "risk": {"kill_switch_file": "STOP"})");
  DeferredRun(cfg, dir / "s");
  ASSERT_EQ(LastCycleState(dir / "s"), "planned");
  testkit::WriteFile(dir.path() / "STOP", "");
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(cfg, dir / "s");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(fake.Posts(), 0u);
  const std::string events = testkit::ReadFile(dir / "s/events.jsonl");
  EXPECT_NE(events.find(R"("type":"risk_denied")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("reason":"kill_switch")"), std::string::npos);
}

// Bug 2: a --dry-run after an interrupted cycle marked the day's cycle done (and a dry run alone
// marked the day decided), so the real run sent nothing.
TEST(LiveSafety, DryRunsChangeNothingTheRealRunNeeds) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir, kShortStreamWindow);
  DeferredRun(cfg, dir / "s");
  {
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto dry = Live(cfg, dir / "s", {"--dry-run"});
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(LastCycleState(dir / "s"), "planned");
    const auto real = Live(cfg, dir / "s");
    EXPECT_EQ(real.exit_code, 0) << real.err;
    EXPECT_EQ(fake.Orders().size(), 2u);
  }
  // A dry run first on a fresh session, then the real run the same day.
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  EXPECT_EQ(Live(cfg, dir / "fresh", {"--dry-run"}).exit_code, 0);
  EXPECT_EQ(fake.Posts(), 0u);
  const auto real = Live(cfg, dir / "fresh");
  EXPECT_EQ(real.exit_code, 0) << real.err;
  EXPECT_EQ(fake.Orders().size(), 2u) << testkit::ReadFile(dir / "fresh/events.jsonl");
}

// Bug 3: fills seen by the stream, a poll and a lookup were booked under different keys: a
// lost-reply run journaled four fill rows for two executions.
TEST(LiveSafety, EachExecutionIsBookedOnce) {
  for (const int lag : {0, 1, 2}) {
    SCOPED_TRACE(lag);
    testkit::TempDir dir;
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    o.lose_post_replies = 1;
    o.lookup_lag = lag;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(Config(dir), dir / "s");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Two orders, one execution each: two rows, and each order's booked quantity is the
    // broker's.
    const auto fills = Query(dir / "s/journal.sqlite", "SELECT client_order_id FROM fills");
    EXPECT_EQ(fills.size(), 2u);
    for (const auto& v : fake.Orders()) {
      const auto q =
          Query(dir / "s/journal.sqlite",
                "SELECT SUM(qty) FROM fills WHERE client_order_id = '" + v.client_order_id + "'");
      EXPECT_NEAR(std::stod(q[0][0]), v.filled_qty, 1e-9) << v.symbol;
    }
  }
}

// Bug 4: with the kill switch on and no cancel confirmation, the service sent ~90 cancel
// requests in 5 s.
TEST(LiveSafety, KillSwitchAsksToCancelEachOrderOnce) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.hold_fills = true;
  o.ignore_cancels = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string cfg = Config(dir, R"(, "risk": {"kill_switch_file": "STOP"})");
  const int pid = testkit::SpawnCli(
      {"live", cfg, "--paper", "--force", "--fill-timeout", "1", "--out", dir / "svc"},
      dir / "svc.log");
  ASSERT_TRUE(fake.WaitForOrders(2, std::chrono::seconds(60)));
  testkit::WriteFile(dir.path() / "STOP", "");
  for (int i = 0; i < 600 && fake.Cancels() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(fake.Cancels(), 2u) << testkit::ReadFile(dir / "svc.log.err");
  // The service checks the kill switch ten times a second: over the next 1.5 s (an observation
  // window, not a wait) it must not ask again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(fake.Cancels(), 2u);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(testkit::WaitCli(pid), 0);
}

// Bug 5: --once sent market orders while the market was closed (the clock's is_open was parsed
// and never read).
TEST(LiveSafety, NothingIsSentWhileTheMarketIsClosed) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  {
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    o.market_open = false;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    for (const bool force : {false, true}) {
      const auto r = Live(cfg, dir / "s",
                          force ? std::vector<std::string>{"--force"} : std::vector<std::string>{});
      EXPECT_EQ(r.exit_code, 5) << r.err;
      EXPECT_NE(r.err.find("market closed"), std::string::npos) << r.err;
    }
    EXPECT_EQ(fake.Posts(), 0u);
  }
  // Nothing was decided: the same day in market hours decides and sends.
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  EXPECT_EQ(Live(cfg, dir / "s").exit_code, 0);
  EXPECT_EQ(fake.Orders().size(), 2u);
}

// Bug 6: a {"T":"success","msg":"connected"} greeting on the trade stream read as a refusal.
TEST(LiveSafety, TradeStreamGreetingIsNotARefusal) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.greet_trade_stream = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Orders().size(), 2u);
}

// Bug 7: an order found under our client order id was adopted without comparing it, and two
// journals of one portfolio made the same ids.
TEST(LiveSafety, AnotherOrderUnderOurIdIsNeverAdopted) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string cfg = Config(dir);
  // A copy of a journal (same id scope and cycle count), then the original trades 60/40.
  ASSERT_EQ(Live(cfg, dir / "a", {"--dry-run"}).exit_code, 0);
  fs::create_directories(dir.path() / "b");
  fs::copy_file(dir.path() / "a/journal.sqlite", dir.path() / "b/journal.sqlite");
  ASSERT_EQ(Live(cfg, dir / "a").exit_code, 0);
  ASSERT_EQ(fake.Posts(), 2u);
  // The copy decides 50/50 with the same ids: the broker's orders under them are different.
  const std::string other = dir / "other.json";
  json c = json::parse(testkit::ReadFile(cfg));
  c["strategy"]["targets"] = {{"SPY", 0.5}, {"AGG", 0.5}};
  testkit::WriteFile(other, c.dump());
  const auto r = Live(other, dir / "b", {"--force"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(fake.Posts(), 2u);
  EXPECT_NE(testkit::ReadFile(dir / "b/events.jsonl")
                .find("client order id taken at the broker by a different order"),
            std::string::npos);
  // A separate journal draws its own id scope: its orders are new ones.
  const auto fresh = Live(other, dir / "c", {"--force"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_GT(fake.Posts(), 2u);
}

// Bug 8: a fill recovered by a poll was priced at the order's cumulative average, not at the
// price of the quantity it adds.
TEST(LiveSafety, PolledFillsArePricedByTheirOwnQuantity) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.partial_fills = true;
  o.second_fill_premium = 0.01;
  o.drop_trade_stream_after = 2;  // the first order's "fill" update is lost: a poll finds it
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& v : fake.Orders()) {
    const auto q = Query(dir / "s/journal.sqlite",
                         "SELECT SUM(qty), SUM(qty * price) FROM fills WHERE client_order_id = '" +
                             v.client_order_id + "'");
    EXPECT_NEAR(std::stod(q[0][0]), v.filled_qty, 1e-9) << v.symbol;
    // The booked notional is the broker's: average x quantity.
    EXPECT_NEAR(std::stod(q[0][1]), v.filled_qty * v.filled_avg_price, 1e-6) << v.symbol;
  }
  EXPECT_NE(testkit::ReadFile(dir / "s/events.jsonl").find("\"trade_stream_ready\""),
            std::string::npos);
}

// Bug 9: sells and buys went out together; Alpaca counts no unfilled sell as buying power.
TEST(LiveSafety, BuysWaitForTheSellsThatFundThem) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.cash = 0.0;
  o.positions = {{"SPY", 100000.0 / o.bars[0].close.back()}};
  o.strict_buying_power = true;
  o.hold_fills = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const int pid = testkit::SpawnCli({"live", Config(dir), "--paper", "--once", "--out", dir / "s"},
                                    dir / "s.log");
  ASSERT_TRUE(fake.WaitForOrders(1, std::chrono::seconds(60)));
  EXPECT_EQ(fake.Orders()[0].side, "sell");
  // The buy waits for the sell's fill: over a second (an observation window, not a wait for a
  // condition) nothing else is posted.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(fake.Posts(), 1u);
  fake.ReleaseFills();
  ASSERT_TRUE(fake.WaitForOrders(2, std::chrono::seconds(60)))
      << testkit::ReadFile(dir / "s.log.err");
  EXPECT_EQ(fake.Orders()[1].side, "buy");
  fake.ReleaseFills();
  EXPECT_EQ(testkit::WaitCli(pid), 0) << testkit::ReadFile(dir / "s.log.err");
  EXPECT_EQ(fake.Posts(), 2u);  // no refused buy
}

// Bug 10 (carry): a deferred decision was counted as the month's rebalance; the next session
// found it "already decided" and the month went without one.
TEST(LiveSafety, ADecisionNeverSentIsDecidedAgainNextSession) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir, kShortStreamWindow);
  double cash = 100000.0;
  std::map<std::string, double> positions;
  auto run = [&](const char* day, int refuse) {
    FakeAlpacaOptions o;
    o.bars = Bars(day);
    o.refuse_trade_stream = refuse;
    if (std::string(day) > "2026-06-30") {
      o.cash = cash;
      o.positions = positions;
    }
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(cfg, dir / "s");
    cash = fake.Cash();
    positions = fake.Positions();
    return std::pair{r, fake.Posts()};
  };
  auto [june, june_posts] = run("2026-06-30", 0);  // June's rebalance (the first allocation)
  ASSERT_EQ(june.exit_code, 0) << june.err;
  ASSERT_EQ(june_posts, 2u);
  auto [first, first_posts] = run("2026-07-01", -1);  // July's: decided, never sent
  EXPECT_EQ(first.exit_code, 5) << first.err;
  EXPECT_EQ(first_posts, 0u);
  auto [second, second_posts] = run("2026-07-02", 0);  // carried: July's rebalance now
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_GE(second_posts, 1u) << testkit::ReadFile(dir / "s/events.jsonl");
  EXPECT_NE(testkit::ReadFile(dir / "s/events.jsonl").find("\"rebalance_carried\""),
            std::string::npos);
}

// Bug 10 (retry): in service mode a deferred cycle was never retried that day.
TEST(LiveSafety, ServiceRetriesADeferredCycleWithinTheSession) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.refuse_trade_stream = 3;  // up after three refused connections (about 3.5 s of backoff)
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string cfg = Config(dir, R"(, "stream_connect_seconds": 1, "retry_seconds": 1)");
  const int pid = testkit::SpawnCli(
      {"live", cfg, "--paper", "--force", "--fill-timeout", "5", "--out", dir / "svc"},
      dir / "svc.log");
  EXPECT_TRUE(fake.WaitForOrders(2, std::chrono::seconds(60)))
      << testkit::ReadFile(dir / "svc.log.err");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(testkit::WaitCli(pid), 0)
      << testkit::ReadFile(dir / "svc.log.err") << testkit::ReadFile(dir / "svc.log");
  const std::string events = testkit::ReadFile(dir / "svc/events.jsonl");
  EXPECT_NE(events.find("\"cycle_deferred\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"cycle_retry_scheduled\""), std::string::npos);
}

// Bug 11: the bundled example paper config's risk limits denied its own first order.
TEST(LiveSafety, TheExamplePaperConfigPlacesItsFirstOrders) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.strict_buying_power = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live((testkit::SourceDir() / "configs/live/sixty-forty-paper.json").string(),
                      dir / "s", {"--set", "data.store=" + testkit::SampleStore()});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.out.find("DENIED"), std::string::npos) << r.out;
  EXPECT_EQ(fake.Orders().size(), 2u);
}

// Bug 12: a full investment of a fresh account left its last buy refused for 4e-8 over the
// cash; quantities are rounded down to 9 decimals, a cash buffer is kept, and a buying-power
// refusal is resized and sent once more.
TEST(LiveSafety, AFullInvestmentFitsTheBrokersBuyingPower) {
  const auto bars = Bars("2026-07-14", {"SPY", "AGG", "GLD"});
  auto config = [](const testkit::TempDir& d, const std::string& buffer) {
    json c = json::parse(testkit::ReadFile(Config(d, buffer)));
    c["strategy"]["targets"] = {{"SPY", 0.6}, {"AGG", 0.3}, {"GLD", 0.1}};
    testkit::WriteFile(d.path() / "603010.json", c.dump());
    return d / "603010.json";
  };
  {
    // The default buffer (0.2 % of equity): everything fits, some cash stays.
    testkit::TempDir dir;
    FakeAlpacaOptions o;
    o.bars = bars;
    o.strict_buying_power = true;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(config(dir, R"(, "cash_buffer": 0.002)"), dir / "s");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(fake.Orders().size(), 3u);
    EXPECT_GE(fake.Cash(), 0.0);
    EXPECT_LT(fake.Cash(), 0.003 * 100000);
  }
  // No buffer, and a broker that keeps 0.1 % of cash back: the last buy is refused, resized to
  // the account's buying power and sent again.
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = bars;
  o.strict_buying_power = true;
  o.buying_power_haircut = 0.001;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(config(dir, R"(, "cash_buffer": 0)"), dir / "s");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Orders().size(), 3u);
  EXPECT_EQ(fake.Posts(), 4u);  // one refused, resized, accepted
  EXPECT_NE(testkit::ReadFile(dir / "s/events.jsonl").find("\"order_resized\""), std::string::npos);
}

// Bug 13: the rerun of a rebalanced day sent dust orders (4.7e-10 shares) the broker refused.
TEST(LiveSafety, NoDustOrders) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14", {"SPY", "AGG", "GLD"});
  o.strict_buying_power = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  json c = json::parse(testkit::ReadFile(Config(dir)));
  c["strategy"]["targets"] = {{"SPY", 0.6}, {"AGG", 0.3}, {"GLD", 0.1}};
  testkit::WriteFile(dir.path() / "p.json", c.dump());
  ASSERT_EQ(Live(dir / "p.json", dir / "s").exit_code, 0);
  const auto posts = fake.Posts();
  const auto r = Live(dir / "p.json", dir / "s", {"--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Posts(), posts) << testkit::ReadFile(dir / "s/events.jsonl");
}

// Bug 14: --once gave up on a trade stream still backing off after about 10 s.
TEST(LiveSafety, TheTradeStreamGetsItsConnectWindow) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.refuse_trade_stream = 6;  // 0.5 + 1 + 2 + 4 + 8 + 16 s of backoff, halved at most by jitter
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s");  // default window: 60 s
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Orders().size(), 2u);
}

// Found by the replay's parity test: every cycle built a new strategy, and a threshold
// strategy's first slice buys its targets, so a daily --once run rebalanced every day whatever
// its bands said.
TEST(LiveSafety, AThresholdStrategyChecksItsBandsOnTheNextDayInsteadOfBuyingAgain) {
  testkit::TempDir dir;
  const std::string cfg = dir / "threshold.json";
  testkit::WriteFile(
      cfg, R"({"name": "Live threshold", "data": {"store": ")" + testkit::SampleStore() + R"("},
    "portfolio": {"initial_cash": 100000},
    "strategy": {"type": "threshold", "band": {"absolute": 0.05}, "targets": {"SPY": 0.6, "AGG": 0.4}},
    "live": {"fill_timeout_seconds": 10, "history_days": 30, "cash_buffer": 0}})");
  const std::string out = dir / "s";
  std::size_t day2_posts = 99;
  LiveOnDays(cfg, out, {"2026-07-13", "2026-07-14"}, 100000.0,
             [&](const char*, const FakeAlpaca& fake, const testkit::CliResult& r) {
               ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
               day2_posts = fake.Posts();
             });
  EXPECT_EQ(day2_posts, 0u) << "day two is inside the 5 % bands: nothing to trade";
  const auto cycles = Query(out + "/journal.sqlite", "SELECT state FROM cycles ORDER BY id");
  ASSERT_EQ(cycles.size(), 2u);
  EXPECT_EQ(cycles[1][0], "nothing_due");
}

}  // namespace
}  // namespace ballast
