// tracking.xlsx read back by an independent reader (openpyxl, Debian's python3-openpyxl).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;

// The "rows" count the reader printed for `sheet`.
long RowsOf(const std::string& json, const std::string& sheet) {
  const auto at = json.find("\"" + sheet + "\": {");
  if (at == std::string::npos) return -1;
  const auto rows = json.find("\"rows\": ", at);
  return rows == std::string::npos ? -1 : std::stol(json.substr(rows + 8));
}

TEST(WorkbookTest, OpenpyxlReadsEverySheetAndTheNumbersMatchTheCsvs) {
  if (std::system("/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "python3-openpyxl is required in CI";
    GTEST_SKIP() << "python3-openpyxl not installed (apt-get install python3-openpyxl)";
  }
  testkit::TempDir dir;
  const std::string cfg = dir / "dca.json";
  testkit::WriteFile(cfg, std::string(R"({"name": "workbook", "data": {"store": ")") +
                              testkit::SampleStore() +
                              R"(", "start": "2015-01-01", "end": "2016-12-31"},
      "portfolio": {"initial_cash": 10000, "shares": "whole"},
      "execution": {"commission": {"model": "per_share"}, "slippage_bps": 2},
      "strategy": {"type": "dca", "frequency": "monthly", "investment_amount": 1000,
                   "targets": {"SPY": 0.6, "AGG": 0.4}}})");
  const auto run = testkit::RunCli({"backtest", cfg, "--out", dir / "run"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(fs::exists(dir.path() / "run/tracking.xlsx"));
  const std::string cmd = "/usr/bin/python3 '" +
                          (testkit::SourceDir() / "tests/tools/read_xlsx.py").string() + "' '" +
                          (dir / "run/tracking.xlsx") + "' > '" + (dir / "x.json") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string x = testkit::ReadFile(dir.path() / "x.json");
  EXPECT_NE(x.find(R"("sheets": ["Positions", "Trades", "Performance", "Metadata"])"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find(R"("header": ["date", "symbol", "weight", "value", "shares", "price"])"),
            std::string::npos);
  EXPECT_NE(x.find(R"("header": ["date", "symbol", "side", "shares", "price", "value", "fees"])"),
            std::string::npos);
  EXPECT_NE(x.find(R"("header": ["date", "value", "return", "drawdown", "contributions"])"),
            std::string::npos);
  // Row counts and values against the CSV outputs.
  const auto trades = testkit::ReadCsv(dir.path() / "run/trades.csv");
  const auto equity = testkit::ReadCsv(dir.path() / "run/equity.csv");
  EXPECT_EQ(RowsOf(x, "Trades"), static_cast<long>(trades.size() - 1)) << x;
  EXPECT_EQ(RowsOf(x, "Performance"), static_cast<long>(equity.size() - 1)) << x;
  EXPECT_GT(RowsOf(x, "Positions"), 0) << x;
  const auto& t1 = trades[1];  // date,decision,client_order_id,symbol,side,quantity,price,...
  EXPECT_NE(x.find("\"first\": [\"" + t1[0] + "\", \"" + t1[3] + "\", \"" + t1[4] + "\", " + t1[5]),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("\"last\": [\"" + equity.back()[0] + "\", " + equity.back()[1]),
            std::string::npos)
      << x;
  EXPECT_NE(x.find(R"("contributions": 23000)"), std::string::npos)
      << x;  // 23 monthly contributions
  EXPECT_NE(x.find(R"("strategy": "dca")"), std::string::npos);
  EXPECT_NE(x.find(R"("engine version": "ballast)"), std::string::npos);
}

}  // namespace
}  // namespace ballast
