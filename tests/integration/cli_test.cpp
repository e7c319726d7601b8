// The `ballast` binary as a user runs it: exit codes, one-line errors naming the key path, and no
// output written when anything is wrong.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;
using testkit::RunCli;
using testkit::TempDir;

constexpr const char* kGood = R"({
  "name": "cli test",
  "data": {"store": "STORE", "start": "2015-01-01", "end": "2016-12-31"},
  "portfolio": {"initial_cash": 50000, "shares": "whole"},
  "strategy": {"type": "calendar", "frequency": "quarterly", "on": "last",
               "targets": {"SPY": 0.7, "AGG": 0.3}},
  "execution": {"fill": "next_open", "commission": {"model": "per_share", "per_share": 0.005, "min": 1.0, "max_pct": 0.01},
                "slippage_bps": 2},
  "benchmark": "SPY"
})";

std::string WriteConfig(const TempDir& dir, std::string json) {
  json.replace(json.find("STORE"), 5, testkit::SampleStore());
  const std::string path = dir / "config.json";
  testkit::WriteFile(path, json);
  return path;
}

TEST(CliTest, BacktestWritesAllOutputsAndPrintsASummary) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);
  const auto r = RunCli({"backtest", cfg, "--out", dir / "run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cli test"), std::string::npos);
  EXPECT_NE(r.out.find("Sharpe"), std::string::npos);
  for (const char* f : {"config.json", "equity.csv", "trades.csv", "weights.csv", "events.jsonl",
                        "summary.json", "tracking.xlsx"}) {
    EXPECT_TRUE(fs::exists(dir.path() / "run" / f)) << f;
  }
  const auto equity = testkit::ReadCsv(dir.path() / "run/equity.csv");
  EXPECT_EQ(equity[0][0], "date");
  EXPECT_EQ(equity[1][0], "2015-01-02");
  // --no-workbook skips tracking.xlsx only.
  ASSERT_EQ(RunCli({"backtest", cfg, "--out", dir / "lean", "--no-workbook"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(dir.path() / "lean/tracking.xlsx"));
  EXPECT_TRUE(fs::exists(dir.path() / "lean/summary.json"));
  // Refuses to overwrite without --force; replaces with it.
  EXPECT_EQ(RunCli({"backtest", cfg, "--out", dir / "run"}).exit_code, 2);
  EXPECT_EQ(RunCli({"backtest", cfg, "--out", dir / "run", "--force"}).exit_code, 0);
}

TEST(CliTest, PassiveLimitOrdersFillSomeDaysAndExpireOthers) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);  // next_open fills, whole shares, quarterly
  const auto r = RunCli({"backtest", cfg, "--out", dir / "run", "--set",
                         "execution.order_type=limit", "--set", "execution.limit_offset_bps=-30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t expired = 0;
  std::istringstream events(testkit::ReadFile(dir.path() / "run/events.jsonl"));
  for (std::string line; std::getline(events, line);) {
    if (line.find("\"order_expired\"") == std::string::npos) continue;
    ++expired;
    EXPECT_NE(line.find("\"limit_price\":"), std::string::npos) << line;
  }
  EXPECT_GT(expired, 0u);  // 30 bps below the close is not reached every next day
  const auto trades = testkit::ReadCsv(dir.path() / "run/trades.csv");
  EXPECT_GT(trades.size(), 1u);  // ... but some days it is
  const auto market = RunCli({"backtest", cfg, "--out", dir / "market"});
  ASSERT_EQ(market.exit_code, 0) << market.err;
  EXPECT_LT(trades.size(), testkit::ReadCsv(dir.path() / "market/trades.csv").size());
}

TEST(CliTest, DefaultOutputDirectoryIsRunsNameTimestamp) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);
  const auto r = RunCli({"backtest", cfg}, dir.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> runs;
  for (const auto& e : fs::directory_iterator(dir.path() / "runs"))
    runs.push_back(e.path().filename().string());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].rfind("cli-test-", 0), 0u) << runs[0];  // slug of "cli test" + UTC timestamp
  EXPECT_EQ(runs[0].size(), std::string("cli-test-20261123-184500").size()) << runs[0];
  EXPECT_TRUE(fs::exists(dir.path() / "runs" / runs[0] / "summary.json"));
  // A second run in the same second gets its own directory rather than overwriting.
  ASSERT_EQ(RunCli({"backtest", cfg}, dir.path().string()).exit_code, 0);
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path() / "runs"))
    ++n;
  EXPECT_EQ(n, 2u);
}

// Data gaps are events the engine logs, not crashes: a session every symbol misses, a symbol
// missing a session the other trades (valued at its last close, not traded), and a bar on a
// Saturday.
TEST(CliTest, DataGapsAreLoggedAsMarketDataErrors) {
  TempDir dir;
  testkit::WriteFile(
      dir.path() / "csv/AAA.csv",
      "Date,Close\n2024-01-02,10\n2024-01-03,11\n2024-01-05,12\n2024-01-06,12.5\n2024-01-08,13\n");
  testkit::WriteFile(dir.path() / "csv/BBB.csv",
                     "Date,Close\n2024-01-02,20\n2024-01-03,21\n2024-01-08,22\n");
  ASSERT_EQ(RunCli({"data", "import", "--out", dir / "gaps.h5", dir / "csv"}).exit_code, 0);
  testkit::WriteFile(dir.path() / "gaps.json", R"({"data": {"store": "gaps.h5"},
      "strategy": {"type": "calendar", "frequency": "daily", "targets": {"AAA": 0.5, "BBB": 0.5}}})");
  const auto r = RunCli({"backtest", dir / "gaps.json", "--out", dir / "run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string events = testkit::ReadFile(dir.path() / "run/events.jsonl");
  // 2024-01-04: NYSE open, no bars at all.
  EXPECT_NE(
      events.find(R"({"date":"2024-01-04","type":"market_data_error","kind":"missing_session")"),
      std::string::npos)
      << events;
  // 2024-01-05: BBB has no bar; valued at its last close 21.
  EXPECT_NE(
      events.find(
          R"({"date":"2024-01-05","type":"market_data_error","kind":"missing_bar","symbol":"BBB","valued_at":21})"),
      std::string::npos)
      << events;
  // 2024-01-06 is a Saturday.
  EXPECT_NE(
      events.find(
          R"({"date":"2024-01-06","type":"market_data_error","kind":"bar_on_closed_day","detail":"weekend"})"),
      std::string::npos)
      << events;
  // BBB is not traded on the days it has no bar.
  for (const auto& row : testkit::ReadCsv(dir.path() / "run/trades.csv")) {
    if (row[0] == "2024-01-05" || row[0] == "2024-01-06") {
      EXPECT_NE(row[3], "BBB");
    }
  }
}

TEST(CliTest, SetOverridesAnyKeyAndIsRecordedInTheResolvedConfig) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);
  const auto r = RunCli({"backtest", cfg, "--out", dir / "run", "--set",
                         "strategy.frequency=monthly", "--set", "execution.slippage_bps=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto resolved = testkit::ReadFile(dir.path() / "run/config.json");
  EXPECT_NE(resolved.find("\"frequency\": \"monthly\""), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("\"slippage_bps\": 0"), std::string::npos) << resolved;
}

struct BadCase {
  const char* set;
  const char* expected;  // part of the one-line error
};

TEST(CliTest, ConfigErrorsExitTwoWithOneLineNamingTheKeyAndWriteNothing) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);
  const std::vector<BadCase> cases{
      {"strategy.colour=red", "strategy.colour: unknown key"},
      {"strategy.targets={\"SPY\": 60, \"AGG\": 40}", "look like percentages"},
      {"strategy.targets={\"SPY\": 1.1, \"AGG\": -0.1}",
       "strategy.targets.AGG: expected a weight >= 0"},
      {"strategy.targets={\"SPY\": 0.5, \"NOPE\": 0.5}",
       "strategy.targets.NOPE: symbol 'NOPE' is not in the store"},
      {"data.end=2014-01-01", "data.end: expected a date after data.start"},
      {"data.start=2015-13-01", "data.start: expected a date YYYY-MM-DD"},
      {"portfolio.initial_cash=\"lots\"", "portfolio.initial_cash: expected a number"},
      {"execution.fill=vwap", "execution.fill: expected one of \"close\", \"next_open\""},
      {"execution.commission.model=tiered", "execution.commission.model: expected one of"},
      {"execution.order_type=stop", "execution.order_type: expected one of \"market\", \"limit\""},
      {"execution.limit_offset_bps=5",
       "execution.limit_offset_bps: expected no limit_offset_bps unless order_type is \"limit\""},
      {"execution={\"order_type\": \"limit\", \"limit_offset_bps\": 5000}",
       "execution.limit_offset_bps: expected basis points from the last price between -1000"},
      {"strategy.type=magic", "strategy.type: expected a strategy type"},
      {"benchmark=ZZZ", "benchmark: symbol 'ZZZ' is not in the store"},
      {"data.start=2030-01-01", "data.end: expected a date after data.start"},
      {"strategy.frequency=fortnightly", "strategy.frequency: expected one of"},
      {"data.store=missing.h5", "data.store: no store at"},
      {"strategy={\"type\": \"calendar\", \"universe\": [\"SPY\"], \"weights\": {\"model\": "
       "\"max_sharp\"}}",
       "strategy.weights.model: expected one of \"equal\""},
      {"strategy={\"type\": \"calendar\", \"universe\": [\"SPY\"], \"weights\": {\"model\": "
       "\"inverse_vol\", \"risk_free_rate\": 0.02}}",
       "strategy.weights.risk_free_rate: expected risk_free_rate only with model"},
      {"strategy={\"type\": \"calendar\", \"universe\": [\"SPY\"], \"weights\": {\"model\": "
       "\"inverse_vol\", \"lookback\": \"3X\"}}",
       "strategy.weights.lookback: expected a window like"},
      {"constraints.max_weight=1.5", "constraints.max_weight: expected a fraction in (0, 1]"},
      {"constraints.leverage=2", "constraints.leverage: unknown key"},
      {"margin={\"max_leverage\": 1.5, \"leverage\": 2}",
       "margin.leverage: expected a target leverage in (0, max_leverage = 1.5]"},
      {"margin={\"leverage\": 1.2}", "margin.max_leverage: missing required key"},
      {"margin={\"max_leverage\": 2, \"leverage\": 2, \"maintenance\": 0.6}",
       "margin.maintenance: expected a ratio below 1 / leverage"},
      {"constraints.cash_reserve=1", "constraints.cash_reserve: expected a fraction in [0, 1)"},
      // Drift thresholds and bands written as percentages (the DCA source writes 5.0) never
      // trigger: an error with the fraction to use.
      {"strategy.only_if_drift=5",
       "strategy.only_if_drift: expected a fraction <= 1 (0.05 = 5 %); "
       "5 looks like a percentage: use 0.05"},
      {"strategy={\"type\": \"dca\", \"investment_amount\": 100, \"frequency\": \"monthly\", "
       "\"rebalance_threshold\": 5.0, \"targets\": {\"SPY\": 0.7, \"AGG\": 0.3}}",
       "strategy.rebalance_threshold: expected a fraction <= 1 (0.05 = 5 %); 5 looks like a "
       "percentage: use 0.05"},
      {"strategy={\"type\": \"threshold\", \"band\": 5, \"targets\": {\"SPY\": 0.7, "
       "\"AGG\": 0.3}}",
       "strategy.band: expected a fraction <= 1 (0.05 = 5 %); 5 looks like a percentage"},
      {"strategy={\"type\": \"threshold\", \"band\": {\"relative\": 25}, \"targets\": "
       "{\"SPY\": 0.7, \"AGG\": 0.3}}",
       "strategy.band.relative: expected a fraction <= 1 (0.05 = 5 %); 25 looks like a "
       "percentage: use 0.25"},
      {"strategy={\"type\": \"threshold\", \"band\": -0.05, \"targets\": {\"SPY\": 0.7, "
       "\"AGG\": 0.3}}",
       "strategy.band: expected a fraction >= 0"},
      {"data.extra=1",
       "data.extra: unknown key (allowed here: store, start, end, use_history_before_start, "
       "prices)"},
  };
  for (const auto& c : cases) {
    const auto r = RunCli({"backtest", cfg, "--out", dir / "never", "--set", c.set});
    EXPECT_EQ(r.exit_code, 2) << c.set << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.set << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(cfg), std::string::npos) << "error should name the file: " << r.err;
    EXPECT_FALSE(fs::exists(dir.path() / "never")) << c.set;
  }
}

TEST(CliTest, DataImportAndInfo) {
  TempDir dir;
  const auto r = RunCli({"data", "import", "--out", dir / "y.h5",
                         (testkit::SourceDir() / "tests/data/yahoo").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 symbol(s), 1008 bars"), std::string::npos) << r.out;
  const auto info = RunCli({"data", "info", dir / "y.h5"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("QQQ        2015-01-02 2016-12-30     504  adjusted"), std::string::npos)
      << info.out;
  const auto json = RunCli({"data", "info", "--json", dir / "y.h5"});
  EXPECT_NE(
      json.out.find(
          R"({"symbol":"TLT","first":"2015-01-02","last":"2016-12-30","rows":504,"price_adjustment":"adjusted","splits":0,"dividends":0})"),
      std::string::npos)
      << json.out;
  // Raw prices on request.
  const auto raw = RunCli({"data", "import", "--price", "raw", "--out", dir / "raw.h5",
                           (testkit::SourceDir() / "tests/data/yahoo/QQQ.csv").string()});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  // Yahoo's Close (Adj Close's neighbour) is split-adjusted, and the label says so.
  const auto raw_info = RunCli({"data", "info", dir / "raw.h5"});
  EXPECT_NE(raw_info.out.find("prices split_adjusted"), std::string::npos) << raw_info.out;
  EXPECT_NE(raw_info.out.find("split_adjusted: price return"), std::string::npos) << raw_info.out;

  // A file that does not say is unknown until --basis declares it; SYMBOL=BASIS wins.
  testkit::WriteFile(dir.path() / "plain/AAA.csv", "Date,Close\n2020-01-02,1\n2020-01-03,2\n");
  testkit::WriteFile(dir.path() / "plain/BBB.csv", "Date,Close\n2020-01-02,1\n2020-01-03,2\n");
  ASSERT_EQ(RunCli({"data", "import", "--out", dir / "u.h5", dir / "plain"}).exit_code, 0);
  const auto unknown = RunCli({"data", "info", dir / "u.h5"});
  EXPECT_NE(unknown.out.find("AAA        2020-01-02 2020-01-03       2  unknown"),
            std::string::npos)
      << unknown.out;
  EXPECT_NE(unknown.out.find("unknown: the import was not told (data import --basis)"),
            std::string::npos)
      << unknown.out;
  ASSERT_EQ(RunCli({"data", "import", "--out", dir / "d.h5", dir / "plain", "--basis", "raw",
                    "--basis", "BBB=split_adjusted"})
                .exit_code,
            0);
  const auto declared = RunCli({"data", "info", "--json", dir / "d.h5"});
  EXPECT_NE(
      declared.out.find(
          R"("symbol":"AAA","first":"2020-01-02","last":"2020-01-03","rows":2,"price_adjustment":"raw")"),
      std::string::npos)
      << declared.out;
  EXPECT_NE(
      declared.out.find(
          R"("symbol":"BBB","first":"2020-01-02","last":"2020-01-03","rows":2,"price_adjustment":"split_adjusted")"),
      std::string::npos)
      << declared.out;
  // Adjusted prices cannot be declared raw: a usage error, and no store.
  const auto contradict = RunCli({"data", "import", "--out", dir / "c.h5", "--basis", "QQQ=raw",
                                  (testkit::SourceDir() / "tests/data/yahoo/QQQ.csv").string()});
  EXPECT_EQ(contradict.exit_code, 2) << contradict.err;
  EXPECT_NE(contradict.err.find("--basis QQQ=raw: QQQ's prices were adjusted"), std::string::npos)
      << contradict.err;
  EXPECT_FALSE(fs::exists(dir.path() / "c.h5"));

  // Corporate actions from a file of their own: counted at import and by `data info`.
  testkit::WriteFile(dir.path() / "actions.csv",
                     "symbol,date,type,value\nQQQ,2015-06-01,split,2\nQQQ,2015-09-21,dividend,"
                     "0.46\nQQQ,2015-12-21,dividend,0.53\n");
  const std::string qqq = (testkit::SourceDir() / "tests/data/yahoo/QQQ.csv").string();
  const auto act = RunCli({"data", "import", "--price", "raw", "--out", dir / "act.h5", qqq,
                           "--actions", dir / "actions.csv"});
  ASSERT_EQ(act.exit_code, 0) << act.err;
  EXPECT_NE(act.out.find("; 1 split(s), 2 dividend(s)"), std::string::npos) << act.out;
  EXPECT_NE(RunCli({"data", "info", dir / "act.h5"}).out.find("1 split(s) 2 dividend(s)"),
            std::string::npos);
  // A bad row names the file and line, exits 3 and writes nothing.
  testkit::WriteFile(dir.path() / "bad.csv", "symbol,date,type,value\nSPY,2015-06-01,split,2\n");
  const auto bad =
      RunCli({"data", "import", "--out", dir / "bad.h5", qqq, "--actions", dir / "bad.csv"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("bad.csv:2: symbol 'SPY' has no prices in this import"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(dir.path() / "bad.h5"));
}

TEST(CliTest, BadDataExitsThreeAndWritesNoStore) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "in/GOOD.csv", "Date,Close\n2020-01-02,1\n");
  testkit::WriteFile(dir.path() / "in/BAD.csv", "Date,Close\n2020-01-02,1\n2020-01-03,abc\n");
  const auto r = RunCli({"data", "import", "--out", dir / "s.h5", dir / "in"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("BAD.csv:3: Close 'abc' is not a positive finite number"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "s.h5"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1u);  // only in/: no temp file left behind
  // A store that is not one.
  testkit::WriteFile(dir.path() / "fake.h5", "x");
  const auto info = RunCli({"data", "info", dir / "fake.h5"});
  EXPECT_EQ(info.exit_code, 3);
}

TEST(CliTest, HelpAndUsageErrors) {
  const auto help = RunCli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("backtest"), std::string::npos);
  EXPECT_NE(help.out.find("data"), std::string::npos);
  const auto bt_help = RunCli({"backtest", "--help"});
  EXPECT_NE(bt_help.out.find("--set"), std::string::npos);
  EXPECT_EQ(RunCli({}).exit_code, 2);
  EXPECT_EQ(RunCli({"backtest"}).exit_code, 2);
  EXPECT_EQ(RunCli({"backtest", "/nonexistent.json"}).exit_code, 2);
}

TEST(CliTest, CalendarListsHolidaysAndEarlyCloses) {
  const auto r = RunCli({"calendar", "--from", "2025-01-01", "--to", "2025-01-31"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("2025-01-09  closed       National day of mourning (Jimmy Carter)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2025-01-20  closed       Martin Luther King Jr. Day"), std::string::npos);
  EXPECT_NE(r.out.find("20 NYSE sessions"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ballast

namespace ballast {
namespace {

// equity.csv's daily_return and drawdown are time-weighted like summary.json: contributions are
// not returns there either.
TEST(CliTest, EquityCsvReturnsExcludeCashFlows) {
  TempDir dir;
  const auto cfg = WriteConfig(dir, kGood);
  const auto r = RunCli(
      {"backtest", cfg, "--out", dir / "run", "--no-workbook", "--set",
       R"(strategy={"type": "dca", "investment_amount": 5000, "targets": {"SPY": 0.7, "AGG": 0.3}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = testkit::ReadCsv(dir.path() / "run/equity.csv");
  double growth = 1.0;
  double worst = 0.0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    growth *= 1.0 + std::stod(rows[i][4]);
    worst = std::min(worst, std::stod(rows[i][5]));
  }
  const std::string summary = testkit::ReadFile(dir.path() / "run/summary.json");
  auto value = [&](const std::string& key) {
    const auto at = summary.find("\"" + key + "\": ");
    return std::stod(summary.substr(at + key.size() + 4));
  };
  EXPECT_NEAR(growth - 1.0, value("total_return"), 1e-12);
  EXPECT_NEAR(worst, value("max_drawdown"), 1e-12);
}

}  // namespace
}  // namespace ballast
