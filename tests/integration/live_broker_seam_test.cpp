// The broker seam seen from `ballast live`: the simulated broker is a real cash account (costs
// charged, buying power checked, kept across processes), and the broker's asset list decides
// what may be sent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"

namespace ballast {
namespace {

using json = nlohmann::json;
using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

std::string CostConfig(const testkit::TempDir& dir) {
  const std::string path = dir / "costs.json";
  testkit::WriteFile(path, R"({
  "name": "Live sim costs",
  "data": {"store": ")" + testkit::SampleStore() +
                               R"("},
  "portfolio": {"initial_cash": 10000, "shares": "whole"},
  "strategy": {"type": "calendar", "frequency": "monthly", "on": "first", "targets": {"SPY": 0.6, "AGG": 0.4}},
  "execution": {"fill": "close", "commission": {"model": "fixed", "per_order": 2.5}, "slippage_bps": 5},
  "live": {"fill_timeout_seconds": 10, "history_days": 60}
})");
  return path;
}

TEST(LiveBrokerSeam, SimBrokerChargesCostsKeepsCashAndItsAccountAcrossProcesses) {
  testkit::TempDir dir;
  const std::string cfg = CostConfig(dir);
  const std::string out = dir / "s";
  double prev_cash = 0.0;
  for (const char* day : {"2026-06-30", "2026-07-01"}) {
    FakeAlpacaOptions o;
    o.bars = Bars(day);
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r =
        testkit::RunCli({"live", cfg, "--broker", "sim", "--once", "--force", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(fake.Posts(), 0u);  // the simulated broker sends nothing to Alpaca
    // Each process finds the account the journal's fills make (the second one: the first's).
    const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
    for (const auto& row : Query(out + "/journal.sqlite",
                                 "SELECT symbol, SUM(CASE side WHEN 'buy' THEN qty ELSE -qty END) "
                                 "FROM fills GROUP BY symbol")) {
      EXPECT_NEAR(s["positions"][row[0]]["qty"].get<double>(), std::stod(row[1]), 1e-9) << day;
    }
    prev_cash = s["cash"].get<double>();
    EXPECT_GE(prev_cash, 0.0);  // a cash account never borrows
  }
  // Cash = initial - sum(buys) + sum(sells) - commissions, from the journal's own fills.
  const auto rows =
      Query(out + "/journal.sqlite",
            "SELECT SUM(CASE side WHEN 'buy' THEN -qty * price ELSE qty * price END), "
            "SUM(commission), COUNT(*), SUM(qty - ROUND(qty)) FROM fills");
  ASSERT_EQ(rows.size(), 1u);
  const double flows = std::stod(rows[0][0]);
  const double fees = std::stod(rows[0][1]);
  EXPECT_GE(std::stoi(rows[0][2]), 2);
  EXPECT_DOUBLE_EQ(fees, 2.5 * std::stoi(rows[0][2]));  // every fill paid its fixed fee
  EXPECT_NEAR(std::stod(rows[0][3]), 0.0, 1e-12);       // whole shares
  EXPECT_NEAR(prev_cash, 10000.0 + flows - fees, 1e-6);
  const std::string trades = testkit::ReadFile(out + "/trades.csv");
  EXPECT_NE(trades.find(",sim"), std::string::npos) << trades;
}

TEST(LiveBrokerSeam, TheBrokersAssetListDecidesWhatIsSent) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.untradable = {"AGG"};
  o.whole_only = {"SPY"};
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  EXPECT_EQ(r.exit_code, 5) << r.err << r.out;  // one order refused: the cycle is incomplete
  const auto orders = fake.Orders();
  ASSERT_EQ(orders.size(), 1u);  // AGG never reached the broker
  EXPECT_EQ(orders[0].symbol, "SPY");
  EXPECT_DOUBLE_EQ(orders[0].qty, std::floor(orders[0].qty));  // whole shares only
  EXPECT_GE(orders[0].qty, 1.0);
  EXPECT_GE(fake.Requests("/v2/assets/"), 2u);
  const auto agg =
      Query(out + "/journal.sqlite", "SELECT state, reason FROM orders WHERE symbol = 'AGG'");
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_EQ(agg[0][0], "rejected");
  EXPECT_NE(agg[0][1].find("not tradable"), std::string::npos) << agg[0][1];
}

}  // namespace
}  // namespace ballast
