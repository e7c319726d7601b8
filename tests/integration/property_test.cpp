// Whole-run properties over seeded random configs on the bundled sample:
// - zero costs: each day's return equals the previous day's weights times the symbols' returns,
//   so fills never create or destroy value (value conserved through zero-cost fills);
// - weights + cash = 1 on every row;
// - with costs: cash never negative and every fill's costs add up to the reported fees;
// - same config + data => byte-identical output files.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/outputs.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

const std::vector<std::string> kSymbols{"SPY", "QQQ", "VTI", "EFA",  "AGG", "TLT",
                                        "IEF", "GLD", "VNQ", "AAPL", "MSFT"};
const std::vector<std::string> kFreq{"daily", "weekly", "monthly", "quarterly", "annually"};

backtests::BacktestResult RunDoc(ConfigDocument& doc) {
  doc.SetString("data.store", testkit::SampleStore());
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  return backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
}

std::string RandomConfig(std::mt19937_64& rng, bool costs) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::string> syms = kSymbols;
  std::shuffle(syms.begin(), syms.end(), rng);
  syms.resize(1 + rng() % 5);
  std::vector<double> w(syms.size());
  double sum = 0;
  for (auto& x : w)
    sum += (x = 0.05 + u(rng));
  std::string targets;
  double acc = 0;
  for (std::size_t i = 0; i < syms.size(); ++i) {
    const double wi = i + 1 == syms.size() ? 1.0 - acc : w[i] / sum;
    acc += wi;
    targets += fmt::format("{}\"{}\": {}", i ? ", " : "", syms[i], wi);
  }
  const int y0 = 2006 + static_cast<int>(rng() % 14);
  const std::string exec =
      costs
          ? fmt::format(
                R"("execution": {{"fill": "{}", "slippage_bps": {}, "commission": {{"model": "per_share"}}}},)",
                u(rng) < 0.5 ? "close" : "next_open", 1 + static_cast<int>(u(rng) * 20))
          : "";
  return fmt::format(R"({{"data": {{"store": "x", "start": "{}-01-01", "end": "{}-06-30"}},
      "portfolio": {{"initial_cash": {}, "shares": "{}"}}, {}
      "strategy": {{"type": "calendar", "frequency": "{}", "on": "{}", "targets": {{{}}}}}}})",
                     y0, y0 + 1 + static_cast<int>(rng() % 4),
                     10000 + static_cast<int>(u(rng) * 1e6),
                     costs && u(rng) < 0.5 ? "whole" : "fractional", exec,
                     kFreq[rng() % kFreq.size()], u(rng) < 0.5 ? "first" : "last", targets);
}

TEST(PropertyTest, ZeroCostRunsConserveValueAndWeightsSumToOne) {
  const unsigned seed = 424242;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 25; ++trial) {
    const std::string json = RandomConfig(rng, false);
    auto doc = ConfigDocument::FromText(json, "random.json");
    const auto r = RunDoc(doc);
    const auto& rec = r.record;
    const auto& panel = *r.panel;
    const std::size_t n = r.tradable;
    std::vector<double> last(n, kNaN);
    for (std::size_t c = 0; c < n; ++c)
      last[c] = panel.Close(r.first_row, c);
    for (std::size_t t = 0; t < rec.times.size(); ++t) {
      double total = rec.equity[t] != 0 ? rec.cash[t] / rec.equity[t] : 0.0;
      for (std::size_t c = 0; c < n; ++c)
        total += rec.weights[t * n + c];
      ASSERT_NEAR(total, 1.0, 1e-12)
          << "seed " << seed << " trial " << trial << " row " << t << "\n"
          << json;
      if (t == 0) continue;
      const std::size_t row = r.first_row + t;
      double expected = 0.0;
      for (std::size_t c = 0; c < n; ++c) {
        const double px = panel.HasBar(row, c) ? panel.Close(row, c) : last[c];
        expected += rec.weights[(t - 1) * n + c] * (px / last[c] - 1.0);
        last[c] = px;
      }
      const double actual = rec.equity[t] / rec.equity[t - 1] - 1.0;
      ASSERT_NEAR(actual, expected, 1e-12)
          << "seed " << seed << " trial " << trial << " row " << t << "\n"
          << json;
    }
  }
}

TEST(PropertyTest, CostlyRunsKeepCashNonNegativeAndBookEveryFee) {
  const unsigned seed = 99;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 15; ++trial) {
    const std::string json = RandomConfig(rng, true);
    auto doc = ConfigDocument::FromText(json, "random.json");
    const auto r = RunDoc(doc);
    for (double c : r.record.cash)
      ASSERT_GE(c, -1e-6) << "seed " << seed << " trial " << trial << "\n" << json;
    EXPECT_GT(r.summary.fees, 0.0) << json;
    // Every fill paid something: commissions plus slippage add up to the reported fees.
    double paid = 0.0;
    for (const auto& t : r.record.trades)
      paid += t.commission + t.slippage;
    EXPECT_NEAR(paid, r.summary.fees, 1e-9 * paid) << json;
  }
}

TEST(PropertyTest, SameConfigGivesByteIdenticalOutputs) {
  testkit::TempDir dir;
  auto doc1 = ConfigDocument::FromText(
      R"({"name": "det", "data": {"store": "x", "start": "2012-01-01", "end": "2016-12-31"},
          "strategy": {"type": "calendar", "frequency": "weekly", "on": "last",
                       "targets": {"SPY": 0.5, "AGG": 0.3, "GLD": 0.2}},
          "execution": {"fill": "next_open", "commission": {"model": "bps", "bps": 2}, "slippage_bps": 3},
          "benchmark": "SPY"})",
      "det.json");
  auto doc2 = ConfigDocument::FromText(doc1.Pretty(), "det.json");
  backtests::WriteRunOutputs(RunDoc(doc1), dir / "a", false);
  backtests::WriteRunOutputs(RunDoc(doc2), dir / "b", false);
  for (const char* f : {"config.json", "equity.csv", "trades.csv", "weights.csv", "events.jsonl",
                        "summary.json", "tracking.xlsx"}) {
    const auto a = testkit::ReadFile(dir.path() / "a" / f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, testkit::ReadFile(dir.path() / "b" / f)) << f;
  }
}

}  // namespace
}  // namespace ballast
