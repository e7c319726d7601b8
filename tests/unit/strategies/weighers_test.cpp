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
