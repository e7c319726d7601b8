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
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 2 + rng() % 25;
    std::vector<double> returns((n + 10) * n);
    for (std::size_t t = 0; t < n + 10; ++t) {
      const double m = z(rng);
      for (std::size_t a = 0; a < n; ++a)
        returns[t * n + a] = 0.01 * (u(rng) * m + (0.5 + u(rng)) * z(rng));
    }
    const auto cov = SampleCovariance(returns, n + 10, n);
    const double lo = u(rng) < 0.5 ? 0.0 : u(rng) / static_cast<double>(n);
    const double hi = std::max(1.0 / static_cast<double>(n) + 1e-9, u(rng) < 0.5 ? 1.0 : u(rng));
    const auto w = MinVarianceWeights(cov, n, lo, hi);
    double sum = 0;
    for (double x : w) {
      sum += x;
      ASSERT_GE(x, lo - 1e-12);
      ASSERT_LE(x, hi + 1e-12);
    }
    ASSERT_NEAR(sum, 1.0, 1e-10) << "seed " << seed << " trial " << trial;
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
      for (int a = 0; a <= 1000; ++a) {
        for (int b = 0; a + b <= 1000; ++b) {
          const std::vector<double> x{a / 1000.0, b / 1000.0, 1.0 - (a + b) / 1000.0};
          bool ok = true;
          for (double xi : x)
            ok = ok && xi >= lo - 1e-12 && xi <= hi + 1e-12;
          if (ok) grid_best = std::min(grid_best, Variance(cov, x));
        }
      }
      EXPECT_LE(best, grid_best + 1e-15) << lo << " " << hi;
      EXPECT_GT(best, grid_best - 1e-5);  // and the grid comes close
    }
  }
}

}  // namespace
}  // namespace ballast::strategies
