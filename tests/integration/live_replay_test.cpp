// Paper trading on history (`ballast live --broker sim --replay`): the live service on the
// config's store, checked against `ballast backtest` of the same config (parity), without keys
// or network, paced or as fast as possible, and after a kill -9 in the middle.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::string store;  // "etfs" | "sp500"
  std::string body;   // the config after "data"
  std::string start, end;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::string WriteConfig(const testkit::TempDir& dir, const Case& c) {
  const std::string store = c.store == "sp500" ? testkit::Sp500Store() : testkit::SampleStore();
  const std::string path = dir / (c.name + ".json");
  testkit::WriteFile(path, R"({"name": ")" + c.name + R"(", "data": {"store": ")" + store +
                               R"(", "start": ")" + c.start + R"(", "end": ")" + c.end + R"("}, )" +
                               c.body + "}");
  return path;
}

bool Near(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}

/// equity.csv's first eight columns and the trades (date, symbol, side, quantity, price) of a
/// backtest and a replayed live session of the same config must agree to 1e-9.
void ExpectParity(const std::string& bt, const std::string& live) {
  const auto a = testkit::ReadCsv(bt + "/equity.csv");
  const auto b = testkit::ReadCsv(live + "/equity.csv");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 20u);
  for (std::size_t c = 0; c < 8; ++c)
    ASSERT_EQ(a[0][c], b[0][c]);
  for (std::size_t r = 1; r < a.size(); ++r) {
    ASSERT_EQ(a[r][0], b[r][0]) << "row " << r;
    for (std::size_t c = 1; c < 8; ++c) {
      const double x = a[r][c].empty() ? 0.0 : std::stod(a[r][c]);
      const double y = b[r][c].empty() ? 0.0 : std::stod(b[r][c]);
      ASSERT_TRUE(Near(x, y)) << a[0][c] << " on " << a[r][0] << ": backtest " << a[r][c]
                              << ", replay " << b[r][c];
    }
  }
  // Backtest: date,decision,client_order_id,symbol,side,quantity,price,...
  // Live: time,client_order_id,symbol,side,qty,price,source.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::pair<double, double>> bt_trades, live_trades;
  for (const auto& t : testkit::ReadCsv(bt + "/trades.csv")) {
    if (t[0] == "date") continue;
    bt_trades[{t[0], t[3], t[4]}] = {std::stod(t[5]), std::stod(t[6])};
  }
  for (const auto& t : testkit::ReadCsv(live + "/trades.csv")) {
    if (t[0] == "time") continue;
    EXPECT_EQ(t[6], "sim");
    live_trades[{t[0].substr(0, 10), t[2], t[3]}] = {std::stod(t[4]), std::stod(t[5])};
  }
  ASSERT_EQ(bt_trades.size(), live_trades.size());
  ASSERT_GT(bt_trades.size(), 0u);
  for (const auto& [k, v] : bt_trades) {
    const auto it = live_trades.find(k);
    ASSERT_NE(it, live_trades.end()) << std::get<0>(k) << " " << std::get<1>(k);
    EXPECT_TRUE(Near(v.first, it->second.first)) << std::get<0>(k) << " " << std::get<1>(k);
    EXPECT_TRUE(Near(v.second, it->second.second)) << std::get<0>(k) << " " << std::get<1>(k);
  }
}

/// No keys and no reachable broker: a replay must not need either.
void NoBroker() {
  ::unsetenv("APCA_API_KEY_ID");
  ::unsetenv("APCA_API_SECRET_KEY");
  for (const char* v : {"APCA_API_BASE_URL", "APCA_API_DATA_URL", "APCA_API_STREAM_URL",
                        "APCA_API_DATA_STREAM_URL"}) {
    ::setenv(v, "http://127.0.0.1:9", 1);
  }
}

class ReplayParity : public ::testing::TestWithParam<Case> {};

TEST_P(ReplayParity, AReplayedLiveSessionEqualsTheBacktest) {
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(dir, GetParam());
  const auto bt = testkit::RunCli({"backtest", cfg, "--out", dir / "bt"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  const auto live = testkit::RunCli(
      {"live", cfg, "--broker", "sim", "--replay", "--out", dir / "live", "--quiet"});
  ASSERT_EQ(live.exit_code, 0) << live.err << live.out;
  ExpectParity(dir / "bt", dir / "live");
}

const std::string kClose =
    R"("execution": {"fill": "close", "commission": {"model": "none"}, "slippage_bps": 0})";
const std::string kCosts =
    R"("execution": {"fill": "close", "commission": {"model": "per_share", "per_share": 0.005, "min": 1.0}, "slippage_bps": 5})";

INSTANTIATE_TEST_SUITE_P(
    Strategies, ReplayParity,
    ::testing::Values(
        Case{
            "calendar", "etfs",
            R"("portfolio": {"initial_cash": 10000}, "strategy": {"type": "calendar", "frequency": "monthly", "on": "first", "targets": {"SPY": 0.6, "AGG": 0.3, "GLD": 0.1}}, "benchmark": "SPY", )" +
                kClose,
            "2023-01-01", "2025-12-31"},
        Case{
            "threshold_whole_shares_costs", "etfs",
            R"("portfolio": {"initial_cash": 25000, "shares": "whole"}, "strategy": {"type": "threshold", "band": {"absolute": 0.05}, "targets": {"SPY": 0.4, "AAPL": 0.2, "MSFT": 0.2, "TLT": 0.2}}, "benchmark": "SPY", )" +
                kCosts,
            "2021-01-01", "2025-12-31"},
        Case{
            "calendar_limit_orders_costs", "etfs",
            R"("portfolio": {"initial_cash": 50000}, "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "AGG": 0.3, "GLD": 0.2}}, "benchmark": "SPY", "execution": {"fill": "close", "commission": {"model": "per_share", "per_share": 0.005, "min": 1.0}, "slippage_bps": 5, "order_type": "limit", "limit_offset_bps": 10})",
            "2022-01-01", "2025-12-31"},
        Case{
            "dca_contributions", "etfs",
            R"("portfolio": {"initial_cash": 5000}, "strategy": {"type": "dca", "frequency": "monthly", "investment_amount": 500, "funding": "contribution", "targets": {"SPY": 0.7, "AGG": 0.3}}, )" +
                kCosts,
            "2022-01-01", "2025-12-31"},
        Case{
            "sleeves", "etfs",
            R"("portfolio": {"initial_cash": 100000}, "strategy": {"type": "sleeves", "rebalance": "quarterly", "sleeves": [
    {"name": "stocks-bonds", "weight": 0.6, "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "TLT": 0.5}}},
    {"name": "stocks-gold", "weight": 0.4, "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "GLD": 0.5}}}]}, )" +
                kClose,
            "2022-01-01", "2025-12-31"},
        // docs/strategies.md's example: a sleeve's weights model reads the sleeve's price history,
        // which a live session's panel grows by a row a day (and revises today's row).
        Case{
            "sleeves_weights_model_threshold", "etfs",
            R"("portfolio": {"initial_cash": 100000}, "strategy": {"type": "sleeves", "rebalance": "quarterly", "lookback": 126, "sleeves": [
    {"name": "core", "weight": 0.6, "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "TLT": 0.5}}},
    {"name": "factor", "weight": 0.4, "strategy": {"type": "threshold", "band": 0.05, "universe": ["SPY", "QQQ", "EFA", "GLD"], "weights": {"model": "inverse_vol"}}}],
    "limits": {"min_weight": 0.1, "max_weight": 0.7, "max_drawdown": 0.25}, "adaptive": {"tilt": 0.5, "min_change": 0.05}}, )"
            // Netting the books leaves trades of 1e-14 shares (floating-point residue, which
            // differs with the order of additions); no broker takes them, and a $1 minimum
            // trade skips them in both runs.
            R"("execution": {"fill": "close", "commission": {"model": "none"}, "slippage_bps": 0, "min_trade_notional": 1})",
            "2021-01-01", "2025-12-31"},
        Case{
            "signal_swap", "sp500",
            R"("portfolio": {"initial_cash": 100000}, "benchmark": "SPY", "strategy": {"type": "signal_swap", "holdings": ["AAPL", "MSFT", "JNJ", "JPM", "XOM"], "watchlist": ["AMZN", "GOOGL", "V", "INTC", "PFE", "WMT"], "benchmark": "SPY", "frequency": "weekly", "min_positions": 3, "max_positions": 5, "sizing": {"risk": "medium", "max_weight": 0.3}}, )" +
                kCosts,
            "2014-01-02", "2016-12-31"}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// The README's and docs/live.md's example: the bundled config, replayed, ends where its
// backtest ends (286,210.20, the figure independent_check_test derives by hand).
TEST(LiveReplay, TheReadmeExampleEndsWhereItsBacktestEnds) {
  NoBroker();
  testkit::TempDir dir;
  const auto r = testkit::RunCli(
      {"live", (testkit::SourceDir() / "configs/portfolios/sixty-thirty-ten-monthly.json").string(),
       "--broker", "sim", "--replay", "--set", "data.store=" + testkit::SampleStore(), "--out",
       dir / "s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replay finished: 2516 sessions to 2019-12-31, 360 orders, equity "
                       "286210.20; outputs in "),
            std::string::npos)
      << r.out.substr(r.out.size() > 400 ? r.out.size() - 400 : 0);
}

TEST(LiveReplay, RefusesWhatItCannotDo) {
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(
      dir,
      Case{"c", "etfs",
           R"("strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 1.0}})",
           "2024-01-01", "2024-03-31"});
  auto expect_usage = [&](std::vector<std::string> args, const std::string& says) {
    args.insert(args.begin(), {"live", cfg});
    const auto r = testkit::RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << says << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  };
  expect_usage({"--replay"}, "--broker sim");
  expect_usage({"--broker", "sim", "--replay", "--once"}, "drop --once");
  expect_usage({"--broker", "sim", "--speed", "10"}, "--speed needs --replay");
  for (const char* bad : {"0", "-1", "fast", "1e400", "nan", "2e6"})
    expect_usage({"--broker", "sim", "--replay", "--speed", bad}, "--speed");
  EXPECT_FALSE(fs::exists("runs/replay-c"));  // nothing written for a refused command
}

TEST(LiveReplay, NeverWritesIntoADirectoryThatIsNotASession) {
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(
      dir,
      Case{"mine", "etfs",
           R"("strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 1.0}})",
           "2024-01-01", "2024-02-29"});
  const std::string user = dir / "documents";
  testkit::WriteFile(fs::path(user) / "equity.csv", "my own spreadsheet\n");
  const auto before = testkit::Listing(user);
  const auto r = testkit::RunCli({"live", cfg, "--broker", "sim", "--replay", "--out", user});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a ballast live session directory"), std::string::npos) << r.err;
  EXPECT_EQ(testkit::Listing(user), before);
  EXPECT_EQ(testkit::ReadFile(fs::path(user) / "equity.csv"), "my own spreadsheet\n");
  // A session directory it made is its own: the same command runs again in it.
  const std::string session = dir / "session";
  ASSERT_EQ(
      testkit::RunCli({"live", cfg, "--broker", "sim", "--replay", "--out", session}).exit_code, 0);
  EXPECT_TRUE(fs::exists(fs::path(session) / ".ballast-live"));
  EXPECT_EQ(
      testkit::RunCli({"live", cfg, "--broker", "sim", "--replay", "--out", session}).exit_code, 0);
}

TEST(LiveReplay, NeedsNoKeysAndRunsPacedToo) {
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(
      dir,
      Case{
          "paced", "etfs",
          R"("strategy": {"type": "calendar", "frequency": "weekly", "targets": {"SPY": 0.5, "AGG": 0.5}})",
          "2024-03-01", "2024-03-15"});
  // 11 sessions (15 calendar days) at a million times real time: a day passes in 86 ms of
  // timers on the paced clock, not in jumps.
  const auto r = testkit::RunCli(
      {"live", cfg, "--broker", "sim", "--replay", "--speed", "1000000", "--out", dir / "s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("replay finished: 11 sessions to 2024-03-15"), std::string::npos) << r.out;
  const auto cycles = testkit::SqlRows(
      dir / "s/journal.sqlite", "SELECT COUNT(*), MIN(session_day), MAX(session_day) FROM cycles");
  EXPECT_EQ(cycles[0][0], "11");
  EXPECT_EQ(cycles[0][1], "2024-03-01");
  EXPECT_EQ(cycles[0][2], "2024-03-15");
  const auto eq = testkit::ReadCsv(dir / "s/equity.csv");
  std::string dates;  // (seen once under heavy load: 11 rows; the dates say which went missing)
  for (const auto& row : eq)
    dates += row.at(0) + " ";
  EXPECT_EQ(eq.size(), 12u) << dates  // header + one row per session
                            << "\njournal equity rows: "
                            << testkit::SqlRows(dir / "s/journal.sqlite",
                                                "SELECT COUNT(*) FROM equity")[0][0];
}

TEST(LiveReplay, AResumedCycleWhoseOrdersWereNeverSentIsSentAtItsCheck) {
  // The kill -9 test's narrowest window, made certain: a process journaled a decision and its
  // planned orders, then died before sending any. The next process must keep its replayed clock
  // moving to that day's check (planned orders are not in flight) and send them there.
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(
      dir,
      Case{
          "planned", "etfs",
          R"("portfolio": {"initial_cash": 10000}, "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "AAPL": 0.25, "TLT": 0.25}}, )" +
              kCosts,
          "2020-01-01", "2020-06-30"});
  const std::vector<std::string> cmd{"live",     cfg,     "--broker", "sim",
                                     "--replay", "--out", dir / "s",  "--quiet"};
  const auto whole = testkit::RunCli(cmd);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::string journal = dir / "s/journal.sqlite";
  const auto end = testkit::ReadCsv(dir / "s/equity.csv").back();
  const auto fills = testkit::SqlRows(journal, "SELECT COUNT(*) FROM fills")[0][0];
  // Back to the moment after the last decision with orders was journaled.
  const auto last = testkit::SqlRows(journal, "SELECT MAX(cycle_id) FROM orders")[0][0];
  const std::string c = last;
  testkit::SqlExec(
      journal,
      "DELETE FROM fills WHERE client_order_id IN (SELECT client_order_id FROM orders WHERE "
      "cycle_id >= " +
          c +
          ");"
          "DELETE FROM orders WHERE cycle_id > " +
          c +
          ";"
          "UPDATE orders SET state = 'planned', status = '', broker_id = '', filled_qty = 0, "
          "avg_price = 0 WHERE cycle_id = " +
          c +
          ";"
          "DELETE FROM equity WHERE session_day >= (SELECT session_day FROM cycles WHERE id = " +
          c +
          ");"
          "DELETE FROM cycles WHERE id > " +
          c +
          ";"
          "UPDATE cycles SET state = 'planned' WHERE id = " +
          c + ";");
  fs::remove(dir.path() / "s/equity.csv");

  const auto again = testkit::RunCli(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;  // finished, not stuck before the check
  EXPECT_EQ(testkit::SqlRows(journal, "SELECT COUNT(*) FROM fills")[0][0], fills);
  EXPECT_EQ(testkit::SqlRows(journal, "SELECT state FROM cycles WHERE id = " + c)[0][0], "done");
  const auto b = testkit::ReadCsv(dir / "s/equity.csv").back();
  ASSERT_EQ(end[0], b[0]);
  EXPECT_TRUE(Near(std::stod(end[1]), std::stod(b[1]))) << end[1] << " vs " << b[1];
}

TEST(LiveReplay, KillNineThenTheSameCommandResumesToTheSameEnd) {
  NoBroker();
  testkit::TempDir dir;
  const std::string cfg = WriteConfig(
      dir,
      Case{
          "resume", "etfs",
          R"("portfolio": {"initial_cash": 10000}, "strategy": {"type": "threshold", "band": {"absolute": 0.03}, "targets": {"SPY": 0.5, "AAPL": 0.25, "TLT": 0.25}}, )" +
              kCosts,
          "2016-01-01", "2025-12-31"});
  const std::vector<std::string> whole{"live",     cfg,     "--broker",    "sim",
                                       "--replay", "--out", dir / "whole", "--quiet"};
  const auto w = testkit::RunCli(whole);
  ASSERT_EQ(w.exit_code, 0) << w.err;

  // Killed at a random point: after a random number of journaled cycles (polled, not timed).
  std::mt19937 rng(std::random_device{}());
  const int at_cycle = std::uniform_int_distribution<int>(20, 1500)(rng);
  const std::vector<std::string> cmd{"live",     cfg,     "--broker",     "sim",
                                     "--replay", "--out", dir / "killed", "--quiet"};
  const int pid = testkit::SpawnCli(cmd, dir / "run1.log");
  const std::string journal = dir / "killed/journal.sqlite";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  bool reached = false;
  while (std::chrono::steady_clock::now() < deadline && !reached) {
    try {
      reached =
          fs::exists(journal) &&
          std::stoi(testkit::SqlRows(journal, "SELECT COUNT(*) FROM cycles")[0][0]) >= at_cycle;
    } catch (const std::exception&) {
      // The journal may be mid-creation or busy: poll again.
    }
    if (!reached) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(reached) << "the replay never journaled " << at_cycle << " cycles";
  ::kill(pid, SIGKILL);
  const int status = testkit::WaitCli(pid);
  if (status == 0) GTEST_SKIP() << "the replay finished before the kill (cycle " << at_cycle << ")";
  EXPECT_EQ(status, -SIGKILL);
  const auto again = testkit::RunCli(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.err;

  auto final_row = [](const std::string& d) { return testkit::ReadCsv(d + "/equity.csv").back(); };
  const auto a = final_row(dir / "whole");
  const auto b = final_row(dir / "killed");
  ASSERT_EQ(a[0], b[0]);
  EXPECT_TRUE(Near(std::stod(a[1]), std::stod(b[1])))
      << "killed at cycle " << at_cycle << ": " << a[1] << " vs " << b[1];
  // Every order once: the same orders and fills as the uninterrupted run, none twice.
  const std::string q =
      "SELECT COUNT(*), COUNT(DISTINCT client_order_id), ROUND(SUM(qty * price), 6) FROM fills";
  const auto fa = testkit::SqlRows(dir / "whole/journal.sqlite", q);
  const auto fb = testkit::SqlRows(journal, q);
  EXPECT_EQ(fb[0][0], fb[0][1]) << "a fill booked twice";
  EXPECT_EQ(fa[0][0], fb[0][0]) << "killed at cycle " << at_cycle;
  EXPECT_EQ(fa[0][2], fb[0][2]);
}

}  // namespace
}  // namespace ballast
