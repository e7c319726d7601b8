// Indicators against independent references: StockCharts' published RSI example, and a plain
// Python recomputation from the whole history at every bar (tests/data/signals/make_reference.py).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ballast/strategies/signals.hpp"
#include "testkit.hpp"

namespace ballast::strategies::signals {
namespace {

TEST(Indicators, RsiMatchesStockChartsPublishedExample) {
  // StockCharts ChartSchool, "Relative Strength Index (RSI)", the spreadsheet's closes and its
  // RSI column (2 decimals), first value at the 15th close.
  const double closes[] = {44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955,
                           45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614,  46.282,
                           46.282,  46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122,
                           46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783,
                           44.2181, 44.5672, 43.4205, 42.6628, 43.1314};
  const double published[] = {70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
                              54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77};
  Rsi rsi(14);
  std::size_t k = 0;
  for (std::size_t i = 0; i < std::size(closes); ++i) {
    rsi.Add(closes[i]);
    if (i < 14) {
      EXPECT_FALSE(rsi.Ready()) << i;
      continue;
    }
    ASSERT_TRUE(rsi.Ready());
    EXPECT_NEAR(rsi.Value(), published[k], 0.005) << "close " << i + 1;
    ++k;
  }
  EXPECT_EQ(k, std::size(published));
}

void ExpectSame(double got, const std::string& want, const char* what, const std::string& day) {
  if (want.empty()) {
    EXPECT_TRUE(std::isnan(got)) << what << " " << day << " should not be ready, got " << got;
    return;
  }
  const double w = std::stod(want);
  EXPECT_NEAR(got, w, 1e-9 * std::max(1.0, std::abs(w))) << what << " " << day;
}

TEST(Indicators, MatchAPlainRecomputationOnSpy) {
  const auto rows =
      testkit::ReadCsv(std::string(BALLAST_SOURCE_DIR) + "/tests/data/signals/spy_reference.csv");
  ASSERT_EQ(rows.size(), 321u);
  const auto& h = rows[0];
  ASSERT_EQ(h.size(), 11u);
  SymbolIndicators ind;
  Ema ema12(12), ema26(26);
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const double close = std::stod(row[1]);
    ind.Add(close, 0.0);
    ema12.Add(close);
    ema26.Add(close);
    const Indicators x = ind.Snapshot();
    ExpectSame(x.ma_short, row[2], "sma50", row[0]);
    ExpectSame(x.ma_long, row[3], "sma200", row[0]);
    ExpectSame(ema12.Ready() ? ema12.Value() : std::nan(""), row[4], "ema12", row[0]);
    ExpectSame(ema26.Ready() ? ema26.Value() : std::nan(""), row[5], "ema26", row[0]);
    ExpectSame(x.macd, row[6], "macd", row[0]);
    ExpectSame(x.macd_signal, row[7], "signal", row[0]);
    ExpectSame(x.macd_hist, row[8], "hist", row[0]);
    ExpectSame(x.rsi, row[9], "rsi14", row[0]);
    ExpectSame(x.trailing_return, row[10], "ret20", row[0]);
    EXPECT_TRUE(std::isnan(x.volume_ratio));  // no volume given
    if (r >= 3 && !row[8].empty() && !rows[r - 1][8].empty()) {
      EXPECT_NEAR(x.macd_hist_prev, std::stod(rows[r - 1][8]), 1e-9);
    }
  }
}

TEST(Indicators, VolumeRatioIsTodayOverTheAverage) {
  IndicatorParams p;
  p.volume_window = 4;
  SymbolIndicators ind(p);
  for (double v : {100.0, 200.0, 300.0})
    ind.Add(10.0, v);
  EXPECT_TRUE(std::isnan(ind.Snapshot().volume_ratio));  // 3 of 4 volumes
  ind.Add(10.0, 400.0);
  EXPECT_DOUBLE_EQ(ind.Snapshot().volume_ratio, 400.0 / 250.0);
  ind.Add(10.0, 0.0);  // unknown volume: no ratio, the average keeps its window
  EXPECT_TRUE(std::isnan(ind.Snapshot().volume_ratio));
  ind.Add(10.0, 100.0);
  EXPECT_DOUBLE_EQ(ind.Snapshot().volume_ratio, 100.0 / 250.0);  // (200+300+400+100)/4
}

Indicators Ready(double rsi, double hist, double hist_prev, double close, double ma50, double ma200,
                 double ret) {
  Indicators x;
  x.rsi = rsi;
  x.macd_hist = hist;
  x.macd_hist_prev = hist_prev;
  x.close = close;
  x.ma_short = ma50;
  x.ma_long = ma200;
  x.trailing_return = ret;
  x.volume_ratio = std::nan("");
  return x;
}

TEST(Strength, ComponentsAddUpAsDocumented) {
  const ScoringWeights w;
  // RSI 30 (+30), histogram > 0 and rising (+20), close > MA50 > MA200 (+20), alpha +5 % (+15):
  // 50 + 85 = 135 -> clamped to 100; every component agrees -> high confidence.
  Signal s = Score(Ready(30, 0.2, 0.1, 110, 105, 100, 0.07), 0.02, w);
  EXPECT_DOUBLE_EQ(s.rsi_points, 30);
  EXPECT_DOUBLE_EQ(s.macd_points, 20);
  EXPECT_DOUBLE_EQ(s.trend_points, 20);
  EXPECT_NEAR(s.performance_points, 15, 1e-12);
  EXPECT_DOUBLE_EQ(s.strength, 100);
  EXPECT_NEAR(s.alpha, 0.05, 1e-12);
  EXPECT_EQ(s.confidence, Confidence::kHigh);
  // RSI 60 (-15), histogram > 0 falling (+10), close above MA200 only (+10), alpha -2 % (-6):
  // 50 - 1 = 49; two components agree with the (negative) total -> medium.
  s = Score(Ready(60, 0.2, 0.3, 101, 102, 100, 0.0), 0.02, w);
  EXPECT_DOUBLE_EQ(s.rsi_points, -15);
  EXPECT_DOUBLE_EQ(s.macd_points, 10);
  EXPECT_DOUBLE_EQ(s.trend_points, 10);
  EXPECT_NEAR(s.performance_points, -6, 1e-12);
  EXPECT_NEAR(s.strength, 49, 1e-12);
  EXPECT_EQ(s.confidence, Confidence::kMedium);
  // Overbought, falling histogram below 0, downtrend, alpha -20 %: 50 - 100 -> 0.
  s = Score(Ready(85, -0.3, -0.1, 90, 95, 100, -0.15), 0.05, w);
  EXPECT_DOUBLE_EQ(s.strength, 0);
  EXPECT_EQ(s.confidence, Confidence::kHigh);
  // Not warmed up (no MA200, no benchmark): low confidence, partial points.
  s = Score(Ready(50, 0.1, std::nan(""), 101, 100, std::nan(""), 0.01), std::nan(""), w);
  EXPECT_DOUBLE_EQ(s.macd_points, 10);   // no previous histogram: not "rising"
  EXPECT_DOUBLE_EQ(s.trend_points, 10);  // close vs MA50 only
  EXPECT_DOUBLE_EQ(s.performance_points, 0);
  EXPECT_EQ(s.confidence, Confidence::kLow);
  // Volume below average keeps an otherwise unanimous score at medium.
  Indicators quiet = Ready(30, 0.2, 0.1, 110, 105, 100, 0.07);
  quiet.volume_ratio = 0.8;
  EXPECT_EQ(Score(quiet, 0.02, w).confidence, Confidence::kMedium);
  // Custom weights: only RSI counts.
  ScoringWeights only_rsi{50, 40, 0, 0, 0, 0.1};
  EXPECT_DOUBLE_EQ(Score(Ready(40, 1, 0, 1, 1, 1, 0), 0, only_rsi).strength, 70);
}

TEST(Sizing, TiersAtTheirEdges) {
  SizingOptions o;
  EXPECT_DOUBLE_EQ(PositionWeight(100, o), 0.20);
  EXPECT_DOUBLE_EQ(PositionWeight(90, o), 0.175);
  EXPECT_DOUBLE_EQ(PositionWeight(80, o), 0.15);
  EXPECT_NEAR(PositionWeight(79.999, o), 0.15, 1e-4);  // continuous across the edge
  EXPECT_DOUBLE_EQ(PositionWeight(70, o), 0.10);
  EXPECT_DOUBLE_EQ(PositionWeight(65, o), 0.075);
  EXPECT_DOUBLE_EQ(PositionWeight(60, o), 0.05);
  EXPECT_DOUBLE_EQ(PositionWeight(50, o), 0.03);
  EXPECT_DOUBLE_EQ(PositionWeight(49.999, o), 0.0);
  EXPECT_DOUBLE_EQ(PositionWeight(0, o), 0.0);
  o.risk_multiplier = 1.25;  // high risk
  EXPECT_DOUBLE_EQ(PositionWeight(100, o), 0.25);
  EXPECT_DOUBLE_EQ(PositionWeight(60, o), 0.0625);
  o.risk_multiplier = 1.5;
  EXPECT_DOUBLE_EQ(PositionWeight(100, o), 0.25);  // max_weight caps
  o.risk_multiplier = 0.75;                        // low risk
  EXPECT_DOUBLE_EQ(PositionWeight(80, o), 0.1125);
}

TEST(Sizing, KellyFraction) {
  EXPECT_DOUBLE_EQ(KellyFraction(0.6, 1.0), 0.2);   // 0.6 - 0.4 / 1
  EXPECT_DOUBLE_EQ(KellyFraction(0.5, 2.0), 0.25);  // 0.5 - 0.5 / 2
  EXPECT_DOUBLE_EQ(KellyFraction(0.4, 1.0), 0.0);   // no edge
  EXPECT_DOUBLE_EQ(KellyFraction(0.0, 3.0), 0.0);
  EXPECT_DOUBLE_EQ(KellyFraction(1.0, 1.0), 1.0);
}

}  // namespace
}  // namespace ballast::strategies::signals
