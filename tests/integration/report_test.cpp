// report.html: self-contained, every chart has data, and (in headless Chromium, Debian's
// `chromium`) it loads without console errors, its script works, and a screenshot is saved.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/report.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;

// A small suite with a report, written by the real binary.
std::string MakeSuiteReport(const testkit::TempDir& dir) {
  testkit::WriteFile(dir.path() / "base.json",
                     std::string(R"({"name": "base", "data": {"store": ")") +
                         testkit::SampleStore() + R"(", "start": "2012-01-01", "end": "2016-12-31"},
      "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.5, "TLT": 0.3, "GLD": 0.2}},
      "benchmark": "SPY"})");
  testkit::WriteFile(dir.path() / "suite.json",
                     R"({"name": "report test", "base": "base.json", "variants": [
      {"label": "monthly", "set": {}}, {"label": "quarterly", "set": {"strategy.frequency": "quarterly"}},
      {"label": "dca", "set": {"strategy.type": "dca", "strategy.investment_amount": 500}}]})");
  const auto r =
      testkit::RunCli({"suite", dir / "suite.json", "--out", dir / "out", "--no-workbook"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir / "out/report.html";
}

// (chart name, data-points) of every chart. Plain scanning: GCC 12's sanitizer build warns
// (falsely) inside std::regex.
std::vector<std::pair<std::string, long>> Charts(const std::string& html) {
  std::vector<std::pair<std::string, long>> out;
  const std::string name_key = "data-chart=\"";
  const std::string points_key = "\" data-points=\"";
  for (auto at = html.find(name_key); at != std::string::npos; at = html.find(name_key, at + 1)) {
    const auto name_begin = at + name_key.size();
    const auto name_end = html.find('"', name_begin);
    if (html.compare(name_end, points_key.size(), points_key) != 0) continue;
    out.emplace_back(html.substr(name_begin, name_end - name_begin),
                     std::stol(html.substr(name_end + points_key.size())));
  }
  return out;
}

// Cells of the monthly calendar holding a month's return (year totals are bold).
long MonthCells(const std::string& table) {
  long n = 0;
  for (const char* cls : {"<td class=\"pos\">", "<td class=\"neg\">"}) {
    const std::string key = cls;
    for (auto at = table.find(key); at != std::string::npos; at = table.find(key, at + 1)) {
      if (table.compare(at + key.size(), 3, "<b>") != 0) ++n;
    }
  }
  return n;
}

TEST(ReportTest, SelfContainedWithDataInEveryChart) {
  testkit::TempDir dir;
  const std::string html = testkit::ReadFile(MakeSuiteReport(dir));
  // Nothing is fetched: no external scripts, styles, images or fonts.
  for (const char* external :
       {"<script src", "<link", "<img", "http://", "https://", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  const auto charts = Charts(html);
  // equity, equity-log, drawdown, rolling return, rolling volatility + weights and costs per run.
  // + weights, turnover, costs per run, and "value vs money invested" for the DCA run alone.
  EXPECT_EQ(charts.size(), 5u + 3u * 3u + 1u);
  for (const auto& [name, points] : charts)
    EXPECT_GT(points, 0) << name;
  const auto invested = std::find_if(charts.begin(), charts.end(), [](const auto& c) {
    return c.first.rfind("invested-", 0) == 0;
  });
  ASSERT_NE(invested, charts.end());
  // The one run with flows is the dca variant: its panel holds the chart.
  EXPECT_EQ(std::count_if(charts.begin(), charts.end(),
                          [](const auto& c) { return c.first.rfind("invested-", 0) == 0; }),
            1);
  const auto dca_panel = html.find("<h3>dca</h3>");
  ASSERT_NE(dca_panel, std::string::npos);
  EXPECT_EQ(html.find(R"(data-chart=")" + invested->first + '"'),
            html.find(R"(data-chart="invested-)", dca_panel));
  EXPECT_NE(html.find("Value vs money invested"), std::string::npos);
  for (const char* label :
       {">monthly<", ">quarterly<", ">dca<", "benchmark SPY", "Monthly returns"}) {
    EXPECT_NE(html.find(label), std::string::npos) << label;
  }
  // The monthly-returns calendar of the first run: one cell per month of 2012-2016.
  const auto first_panel = html.find(R"(id="run-0")");
  const auto calendar = html.find(R"(<table class="calendar">)", first_panel);
  const auto calendar_end = html.find("</table>", calendar);
  ASSERT_NE(calendar, std::string::npos);
  const std::string table = html.substr(calendar, calendar_end - calendar);
  EXPECT_EQ(MonthCells(table), 60);
  // `ballast backtest` writes one too.
  const auto bt =
      testkit::RunCli({"backtest", dir / "base.json", "--out", dir / "bt", "--no-workbook"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  EXPECT_EQ(Charts(testkit::ReadFile(dir.path() / "bt/report.html")).size(), 5u + 3u);
}

// The "value vs money invested" chart's lines add up to the summary's figures.
TEST(ReportTest, MoneyInvestedIsTheInitialValuePlusTheFlows) {
  auto run = [](const std::string& strategy) {
    auto doc = ConfigDocument::FromText(
        R"({"data": {"store": "x", "start": "2012-01-01", "end": "2014-12-31"},
            "portfolio": {"initial_cash": 10000}, "benchmark": "SPY", "strategy": )" +
            strategy + "}",
        "test.json");
    doc.SetString("data.store", testkit::SampleStore());
    strategies::StrategyRegistry reg;
    strategies::RegisterBuiltinStrategies(reg);
    return backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
  };
  const auto dca =
      run(R"({"type": "dca", "investment_amount": 500, "targets": {"SPY": 0.6, "TLT": 0.4}})");
  const auto r = backtests::MakeReportRun(dca);
  ASSERT_EQ(r.invested.size(), dca.record.times.size());
  EXPECT_GT(dca.summary.investments, 10u);
  EXPECT_NEAR(r.invested.back(), dca.summary.net_flows, 1e-6);
  EXPECT_EQ(r.value, dca.record.equity);
  ASSERT_EQ(r.benchmark_value.size(), r.invested.size());
  EXPECT_NEAR(r.benchmark_value.back(), dca.summary.benchmark->final_value, 1e-6);
  for (std::size_t t = 1; t < r.invested.size(); ++t)
    ASSERT_GE(r.invested[t], r.invested[t - 1]);  // contributions only
  // A run without flows has no such chart.
  const auto hold =
      run(R"({"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.6, "TLT": 0.4}})");
  EXPECT_TRUE(backtests::MakeReportRun(hold).invested.empty());
}

TEST(ReportTest, LoadsInHeadlessChromiumWithoutConsoleErrors) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "chromium is required in CI";
    GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  }
  testkit::TempDir dir;
  const std::string report = MakeSuiteReport(dir);
  const std::string chrome =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir='" +
      (dir / "profile") + "'";
  // Load with a run preselected through the URL: the page's script must run to show it.
  const std::string dump = chrome + " --enable-logging=stderr --v=0 --dump-dom 'file://" + report +
                           "#run-2' > '" + (dir / "dom.html") + "' 2> '" + (dir / "log.txt") + "'";
  ASSERT_EQ(std::system(dump.c_str()), 0) << testkit::ReadFile(dir.path() / "log.txt");
  const std::string dom = testkit::ReadFile(dir.path() / "dom.html");
  const std::string log = testkit::ReadFile(dir.path() / "log.txt");
  EXPECT_EQ(log.find("CONSOLE("), std::string::npos) << log;  // the page logs nothing
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  EXPECT_NE(dom.find(R"(class="run shown" id="run-2")"), std::string::npos) << "script did not run";
  const auto charts = Charts(dom);
  EXPECT_EQ(charts.size(), 15u);
  for (const auto& [name, points] : charts)
    EXPECT_GT(points, 0) << name;
  // Screenshot for the CI artefacts.
  const char* env = std::getenv("BALLAST_ARTIFACTS");
  const fs::path artifacts = env ? fs::path(env) : testkit::SourceDir() / "artifacts";
  fs::create_directories(artifacts);
  const std::string shot = chrome + " --window-size=1100,2400 --screenshot='" +
                           (artifacts / "report.png").string() + "' 'file://" + report +
                           "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(shot.c_str()), 0);
  EXPECT_GT(fs::file_size(artifacts / "report.png"), 10000u);
}

}  // namespace
}  // namespace ballast
