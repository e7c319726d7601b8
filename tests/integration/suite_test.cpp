// Suites: parsing (variants, grids, several bases), data loaded once and shared, results identical
// for any thread count, interruption keeping finished runs, and the `ballast suite` command.

#include "ballast/backtests/suite.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "ballast/backtests/outputs.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/run_record.hpp"
#include "testkit.hpp"

namespace ballast::backtests {
namespace {

namespace fs = std::filesystem;

// Writes a base config (on the test store) and a suite next to it.
struct SuiteFiles {
  testkit::TempDir dir;
  std::string suite;
  explicit SuiteFiles(const std::string& suite_json, const std::string& extra_base = "") {
    const std::string base = std::string(R"({"name": "base", "data": {"store": ")") +
                             testkit::SampleStore() +
                             R"(", "start": "2014-01-01", "end": "2017-12-31"},
        "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.6, "AGG": 0.4}},
        "benchmark": "SPY"})";
    testkit::WriteFile(dir.path() / "base.json", base);
    if (!extra_base.empty()) testkit::WriteFile(dir.path() / "other.json", extra_base);
    suite = dir / "suite.json";
    testkit::WriteFile(suite, suite_json);
  }
};

// LoadSuite keeps a pointer to the registry: one that lives for the whole test program.
const strategies::StrategyRegistry& Registry() {
  static const strategies::StrategyRegistry registry = [] {
    strategies::StrategyRegistry r;
    strategies::RegisterBuiltinStrategies(r);
    return r;
  }();
  return registry;
}

TEST(SuiteTest, GridIsTheProductInKeyOrder) {
  SuiteFiles f(R"({"name": "g", "base": "base.json",
      "grid": {"strategy.frequency": ["weekly", "monthly"], "execution.fill": ["close", "next_open"]}})");
  const auto s = LoadSuite(f.suite, Registry());
  ASSERT_EQ(s.runs.size(), 4u);
  EXPECT_EQ(s.runs[0].label, "frequency=weekly, fill=close");
  EXPECT_EQ(s.runs[3].label, "frequency=monthly, fill=next_open");
  EXPECT_EQ(s.Config(1).fill, sim::FillModel::kNextOpen);
}

TEST(SuiteTest, VariantsReplaceSubtreesAndNullRemovesKeys) {
  SuiteFiles f(R"({"name": "v", "base": "base.json", "variants": [
      {"label": "buy and hold", "set": {"strategy": {"type": "buy_and_hold", "targets": {"SPY": 0.5, "AGG": 0.5}}}},
      {"label": "switch type", "set": {"strategy.type": "buy_and_hold", "strategy.frequency": null}},
      {"label": "quarterly", "set": {"strategy.frequency": "quarterly"}}]})");
  const auto s = LoadSuite(f.suite, Registry());
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.Config(0).strategy.type, "buy_and_hold");
  EXPECT_EQ(s.Config(1).strategy.type, "buy_and_hold");
  EXPECT_EQ(s.Config(2).strategy.type, "calendar");
}

TEST(SuiteTest, SeveralBasesWithLabels) {
  SuiteFiles f(R"({"name": "b", "base": [{"label": "A", "config": "base.json"}, "other.json"],
      "variants": [{"label": "m", "set": {}}, {"label": "q", "set": {"strategy.frequency": "quarterly"}}]})",
               R"({"data": {"store": ")" + testkit::SampleStore() + R"("},
        "strategy": {"type": "calendar", "targets": {"VTI": 1.0}}})");
  const auto s = LoadSuite(f.suite, Registry());
  ASSERT_EQ(s.runs.size(), 4u);
  EXPECT_EQ(s.runs[0].label, "A / m");
  EXPECT_EQ(s.runs[3].label, "other / q");
}

TEST(SuiteTest, BadVariantFailsUpFrontNamingTheRun) {
  SuiteFiles f(R"({"name": "x", "base": "base.json", "variants": [
      {"label": "ok", "set": {}}, {"label": "typo", "set": {"strategy.frequncy": "weekly"}}]})");
  try {
    (void)LoadSuite(f.suite, Registry());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("run \"typo\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("strategy.frequncy: unknown key"), std::string::npos)
        << e.what();
  }
  SuiteFiles dup(
      R"({"name": "x", "base": "base.json", "variants": [{"label": "a"}, {"label": "a"}]})");
  EXPECT_THROW((void)LoadSuite(dup.suite, Registry()), Error);
}

TEST(SuiteTest, DataIsLoadedOncePerDistinctNeed) {
  SuiteFiles f(R"({"name": "d", "base": "base.json",
      "grid": {"strategy.frequency": ["weekly", "monthly", "quarterly"], "execution.fill": ["close", "next_open"]}})");
  const auto s = LoadSuite(f.suite, Registry());
  const auto r = RunSuite(s, {});
  EXPECT_EQ(r.finished, 6u);
  EXPECT_EQ(r.data_sets, 2u);  // close-only and close+open
}

/// Runs the suite on one thread and on two, and expects identical comparisons.
std::pair<SuiteResult, SuiteResult> OnOneAndTwoThreads(const Suite& s) {
  SuiteOptions one;
  one.threads = 1;
  SuiteOptions two;
  two.threads = 2;
  auto a = RunSuite(s, one);
  auto b = RunSuite(s, two);
  EXPECT_EQ(ComparisonCsv(s, a), ComparisonCsv(s, b));
  EXPECT_EQ(ComparisonJson(s, a, "sharpe"), ComparisonJson(s, b, "sharpe"));
  return {std::move(a), std::move(b)};
}

// Same results for any thread count, equal to running each backtest on its own.
TEST(SuiteTest, ResultsIdenticalForAnyThreadCount) {
  SuiteFiles f(R"({"name": "t", "base": "base.json",
      "grid": {"strategy.frequency": ["daily", "weekly", "monthly", "quarterly", "annually"],
               "execution.slippage_bps": [0, 10]}})");
  const auto s = LoadSuite(f.suite, Registry());
  const auto [a, b] = OnOneAndTwoThreads(s);
  const auto alone = RunBacktest(s.Config(7));
  EXPECT_EQ(alone.summary.final_value, a.summaries[7]->final_value);
  EXPECT_EQ(alone.summary.sharpe, b.summaries[7]->sharpe);
}

TEST(SuiteTest, StopKeepsFinishedRuns) {
  SuiteFiles f(R"({"name": "i", "base": "base.json",
      "grid": {"strategy.frequency": ["daily", "weekly", "monthly", "quarterly", "annually"]}})");
  const auto s = LoadSuite(f.suite, Registry());
  std::atomic<bool> stop{false};
  SuiteOptions o;
  o.threads = 1;
  o.stop = &stop;
  o.progress = [&](std::size_t done, std::size_t) {
    if (done == 2) stop = true;
  };
  const auto r = RunSuite(s, o);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.finished, 2u);
  EXPECT_EQ(Rank(s, r, "cagr").size(), 2u);
  EXPECT_NE(ComparisonJson(s, r, "cagr").find(R"("interrupted":true)"), std::string::npos);
}

TEST(SuiteTest, RankingFollowsTheMetricsDirection) {
  SuiteFiles f(R"({"name": "r", "base": "base.json",
      "grid": {"strategy.frequency": ["daily", "weekly", "monthly", "quarterly", "annually"]}})");
  const auto s = LoadSuite(f.suite, Registry());
  const auto r = RunSuite(s, {});
  const auto by_turnover = Rank(s, r, "turnover");  // lower first
  for (std::size_t k = 1; k < by_turnover.size(); ++k) {
    EXPECT_LE(r.summaries[by_turnover[k - 1]]->turnover, r.summaries[by_turnover[k]]->turnover);
  }
  const auto by_sharpe = Rank(s, r, "sharpe");  // higher first
  for (std::size_t k = 1; k < by_sharpe.size(); ++k) {
    EXPECT_GE(r.summaries[by_sharpe[k - 1]]->sharpe, r.summaries[by_sharpe[k]]->sharpe);
  }
}

// Issue 15: a lump-sum run and a DCA run have different money in them. The default sort
// (Sharpe) is time-weighted and the table says so; sorted by final value it warns. The DCA
// run's benchmark got the same contributions.
TEST(SuiteTest, MixedLumpSumAndDcaRunsSayWhichMetricsCompare) {
  SuiteFiles f(R"({"name": "m", "base": "base.json", "variants": [
      {"label": "lump sum", "set": {}},
      {"label": "dca", "set": {"strategy": {"type": "dca", "frequency": "monthly",
                                "investment_amount": 1000, "targets": {"SPY": 0.6, "AGG": 0.4}}}}]})");
  const auto s = LoadSuite(f.suite, Registry());
  const auto r = RunSuite(s, {});
  const std::string by_sharpe = ComparisonTable(s, r, "sharpe");
  EXPECT_NE(by_sharpe.find("the metrics shown are time-weighted"), std::string::npos) << by_sharpe;
  const std::string by_value = ComparisonTable(s, r, "final_value");
  EXPECT_NE(by_value.find("final_value counts the money put in"), std::string::npos) << by_value;
  ASSERT_TRUE(r.summaries[1]->benchmark.has_value());
  // The DCA run's benchmark is worth more than the lump sum's: it got 47 contributions.
  EXPECT_GT(r.summaries[1]->benchmark->final_value,
            r.summaries[0]->benchmark->final_value + 40000.0);
  // ... and that account's value and IRR sit beside the run's in the table, CSV and JSON.
  EXPECT_NE(by_sharpe.find("bench fin"), std::string::npos);
  EXPECT_NE(by_sharpe.find(fmt::format("{:.0f}", r.summaries[1]->benchmark->final_value)),
            std::string::npos)
      << by_sharpe;
  const std::string csv = ComparisonCsv(s, r);
  EXPECT_NE(csv.find(",benchmark_final_value,benchmark_irr,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(JsonNumber(r.summaries[1]->benchmark->final_value)), std::string::npos);
  ASSERT_TRUE(r.summaries[1]->benchmark->irr.has_value());
  EXPECT_NE(ComparisonJson(s, r, "sharpe")
                .find("\"benchmark_irr\":" + JsonNumber(*r.summaries[1]->benchmark->irr)),
            std::string::npos);
  // Runs with the same money: no note.
  SuiteFiles same(R"({"name": "s", "base": "base.json",
      "grid": {"strategy.frequency": ["monthly", "quarterly"]}})");
  const auto s2 = LoadSuite(same.suite, Registry());
  EXPECT_EQ(ComparisonTable(s2, RunSuite(s2, {}), "final_value").find("note:"), std::string::npos);
}

TEST(SuiteCliTest, WritesComparisonAndRunsAndPrintsTheTable) {
  SuiteFiles f(R"({"name": "cli", "base": "base.json", "variants": [
      {"label": "monthly", "set": {}}, {"label": "weekly", "set": {"strategy.frequency": "weekly"}}]})");
  const auto r = testkit::RunCli(
      {"suite", f.suite, "--out", f.dir / "out", "--sort", "cagr", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cli: 2 of 2 runs, sorted by cagr"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/comparison.csv"));
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/comparison.json"));
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/runs/001-monthly/equity.csv"));
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/runs/002-weekly/summary.json"));
  const auto csv = testkit::ReadCsv(f.dir.path() / "out/comparison.csv");
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[0][0], "run");
  // --summaries-only keeps just summary.json per run.
  const auto small =
      testkit::RunCli({"suite", f.suite, "--out", f.dir / "small", "--summaries-only"});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_FALSE(fs::exists(f.dir.path() / "small/runs/001-monthly/equity.csv"));
  EXPECT_TRUE(fs::exists(f.dir.path() / "small/runs/001-monthly/summary.json"));
  // --no-workbook keeps the full outputs but skips tracking.xlsx.
  ASSERT_EQ(testkit::RunCli({"suite", f.suite, "--out", f.dir / "lean", "--no-workbook"}).exit_code,
            0);
  EXPECT_TRUE(fs::exists(f.dir.path() / "lean/runs/001-monthly/equity.csv"));
  EXPECT_FALSE(fs::exists(f.dir.path() / "lean/runs/001-monthly/tracking.xlsx"));
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/runs/001-monthly/tracking.xlsx"));
  // Errors: unknown sort key (usage), bad suite (config); nothing written.
  EXPECT_EQ(testkit::RunCli({"suite", f.suite, "--sort", "luck"}).exit_code, 2);
  testkit::WriteFile(f.dir.path() / "bad.json", R"({"name": "bad", "base": "missing.json"})");
  const auto bad = testkit::RunCli({"suite", f.dir / "bad.json", "--out", f.dir / "never"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(fs::exists(f.dir.path() / "never"));
}

// The shipped suites load and run on the bundled sample.
TEST(SuiteTest, ShippedSuitesRunOnTheBundledSample) {
  for (const char* name : {"classic", "classic-margin", "cost-sensitivity"}) {
    const auto suite = LoadSuite(
        (testkit::SourceDir() / "configs/suites" / (std::string(name) + ".json")).string(),
        Registry(), {"data.store=" + testkit::SampleStore()});
    const auto r = RunSuite(suite, {});
    EXPECT_EQ(r.finished, suite.runs.size()) << name;
    EXPECT_GE(suite.runs.size(), 16u) << name;
  }
}

// The signal-swap suite: its four runs on the S&P 500 sample, byte-identical every time (and for
// any thread count), with win rate and holding period in every strategy's summary.
TEST(SuiteTest, SignalSwapSuiteIsDeterministicAndReportsWinRateAndHoldingPeriod) {
  const auto suite = LoadSuite((testkit::SourceDir() / "configs/suites/signal-swap.json").string(),
                               Registry(), {"data.store=" + testkit::Sp500Store()});
  ASSERT_EQ(suite.runs.size(), 4u);
  const auto [a, b] = OnOneAndTwoThreads(suite);
  ASSERT_EQ(a.finished, 4u);
  // Whole-run outputs too: the same config twice gives byte-identical files.
  const auto r1 = RunBacktest(suite.Config(1));
  const auto r2 = RunBacktest(suite.Config(1));
  EXPECT_EQ(SummaryJson(r1), SummaryJson(r2));
  EXPECT_EQ(r1.record.events.size(), r2.record.events.size());
  // Buy and hold never sells; the signal swaps do, and report it.
  const Summary& hold = *a.summaries[0];
  EXPECT_EQ(hold.closed_trades, 0u);
  EXPECT_TRUE(std::isnan(hold.win_rate));
  for (std::size_t i = 1; i < 4; ++i) {
    const Summary& s = *a.summaries[i];
    EXPECT_GT(s.closed_trades, 10u) << suite.runs[i].label;
    EXPECT_GT(s.win_rate, 0.0);
    EXPECT_LT(s.win_rate, 1.0);
    EXPECT_GT(s.avg_holding_days, 1.0);
    ASSERT_TRUE(s.benchmark.has_value());
  }
  const std::string csv = ComparisonCsv(suite, a);
  EXPECT_NE(csv.find("win_rate,avg_holding_days,vs_benchmark"), std::string::npos);
}

}  // namespace
}  // namespace ballast::backtests

namespace ballast::backtests {
namespace {

TEST(SuiteTest, GlobalSetsApplyToEveryRunBeforeItsOwn) {
  SuiteFiles f(R"({"name": "gs", "base": "base.json", "variants": [
      {"label": "a", "set": {}}, {"label": "b", "set": {"data.start": "2016-01-01"}}]})");
  const auto s =
      LoadSuite(f.suite, Registry(), {"data.start=2015-01-01", "portfolio.initial_cash=5000"});
  EXPECT_EQ(FormatDate(*s.Config(0).start), "2015-01-01");
  EXPECT_EQ(FormatDate(*s.Config(1).start), "2016-01-01");  // the run's own set wins
  EXPECT_EQ(s.Config(1).initial_cash, 5000.0);
}

}  // namespace
}  // namespace ballast::backtests

namespace ballast::backtests {
namespace {

// A real Ctrl-C: SIGINT to a running `ballast suite` stops it cleanly, keeps the finished runs,
// writes the comparison marked interrupted and exits 130.
TEST(SuiteCliTest, SigintStopsCleanlyAndKeepsFinishedRuns) {
  std::string values;
  for (int i = 0; i < 1000; ++i) {
    if (i > 0) values += ',';
    values += std::to_string(i);
  }
  std::string suite =
      R"({"name": "long", "base": "base.json", "grid": {"execution.slippage_bps": [)";
  suite += values;
  suite += "]}}";
  SuiteFiles f(suite);
  // bash: start the suite, interrupt it after a second, record its exit code.
  std::string script = "'";
  script += BALLAST_CLI;
  script +=
      "' suite '" + f.suite + "' --out '" + (f.dir / "out") + "' --no-workbook --threads 1 > '";
  script += (f.dir / "stdout") + "' 2> '" + (f.dir / "stderr") +
            "' & pid=$!; sleep 1; kill -INT $pid; wait $pid; ";
  script += "echo $? > '" + (f.dir / "code") + "'";
  testkit::WriteFile(f.dir.path() / "interrupt.sh", script);
  std::string run = "bash '";
  run += f.dir / "interrupt.sh";
  run += "'";
  ASSERT_EQ(std::system(run.c_str()), 0);
  EXPECT_EQ(testkit::ReadFile(f.dir.path() / "code"), "130\n")
      << testkit::ReadFile(f.dir.path() / "stderr");
  EXPECT_NE(testkit::ReadFile(f.dir.path() / "stderr").find("interrupted:"), std::string::npos);
  const std::string json = testkit::ReadFile(f.dir.path() / "out/comparison.json");
  EXPECT_NE(json.find(R"("interrupted":true)"), std::string::npos) << json.substr(0, 300);
  const auto csv = testkit::ReadCsv(f.dir.path() / "out/comparison.csv");
  EXPECT_GT(csv.size(), 1u);     // some runs finished and are kept
  EXPECT_LT(csv.size(), 1001u);  // not all of them
  EXPECT_TRUE(fs::exists(f.dir.path() / "out/runs/001-slippage-bps-0/summary.json"));
}

}  // namespace
}  // namespace ballast::backtests
