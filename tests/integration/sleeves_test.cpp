// Multi-strategy portfolios (type "sleeves") on the bundled sample: attribution that adds up,
// netting that reaches the order manager, risk limits and adaptive allocation.

#include <gtest/gtest.h>

#include <cmath>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/outputs.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

backtests::BacktestResult RunSleeves(const std::string& strategy, const std::string& extra = "") {
  auto doc = ConfigDocument::FromText(
      R"({"data": {"store": "x", "start": "2010-01-01", "end": "2019-12-31"},
          "portfolio": {"initial_cash": 100000})" +
          extra + R"(, "strategy": )" + strategy + "}",
      "test.json");
  doc.SetString("data.store", testkit::SampleStore());
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  return backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
}

const std::string kTwoSleeves = R"({"type": "sleeves", "rebalance": "quarterly", "sleeves": [
    {"name": "stocks-bonds", "weight": 0.6, "strategy": {"type": "calendar", "frequency": "monthly",
                                                      "targets": {"SPY": 0.5, "TLT": 0.5}}},
    {"name": "stocks-gold", "weight": 0.4, "strategy": {"type": "calendar", "frequency": "monthly",
                                                     "targets": {"SPY": 0.5, "GLD": 0.5}}}]})";

const std::string* Field(const RunRecord& r, const std::string& key) {
  for (const auto& [k, v] : r.summary_fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

double Number(const std::string& json, const std::string& key, std::size_t from = 0) {
  const auto at = json.find("\"" + key + "\":", from);
  EXPECT_NE(at, std::string::npos) << key;
  return std::stod(json.substr(at + key.size() + 3));
}

// Splitting one strategy into two sleeves of the same strategy changes nothing.
TEST(SleevesTest, TwoSleevesOfOneStrategyEqualThatStrategy) {
  const std::string cal =
      R"({"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.6, "TLT": 0.4}})";
  const auto single = RunSleeves(cal);
  const auto split = RunSleeves(R"({"type": "sleeves", "rebalance": "monthly", "sleeves": [
      {"name": "a", "weight": 0.3, "strategy": )" +
                                cal + R"(},
      {"name": "b", "weight": 0.7, "strategy": )" +
                                cal + "}]}");
  ASSERT_EQ(single.record.equity.size(), split.record.equity.size());
  for (std::size_t t = 0; t < single.record.equity.size(); ++t)
    ASSERT_NEAR(split.record.equity[t] / single.record.equity[t], 1.0, 1e-12) << t;
}

// Fractional shares, close fills, no costs: the books are the account, so the attribution adds
// up to the account's profit and the implementation difference is zero.
TEST(SleevesTest, AttributionAddsUpToTheAccount) {
  const auto r = RunSleeves(kTwoSleeves);
  const std::string* a = Field(r.record, "attribution");
  ASSERT_NE(a, nullptr);
  const double p1 = Number(*a, "profit");
  const double p2 = Number(*a, "profit", a->find("stocks-gold"));
  EXPECT_NEAR(p1 + p2, r.summary.final_value - 100000.0, 1e-6);
  EXPECT_NEAR(Number(*a, "implementation"), 0.0, 1e-6);
  EXPECT_NEAR(Number(*a, "books_value"), r.summary.final_value, 1e-6);
  // Contributions are profits over the initial value; quarterly reallocation moved money.
  EXPECT_NEAR(Number(*a, "contribution"), p1 / 100000.0, 1e-12);
  EXPECT_NE(Number(*a, "transfers"), 0.0);
  // And summary.json carries it.
  testkit::TempDir dir;
  backtests::WriteRunOutputs(r, dir / "run", false, false);
  const std::string summary = testkit::ReadFile(dir.path() / "run" / "summary.json");
  EXPECT_NE(summary.find(R"("attribution": {"sleeves":[{"name":"stocks-bonds")"),
            std::string::npos);
}

// Orders are netted per symbol: on a day when one sleeve sells SPY and the other buys it, the
// account trades only the difference.
TEST(SleevesTest, OrdersAreNettedPerSymbol) {
  const auto r = RunSleeves(kTwoSleeves);
  const auto& rec = r.record;
  std::size_t netted = 0, checked = 0;
  for (const auto& e : rec.events) {
    if (e.type != "sleeves_netted") continue;
    const double gross = Number(e.fields_json, "gross");
    const double net = Number(e.fields_json, "net");
    std::size_t t = 0;
    while (rec.times[t] != e.time)
      ++t;
    EXPECT_NEAR(rec.bought[t] + rec.sold[t], net, 1e-6 * (1 + net));
    EXPECT_LE(net, gross + 1e-9);
    netted += net < gross - 1.0 ? 1 : 0;
    ++checked;
  }
  EXPECT_GT(checked, 100u);
  EXPECT_GT(netted, 10u);
}

// A limit no sleeve can meet halves every sleeve at each sleeve rebalance (the rest is cash), or
// removes them all.
TEST(SleevesTest, RiskLimitsReduceOrRemoveAndAreLogged) {
  std::string halved = kTwoSleeves;
  halved.insert(halved.rfind('}'), R"(, "limits": {"min_sharpe": 100})");
  const auto r = RunSleeves(halved);
  std::size_t breaches = 0;
  for (const auto& e : r.record.events)
    breaches += e.type == "sleeve_limit" ? 1 : 0;
  EXPECT_GT(breaches, 60u);  // two sleeves x ~38 quarters after the first 20 sessions
  const std::size_t last = r.record.times.size() - 1;
  const double invested = 1.0 - r.record.cash[last] / r.record.equity[last];
  EXPECT_NEAR(invested, 0.5, 0.05);  // halved: 0.3 + 0.2, drifting between rebalances
  std::string removed = kTwoSleeves;
  removed.insert(removed.rfind('}'), R"(, "limits": {"min_sharpe": 100, "breach": "remove"})");
  const auto gone = RunSleeves(removed);
  EXPECT_NEAR(gone.record.cash.back(), gone.record.equity.back(), 1e-6);
}

TEST(SleevesTest, AdaptiveTiltsOnlyWhenTheChangeIsLargeEnough) {
  auto allocations = [](const std::string& adaptive) {
    std::string cfg = kTwoSleeves;
    cfg.insert(cfg.rfind('}'), R"(, "adaptive": )" + adaptive);
    const auto r = RunSleeves(cfg);
    std::size_t n = 0;
    for (const auto& e : r.record.events)
      n += e.type == "sleeve_allocation" ? 1 : 0;
    return n;
  };
  EXPECT_GT(allocations(R"({"tilt": 1, "min_change": 0})"), 10u);
  EXPECT_EQ(allocations(R"({"tilt": 1, "min_change": 1})"), 0u);
}

TEST(SleevesTest, ConfigErrors) {
  auto error = [](const std::string& strategy, const std::string& extra = "") {
    try {
      (void)RunSleeves(strategy, extra);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(R"({"type": "sleeves", "sleeves": [{"name": "a", "weight": 0.7, "strategy":
      {"type": "buy_and_hold", "targets": {"SPY": 1}}}, {"name": "b", "weight": 0.7, "strategy":
      {"type": "buy_and_hold", "targets": {"TLT": 1}}}]})")
                .find("strategy.sleeves: expected sleeve weights summing to at most 1"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "sleeves", "sleeves": [{"name": "a", "weight": 1, "strategy":
      {"type": "dca", "investment_amount": 10, "targets": {"SPY": 1}}}]})")
                .find("strategy.sleeves[0].strategy.type: expected a sleeve strategy"),
            std::string::npos);
  EXPECT_NE(error(kTwoSleeves, R"(, "cash_flows": [])").find("cash_flows: expected no cash_flows"),
            std::string::npos);
}

}  // namespace
}  // namespace ballast
