#include "ballast/engine/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ballast {
namespace {

RunRecord Curve(const std::vector<double>& equity, const std::vector<double>& bench = {}) {
  RunRecord r;
  for (std::size_t i = 0; i < equity.size(); ++i) {
    r.times.push_back(static_cast<Timestamp>(i) * kNanosPerDay);
    r.equity.push_back(equity[i]);
    r.cash.push_back(0.0);
    r.flows.push_back(0.0);
    r.bought.push_back(0.0);
    r.sold.push_back(0.0);
    r.fees.push_back(0.0);
    r.benchmark.push_back(bench.empty() ? std::nan("") : bench[i]);
  }
  return r;
}

// Hand-computed: returns +10%, -10%, +10%: mean 1/30, sample stdev sqrt(1/75), downside deviation
// sqrt(0.01/3); Sharpe = sqrt(75)/30*sqrt(252) = sqrt(18900)/30; Sortino = sqrt(300)/30*sqrt(252).
TEST(MetricsTest, HandComputedThreeReturns) {
  const auto s = ComputeSummary(Curve({100, 110, 99, 108.9}), 100.0, 0.0, "");
  EXPECT_NEAR(s.total_return, 0.089, 1e-12);
  EXPECT_NEAR(s.volatility, std::sqrt(1.0 / 75.0) * std::sqrt(252.0), 1e-12);
  EXPECT_NEAR(s.sharpe, std::sqrt(18900.0) / 30.0, 1e-12);
  EXPECT_NEAR(s.sortino, std::sqrt(75600.0) / 30.0, 1e-12);
  EXPECT_NEAR(s.max_drawdown, -0.1, 1e-12);
  EXPECT_EQ(s.max_drawdown_peak, 1 * kNanosPerDay);
  EXPECT_EQ(s.max_drawdown_trough, 2 * kNanosPerDay);
  EXPECT_FALSE(s.max_drawdown_recovery.has_value());  // 108.9 < 110
  // 3 calendar days: cagr = 1.089^(365.25/3) - 1
  EXPECT_NEAR(s.cagr, std::pow(1.089, 365.25 / 3.0) - 1.0, 1e-9);
  EXPECT_NEAR(s.calmar, s.cagr / 0.1, 1e-9);
}

TEST(MetricsTest, BenchmarkStatisticsOfALeveragedCopy) {
  // Portfolio returns are exactly twice the benchmark's: beta 2, correlation 1.
  std::vector<double> rb{0.01, -0.02, 0.015, 0.005, -0.01};
  std::vector<double> b{100}, p{100};
  for (double r : rb) {
    b.push_back(b.back() * (1 + r));
    p.push_back(p.back() * (1 + 2 * r));
  }
  const auto s = ComputeSummary(Curve(p, b), 100.0, 0.0, "SPY");
  ASSERT_TRUE(s.benchmark.has_value());
  EXPECT_NEAR(s.benchmark->beta, 2.0, 1e-12);
  EXPECT_NEAR(s.benchmark->correlation, 1.0, 1e-12);
  // alpha = (mean(2 rb) - 2 mean(rb)) * 252 = 0
  EXPECT_NEAR(s.benchmark->alpha, 0.0, 1e-12);
  // active returns = rb, so tracking error = stdev(rb) * sqrt(252)
  EXPECT_NEAR(s.benchmark->tracking_error, s.benchmark->volatility, 1e-12);
}

// Issue 15, by hand: 1000 into a benchmark at 100 (10 units); 110 contributed at 110 (+1 unit:
// 11 x 110 = 1210); 49.5 withdrawn at 99 (-0.5: 10.5 x 99 = 1039.5). Without the flows it is
// the initial value's growth: 1000, 1100, 990.
TEST(MetricsTest, BenchmarkAccountGetsTheSameFlows) {
  const std::vector<double> prices{100, 110, 99};
  const std::vector<double> flows{0, 110, -49.5};
  const auto same = BenchmarkAccount(prices, flows, 1000.0, true);
  ASSERT_EQ(same.size(), 3u);
  EXPECT_NEAR(same[0], 1000.0, 1e-9);
  EXPECT_NEAR(same[1], 1210.0, 1e-9);
  EXPECT_NEAR(same[2], 1039.5, 1e-9);
  const auto none = BenchmarkAccount(prices, flows, 1000.0, false);
  EXPECT_NEAR(none[1], 1100.0, 1e-9);
  EXPECT_NEAR(none[2], 990.0, 1e-9);
  // A flow on a day without a price waits for the next one; a withdrawal beyond the account
  // empties it.
  const auto gap = BenchmarkAccount(std::vector<double>{100, std::nan(""), 125},
                                    std::vector<double>{0, 50, 0}, 1000.0, true);
  EXPECT_TRUE(std::isnan(gap[1]));
  EXPECT_NEAR(gap[2], 10 * 125.0 + 50.0, 1e-9);
  const auto out =
      BenchmarkAccount(std::vector<double>{100, 50}, std::vector<double>{0, -2000}, 1000.0, true);
  EXPECT_EQ(out[1], 0.0);
  EXPECT_TRUE(std::isnan(BenchmarkAccount(std::vector<double>{std::nan(""), 1},
                                          std::vector<double>{0, 0}, 1.0, true)[1]));

  // In the summary: its final value, and a money-weighted return from the same flows.
  RunRecord r = Curve({1000, 1220, 1050}, prices);
  r.flows = flows;
  const auto sum = ComputeSummary(r, 1000.0, 0.0, "SPY");
  ASSERT_TRUE(sum.benchmark.has_value());
  EXPECT_TRUE(sum.benchmark->same_flows);
  EXPECT_NEAR(sum.benchmark->final_value, 1039.5, 1e-9);
  EXPECT_NEAR(sum.benchmark->total_return, -0.01, 1e-12);  // time-weighted: the price's
  ASSERT_TRUE(sum.benchmark->irr.has_value());
  // Compounding each flow at the IRR to the last day gives the final value.
  const double irr = *sum.benchmark->irr;
  const double grown =
      1000.0 * std::pow(1 + irr, 2.0 / 365) + 110.0 * std::pow(1 + irr, 1.0 / 365) - 49.5;
  EXPECT_NEAR(grown, 1039.5, 1e-6);
  const auto lump = ComputeSummary(r, 1000.0, 0.0, "SPY", /*benchmark_same_flows=*/false);
  EXPECT_NEAR(lump.benchmark->final_value, 990.0, 1e-9);
}

TEST(MetricsTest, RiskFreeRateLowersSharpe) {
  const auto s0 = ComputeSummary(Curve({100, 101, 100.5, 102, 103}), 100.0, 0.0, "");
  const auto s1 = ComputeSummary(Curve({100, 101, 100.5, 102, 103}), 100.0, 0.05, "");
  EXPECT_LT(s1.sharpe, s0.sharpe);
  EXPECT_NEAR(s0.volatility, s1.volatility, 1e-15);
}

TEST(ClosedTrades, FifoMatchingWinRateAndHoldingDaysByHand) {
  const Timestamp day = 86'400'000'000'000;
  auto trade = [&](int d, SymbolIndex sym, Side side, double qty, double px, double fee = 0.0) {
    TradeRecord t;
    t.time = d * day;
    t.symbol = sym;
    t.side = side;
    t.quantity = qty;
    t.price = px;
    t.commission = fee;
    return t;
  };
  // Symbol 0: buy 10 @ 100 (day 0), buy 10 @ 110 (day 10), sell 15 @ 105 (day 20):
  //   FIFO: 10 from the first lot (+50), 5 from the second (-25): profit +25, a win;
  //   cost-weighted days: (1000 * 20 + 550 * 10) / 1550.
  // Symbol 1: buy 4 @ 50 with a 2.00 commission (day 0), sell 4 @ 50.25 with 1.00 (day 30):
  //   cost 50.5 a share, proceeds 50.0 a share: -2.00, a loss.
  // Symbol 0 again: sell 5 @ 110 (day 40) from the rest of the second lot: 0, breakeven.
  // Symbol 2: a sell with nothing bought is not a closed trade.
  const std::vector<TradeRecord> trades{
      trade(0, 0, Side::kBuy, 10, 100),         trade(0, 1, Side::kBuy, 4, 50, 2.0),
      trade(10, 0, Side::kBuy, 10, 110),        trade(20, 0, Side::kSell, 15, 105),
      trade(30, 1, Side::kSell, 4, 50.25, 1.0), trade(40, 0, Side::kSell, 5, 110),
      trade(41, 2, Side::kSell, 3, 10)};
  const ClosedTradeStats c = ClosedTrades(trades);
  EXPECT_EQ(c.closed, 3u);
  EXPECT_EQ(c.wins, 1u);
  EXPECT_EQ(c.losses, 1u);
  EXPECT_NEAR(c.profit, 25.0 - 2.0 + 0.0, 1e-9);
  const double days =
      (1000.0 * 20 + 550.0 * 10 + 202.0 * 30 + 550.0 * 30) / (1000 + 550 + 202 + 550);
  EXPECT_NEAR(c.avg_holding_days, days, 1e-9);
  EXPECT_TRUE(std::isnan(ClosedTrades({trade(0, 0, Side::kBuy, 1, 1)}).avg_holding_days));
}

}  // namespace
}  // namespace ballast
