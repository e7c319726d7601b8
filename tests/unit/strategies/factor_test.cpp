// Rank and factor scores and selection on hand-made price paths whose answers are known.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>

#include "ballast/engine/config_node.hpp"
#include "ballast/strategies/weighers.hpp"

namespace ballast::strategies {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

// A weekday panel from 2018-01-01 to `last` whose column c closes at price(c, day).
struct Fixture {
  BarPanel panel;
  std::vector<Days> days;
  RunRecord record;
  DataSessions sessions{{}};

  Fixture(std::size_t cols, Days last, const std::function<double(std::size_t, Days)>& price)
      : panel([&] {
          std::vector<std::string> names;
          for (std::size_t c = 0; c < cols; ++c)
            names.push_back(std::string("S").append(std::to_string(c)));
          return names;
        }()) {
    for (Days d = sys_days{2018y / 1 / 1}; d <= last; d += std::chrono::days{1}) {
      const std::chrono::weekday wd{d};
      if (wd == std::chrono::Saturday || wd == std::chrono::Sunday) continue;
      const std::size_t r = panel.AppendRow(DayToTimestamp(d));
      for (std::size_t c = 0; c < cols; ++c) {
        const double p = price(c, d);
        panel.SetBar(r, c, p, p, p, p, 1000);
      }
      days.push_back(d);
    }
    record.events_enabled = true;
  }
  StrategyContext At(std::size_t row) {
    return StrategyContext{panel, row,     days[row], panel.Symbols().size(),
                           false, nullptr, sessions,  PortfolioView{},
                           record};
  }
  std::size_t Last() const { return days.size() - 1; }
};

double DaysSinceEpoch(Days d) {
  return static_cast<double>(d.time_since_epoch().count());
}

TEST(FactorScoreTest, MomentumIsTwelveMinusOneMonthReturn) {
  // Price = days since 1970: the return between two dates is known exactly.
  const Days t = sys_days{2021y / 3 / 15};  // a Monday
  Fixture f(1, t, [](std::size_t, Days d) { return DaysSinceEpoch(d); });
  const auto ctx = f.At(f.Last());
  // t - 1M = Mon 2021-02-15; t - 12M = Sun 2020-03-15, so the last session before it: Fri 03-13.
  const double expected =
      DaysSinceEpoch(sys_days{2021y / 2 / 15}) / DaysSinceEpoch(sys_days{2020y / 3 / 13}) - 1.0;
  EXPECT_DOUBLE_EQ(ScoreOf(ctx, 0, Score::kMomentum, 3, 0), expected);
  // Value: -(P(t - 12M) / P(t - 36M) - 1); t - 36M = 2018-03-15, a Thursday.
  const double value =
      -(DaysSinceEpoch(sys_days{2020y / 3 / 13}) / DaysSinceEpoch(sys_days{2018y / 3 / 15}) - 1.0);
  EXPECT_DOUBLE_EQ(ScoreOf(ctx, 0, Score::kValue, 3, 0), value);
  // Not enough history for 36 months a year earlier.
  EXPECT_TRUE(std::isnan(ScoreOf(f.At(f.Last() - 260), 0, Score::kValue, 3, 0)));
}

TEST(FactorScoreTest, LowVolatilityAndQualityFromKnownReturns) {
  // Column 0 alternates +1% / -1% daily; column 1 alternates +2.1% / -1.9% (mean 0.1%, same
  // dispersion pattern), so sample stdevs and means are known in closed form.
  std::vector<double> p0{100.0}, p1{100.0};
  for (int i = 1; i < 2000; ++i) {
    p0.push_back(p0.back() * (i % 2 ? 1.01 : 0.99));
    p1.push_back(p1.back() * (i % 2 ? 1.021 : 0.981));
  }
  std::size_t idx = 0;
  std::vector<double> seq0, seq1;
  Fixture f(2, sys_days{2019y / 12 / 31}, [&](std::size_t c, Days) {
    const double v = c == 0 ? p0[idx] : p1[idx];
    if (c == 1) ++idx;
    return v;
  });
  const auto ctx = f.At(f.Last());
  // The last 90 returns: 45 of each sign; stdev = sqrt(sum (r - mean)^2 / 89).
  auto sd = [](double up, double down, int n) {
    const double mean = (up + down) / 2;
    return std::sqrt(n * ((up - mean) * (up - mean)) / (n - 1));
  };
  EXPECT_NEAR(ScoreOf(ctx, 0, Score::kLowVolatility, 3, 0), -sd(0.01, -0.01, 90), 1e-12);
  EXPECT_NEAR(ScoreOf(ctx, 1, Score::kLowVolatility, 3, 0), -sd(0.021, -0.019, 90), 1e-12);
  // Quality: mean / stdev over 252 returns (126 of each sign).
  EXPECT_NEAR(ScoreOf(ctx, 0, Score::kQuality, 3, 0), 0.0, 1e-12);
  EXPECT_NEAR(ScoreOf(ctx, 1, Score::kQuality, 3, 0), 0.001 / sd(0.021, -0.019, 252), 1e-9);
  // Too little history.
  EXPECT_TRUE(std::isnan(ScoreOf(f.At(80), 0, Score::kLowVolatility, 3, 0)));
  EXPECT_TRUE(std::isnan(ScoreOf(f.At(200), 0, Score::kQuality, 3, 0)));
}

WeigherConfig ParseWeights(const std::string& json, std::size_t universe) {
  const auto doc = ConfigDocument::FromText(json, "test.json");
  return WeigherConfig::Parse(doc.Root(), universe);
}

// Four assets growing at 10%, 30%, 20% and 40% a year: momentum ranks them 3, 1, 2, 0.
double Growth(std::size_t c, Days d) {
  const double rates[] = {0.10, 0.30, 0.20, 0.40};
  return 100.0 * std::exp(rates[c] * DaysSinceEpoch(d) / 365.0 - rates[c] * 48.0);
}

TEST(FactorSelectTest, RankTopNEquallyOrByRank) {
  Fixture f(4, sys_days{2020y / 6 / 30}, Growth);
  const auto ctx = f.At(f.Last());
  std::vector<double> w;
  Weigher eq(ParseWeights(R"({"model": "rank", "score": "momentum", "positions": 2})", 4));
  ASSERT_TRUE(eq.Compute(ctx, w));
  EXPECT_EQ(w, (std::vector<double>{0, 0.5, 0, 0.5}));
  Weigher by_rank(ParseWeights(
      R"({"model": "rank", "score": "return", "lookback": "3M", "positions": 3, "weighting": "rank"})",
      4));
  ASSERT_TRUE(by_rank.Compute(ctx, w));
  EXPECT_NEAR(w[3], 3.0 / 6, 1e-15);
  EXPECT_NEAR(w[1], 2.0 / 6, 1e-15);
  EXPECT_NEAR(w[2], 1.0 / 6, 1e-15);
  EXPECT_EQ(w[0], 0.0);
  // The selection is logged once, and again only when it changes.
  EXPECT_EQ(f.record.events.size(), 2u);
  ASSERT_TRUE(eq.Compute(ctx, w));
  EXPECT_EQ(f.record.events.size(), 2u);
  EXPECT_NE(f.record.events[0].fields_json.find(R"("symbol":"S3")"), std::string::npos);
}

// A composite of two factors: momentum and low volatility pull opposite ways; the z-scored sum
// decides, computed here by hand.
TEST(FactorSelectTest, CompositeOfZScores) {
  Fixture f(4, sys_days{2020y / 6 / 30}, [](std::size_t c, Days d) {
    // Growth plus a daily wiggle whose size grows with c (asset 3: fastest and noisiest).
    const double wiggle = (d.time_since_epoch().count() % 2 ? 1.0 : -1.0) * 0.004 * (c + 1);
    return Growth(c, d) * (1.0 + wiggle);
  });
  const auto ctx = f.At(f.Last());
  std::vector<double> mom(4), lowvol(4);
  for (std::size_t c = 0; c < 4; ++c) {
    mom[c] = ScoreOf(ctx, c, Score::kMomentum, 3, 0);
    lowvol[c] = ScoreOf(ctx, c, Score::kLowVolatility, 3, 0);
  }
  auto z = [](const std::vector<double>& x) {
    double mean = 0, ss = 0;
    for (double v : x)
      mean += v / 4;
    for (double v : x)
      ss += (v - mean) * (v - mean);
    std::vector<double> out;
    for (double v : x)
      out.push_back((v - mean) / std::sqrt(ss / 3));
    return out;
  };
  const auto zm = z(mom), zv = z(lowvol);
  std::vector<std::size_t> bests;
  for (double a : {0.2, 1.0, 5.0}) {
    std::vector<double> composite(4);
    std::size_t best = 0;
    for (std::size_t c = 0; c < 4; ++c) {
      composite[c] = zm[c] + a * zv[c];
      if (composite[c] > composite[best]) best = c;
    }
    Weigher w(ParseWeights(R"({"model": "factor", "factors": {"momentum": 1, "low_volatility": )" +
                               std::to_string(a) + R"(}, "positions": 1})",
                           4));
    std::vector<double> out;
    ASSERT_TRUE(w.Compute(ctx, out));
    EXPECT_EQ(out[best], 1.0) << a;
    bests.push_back(best);
  }
  EXPECT_NE(bests.front(), bests.back());  // the factor weights change the answer
}

TEST(FactorSelectTest, ConfigErrorsNameTheKey) {
  auto fails = [](const std::string& json, const std::string& expected) {
    try {
      (void)ParseWeights(json, 4);
      ADD_FAILURE() << json;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  fails(R"({"model": "rank", "score": "momentum", "positions": 5})",
        "positions: expected a whole number");
  fails(R"({"model": "rank", "score": "beta", "positions": 2})", "score: expected a score");
  fails(R"({"model": "factor", "factors": {"size": 1}, "positions": 2})",
        "factors.size: expected a score");
  fails(R"({"model": "inverse_vol", "positions": 2})",
        "positions: expected positions only with model");
  fails(
      R"({"model": "factor", "factors": {"momentum": 1}, "positions": 2, "weighting": {"model": "rank"}})",
      "weighting.model: expected a weights model for the selection");
}

}  // namespace
}  // namespace ballast::strategies
