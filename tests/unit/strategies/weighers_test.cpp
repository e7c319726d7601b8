#include "ballast/strategies/weighers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ballast::strategies {
namespace {

// Returns whose sample stdevs are known: asset 0 alternates +-1%, asset 1 alternates +-2%.
TEST(WeighersTest, InverseVolIsProportionalToOneOverStdev) {
  std::vector<double> r;
  for (int t = 0; t < 10; ++t) {
    const double s = t % 2 ? 1.0 : -1.0;
    r.push_back(0.01 * s);
    r.push_back(0.02 * s);
  }
  const auto w = InverseVolWeights(r, 10, 2);
  EXPECT_NEAR(w[0], 2.0 / 3.0, 1e-15);  // 1/0.01 : 1/0.02 = 2 : 1
  EXPECT_NEAR(w[1], 1.0 / 3.0, 1e-15);
}

// Two assets: equal risk contribution is inverse volatility whatever the correlation.
TEST(WeighersTest, RiskParityOfTwoAssetsIsInverseVolatility) {
  for (double rho : {-0.8, 0.0, 0.3, 0.9}) {
    const double s1 = 0.1, s2 = 0.3;
    const std::vector<double> cov{s1 * s1, rho * s1 * s2, rho * s1 * s2, s2 * s2};
    const auto w = RiskParityWeights(cov, 2, {});
    EXPECT_NEAR(w[0], (1 / s1) / (1 / s1 + 1 / s2), 1e-12) << rho;
  }
}

// Property: on random covariances every risk contribution equals its budget to 1e-10.
TEST(WeighersTest, RiskParityEqualisesRiskContributions) {
  const unsigned seed = 5150;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.2, 2.0);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 2 + rng() % 30;
    const std::size_t t = n + 20;
    std::vector<double> returns(t * n);
    for (auto& x : returns)
      x = 0.01 * z(rng);
    const auto cov = SampleCovariance(returns, t, n);
    std::vector<double> budgets(n);
    double sum = 0;
    for (auto& b : budgets)
      sum += (b = trial % 2 ? u(rng) : 1.0);
    for (auto& b : budgets)
      b /= sum;
    const auto w = RiskParityWeights(cov, n, budgets);
    double total = 0, wsum = 0;
    std::vector<double> cw(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j)
        cw[i] += cov[i * n + j] * w[j];
      total += w[i] * cw[i];
      wsum += w[i];
      ASSERT_GT(w[i], 0.0);
    }
    ASSERT_NEAR(wsum, 1.0, 1e-12);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_NEAR(w[i] * cw[i] / total / budgets[i], 1.0, 1e-10)
          << "seed " << seed << " trial " << trial;
    }
  }
}

TEST(WeighersTest, SampleCovarianceUsesDdofOne) {
  const std::vector<double> r{1, 2, 3, 4, 5, 6};  // 3 rows x 2 cols
  const auto c = SampleCovariance(r, 3, 2);
  EXPECT_DOUBLE_EQ(c[0], 4.0);  // var of 1,3,5
  EXPECT_DOUBLE_EQ(c[1], 4.0);
  EXPECT_DOUBLE_EQ(c[3], 4.0);
}

}  // namespace
}  // namespace ballast::strategies

namespace ballast::strategies {
namespace {

double Variance(const std::vector<double>& cov, const std::vector<double>& w) {
  const std::size_t n = w.size();
  double v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j)
      v += w[i] * cov[i * n + j] * w[j];
  }
  return v;
}

// A random bounded problem: a factor-structured sample covariance of 2-26 assets with a few more
// observations than assets, a lower bound of 0 or up to 1/n, an upper bound of 1 or less.
struct BoundedProblem {
  std::size_t n;
  std::vector<double> cov;
  double lo, hi;
};
BoundedProblem RandomProblem(std::mt19937_64& rng) {
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::size_t n = 2 + rng() % 25;
  std::vector<double> returns((n + 10) * n);
  for (std::size_t t = 0; t < n + 10; ++t) {
    const double m = z(rng);
    for (std::size_t a = 0; a < n; ++a)
      returns[t * n + a] = 0.01 * (u(rng) * m + (0.5 + u(rng)) * z(rng));
  }
  const double lo = u(rng) < 0.5 ? 0.0 : u(rng) / static_cast<double>(n);
  const double hi = std::max(1.0 / static_cast<double>(n) + 1e-9, u(rng) < 0.5 ? 1.0 : u(rng));
  return {n, SampleCovariance(returns, n + 10, n), lo, hi};
}

// Calls f on every point of a 0.001 grid of the three-asset simplex within [lo, hi].
template <class F>
void ForEachGridPoint(double lo, double hi, F f) {
  for (int a = 0; a <= 1000; ++a) {
    for (int b = 0; a + b <= 1000; ++b) {
      const std::vector<double> x{a / 1000.0, b / 1000.0, 1.0 - (a + b) / 1000.0};
      bool ok = true;
      for (double xi : x)
        ok = ok && xi >= lo - 1e-12 && xi <= hi + 1e-12;
      if (ok) f(x);
    }
  }
}

// Weights within [lo, hi] that sum to 1.
::testing::AssertionResult Feasible(const std::vector<double>& w, double lo, double hi) {
  double sum = 0;
  for (double x : w) {
    sum += x;
    if (x < lo - 1e-12 || x > hi + 1e-12) return ::testing::AssertionFailure() << "weight " << x;
  }
  if (std::abs(sum - 1.0) > 1e-10) return ::testing::AssertionFailure() << "sum " << sum;
  return ::testing::AssertionSuccess();
}

TEST(MinVarianceTest, DiagonalCovarianceGivesInverseVariance) {
  const std::vector<double> cov{0.04, 0, 0, 0, 0.01, 0, 0, 0, 0.09};
  const auto w = MinVarianceWeights(cov, 3, 0.0, 1.0);
  const double z = 1 / 0.04 + 1 / 0.01 + 1 / 0.09;
  EXPECT_NEAR(w[0], (1 / 0.04) / z, 1e-12);
  EXPECT_NEAR(w[1], (1 / 0.01) / z, 1e-12);
  EXPECT_NEAR(w[2], (1 / 0.09) / z, 1e-12);
  // With a 40% cap the low-variance asset is held at the cap.
  const auto capped = MinVarianceWeights(cov, 3, 0.0, 0.4);
  EXPECT_NEAR(capped[1], 0.4, 1e-12);
  EXPECT_NEAR(capped[0] + capped[1] + capped[2], 1.0, 1e-12);
}

// Property: on random covariances and bounds the solution is feasible and satisfies the KKT
// conditions: with g = Cw - lambda, g_i = 0 for free weights, g_i >= 0 at the lower bound and
// g_i <= 0 at the upper bound.
TEST(MinVarianceTest, SatisfiesKktConditions) {
  const unsigned seed = 31337;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const auto [n, cov, lo, hi] = RandomProblem(rng);
    const auto w = MinVarianceWeights(cov, n, lo, hi);
    ASSERT_TRUE(Feasible(w, lo, hi)) << "seed " << seed << " trial " << trial;
    std::vector<double> g(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j)
        g[i] += cov[i * n + j] * w[j];
    }
    double lambda = 0;
    int free = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (w[i] > lo + 1e-9 && w[i] < hi - 1e-9) lambda += g[i], ++free;
    }
    if (free == 0) continue;  // every weight at a bound: nothing to check beyond feasibility
    lambda /= free;
    const double tol = 1e-9 * std::abs(lambda) + 1e-14;
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = g[i] - lambda;
      if (w[i] > lo + 1e-9 && w[i] < hi - 1e-9) {
        ASSERT_NEAR(gi, 0.0, tol) << "seed " << seed << " trial " << trial;
      } else if (w[i] <= lo + 1e-9) {
        ASSERT_GE(gi, -tol) << "seed " << seed << " trial " << trial;
      } else {
        ASSERT_LE(gi, tol) << "seed " << seed << " trial " << trial;
      }
    }
  }
}

// Brute force on three assets: no point of a fine grid of the bounded simplex does better.
TEST(MinVarianceTest, NoGridPointBeatsItOnThreeAssets) {
  const std::vector<std::vector<double>> covs{
      {0.04, 0.018, -0.01, 0.018, 0.09, 0.02, -0.01, 0.02, 0.0225},
      {0.01, 0.009, 0.008, 0.009, 0.0121, 0.0099, 0.008, 0.0099, 0.0144},
  };
  for (const auto& cov : covs) {
    for (auto [lo, hi] : {std::pair{0.0, 1.0}, std::pair{0.1, 0.5}, std::pair{0.0, 0.35}}) {
      const auto w = MinVarianceWeights(cov, 3, lo, hi);
      const double best = Variance(cov, w);
      double grid_best = 1e9;
      ForEachGridPoint(lo, hi, [&](const std::vector<double>& x) {
        grid_best = std::min(grid_best, Variance(cov, x));
      });
      EXPECT_LE(best, grid_best + 1e-15) << lo << " " << hi;
      EXPECT_GT(best, grid_best - 1e-5);  // and the grid comes close
    }
  }
}

}  // namespace
}  // namespace ballast::strategies

namespace ballast::strategies {
namespace {

// Reference: scikit-learn 1.2's ledoit_wolf on the same returns
// (/usr/bin/python3 tests/tools/ledoit_wolf_reference.py).
TEST(LedoitWolfTest, MatchesScikitLearn) {
  const std::size_t rows = 40, cols = 4;
  std::vector<double> r;
  for (std::size_t t = 0; t < rows; ++t) {
    for (std::size_t c = 0; c < cols; ++c) {
      const auto tt = static_cast<double>(t), cc = static_cast<double>(c);
      r.push_back(0.01 * std::sin(0.7 * (tt + 1) * (cc + 1)) +
                  0.02 * std::cos(1.3 * tt) * (1 + cc) + 0.001 * cc);
    }
  }
  const std::vector<double> expected{
      0.00027260955053190521, 0.00038691689861340071, 0.00059564416772770108,
      0.00078931666198091494, 0.00038691689861340071, 0.00084696126950374563,
      0.0011841048354218513,  0.0015679599778976355,  0.00059564416772770108,
      0.0011841048354218513,  0.0019007950095465494,  0.0024147253648316301,
      0.00078931666198091494, 0.0015679599778976355,  0.0024147253648316301,
      0.0032755492312010852};
  const auto cov = LedoitWolfCovariance(r, rows, cols);
  ASSERT_EQ(cov.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(cov[i], expected[i], 1e-15 + 1e-12 * std::abs(expected[i])) << i;
}

double Sharpe(const std::vector<double>& cov, const std::vector<double>& e,
              const std::vector<double>& w) {
  double num = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    num += e[i] * w[i];
  return num / std::sqrt(Variance(cov, w));
}

// Uncorrelated assets with positive excess returns: the tangency portfolio is interior,
// w proportional to C^-1 e = e_i / s_ii.
TEST(MaxSharpeTest, DiagonalCovarianceGivesClosedForm) {
  const std::vector<double> cov{0.04, 0, 0, 0, 0.01, 0, 0, 0, 0.09};
  const std::vector<double> e{0.02, 0.01, 0.03};
  const auto w = MaxSharpeWeights(cov, e, 3, 0.0, 1.0);
  ASSERT_TRUE(w);
  const double z = 0.02 / 0.04 + 0.01 / 0.01 + 0.03 / 0.09;
  EXPECT_NEAR((*w)[0], 0.02 / 0.04 / z, 1e-12);
  EXPECT_NEAR((*w)[1], 0.01 / 0.01 / z, 1e-12);
  EXPECT_NEAR((*w)[2], 0.03 / 0.09 / z, 1e-12);
}

TEST(MaxSharpeTest, NoPositiveExcessReturnMeansNoSolution) {
  const std::vector<double> cov{0.04, 0, 0, 0.01};
  EXPECT_FALSE(MaxSharpeWeights(cov, {-0.01, -0.002}, 2, 0.0, 1.0));
  EXPECT_FALSE(MaxSharpeWeights(cov, {0.0, 0.0}, 2, 0.0, 1.0));
  // A positive asset that bounds cannot weigh enough to beat the negative one: still none.
  EXPECT_FALSE(MaxSharpeWeights(cov, {0.01, -0.05}, 2, 0.0, 0.6));
  EXPECT_TRUE(MaxSharpeWeights(cov, {0.01, -0.002}, 2, 0.0, 1.0));
}

// Property: first-order optimality of the Sharpe ratio on the bounded simplex. With
// g = grad SR = e / s - (e'w) C w / s^3: g_i = eta for free weights, <= eta at the lower bound,
// >= eta at the upper bound.
TEST(MaxSharpeTest, SatisfiesKktConditions) {
  const unsigned seed = 4242;
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const auto [n, cov, lo, hi] = RandomProblem(rng);
    std::normal_distribution<double> z(0.0, 1.0);
    std::vector<double> e(n);
    for (auto& x : e)
      x = 0.001 * z(rng);
    const auto sol = MaxSharpeWeights(cov, e, n, lo, hi);
    if (!sol) continue;
    const auto& w = *sol;
    ASSERT_TRUE(Feasible(w, lo, hi)) << "seed " << seed << " trial " << trial;
    double mean = 0, var = Variance(cov, w);
    for (std::size_t i = 0; i < n; ++i)
      mean += e[i] * w[i];
    const double sd = std::sqrt(var);
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i) {
      double cw = 0;
      for (std::size_t j = 0; j < n; ++j)
        cw += cov[i * n + j] * w[j];
      g[i] = e[i] / sd - mean * cw / (sd * sd * sd);
    }
    double eta = 0, scale = 0;
    int free = 0;
    for (std::size_t i = 0; i < n; ++i) {
      scale = std::max(scale, std::abs(g[i]));
      if (w[i] > lo + 1e-9 && w[i] < hi - 1e-9) eta += g[i], ++free;
    }
    if (free == 0) continue;
    eta /= free;
    const double tol = 1e-8 * scale + 1e-12;
    for (std::size_t i = 0; i < n; ++i) {
      if (w[i] > lo + 1e-9 && w[i] < hi - 1e-9) {
        ASSERT_NEAR(g[i], eta, tol) << "seed " << seed << " trial " << trial << " i " << i;
      } else if (w[i] <= lo + 1e-9) {
        ASSERT_LE(g[i], eta + tol) << "seed " << seed << " trial " << trial;
      } else {
        ASSERT_GE(g[i], eta - tol) << "seed " << seed << " trial " << trial;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 150);  // most trials have a solution with free weights
}

// Brute force on three assets: no point of a fine grid of the bounded simplex has a higher
// Sharpe ratio, and the grid's best comes close.
TEST(MaxSharpeTest, NoGridPointBeatsItOnThreeAssets) {
  const std::vector<std::vector<double>> covs{
      {0.04, 0.018, -0.01, 0.018, 0.09, 0.02, -0.01, 0.02, 0.0225},
      {0.01, 0.009, 0.008, 0.009, 0.0121, 0.0099, 0.008, 0.0099, 0.0144},
  };
  const std::vector<std::vector<double>> excess{
      {0.01, 0.03, 0.005}, {0.004, -0.002, 0.006}, {-0.01, 0.002, 0.001}};
  for (const auto& cov : covs) {
    for (const auto& e : excess) {
      for (auto [lo, hi] : {std::pair{0.0, 1.0}, std::pair{0.1, 0.5}, std::pair{0.0, 0.35}}) {
        const auto w = MaxSharpeWeights(cov, e, 3, lo, hi);
        double grid_best = -1e9;
        ForEachGridPoint(lo, hi, [&](const std::vector<double>& x) {
          grid_best = std::max(grid_best, Sharpe(cov, e, x));
        });
        if (!w) {
          EXPECT_LE(grid_best, 1e-12);  // no solution only when nothing beats the risk-free rate
          continue;
        }
        const double best = Sharpe(cov, e, *w);
        EXPECT_GE(best, grid_best - 1e-12) << lo << " " << hi;
        EXPECT_LT(best, grid_best + 1e-3);
      }
    }
  }
}

}  // namespace
}  // namespace ballast::strategies
