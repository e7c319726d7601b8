#include "ballast/engine/planner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/ledger.hpp"

namespace ballast {
namespace {

struct Book {
  std::vector<double> qty, price, weights;
  double cash;
};

Plan MakePlanFor(const Planner& p, const Book& b) {
  Plan out;
  p.MakePlan(PlanInput{b.qty, b.price, b.price, b.weights, b.cash}, out);
  return out;
}

// Applies a plan at its own prices (with the planner's cost models) to a ledger.
Ledger Execute(const Planner& p, const Book& b, const Plan& plan) {
  Ledger l(b.qty.size(), b.cash);
  for (std::size_t i = 0; i < b.qty.size(); ++i) {
    if (b.qty[i] > 0) {
      // Seed holdings without touching cash: buy then add back the cost.
      Fill f{0, static_cast<SymbolIndex>(i), Side::kBuy, b.qty[i], b.price[i], 0, 0, 0, {}};
      l.ExternalFlow(b.qty[i] * b.price[i]);
      l.ApplyFill(f);
    }
  }
  const auto& o = p.Options();
  for (const auto& po : plan.orders) {
    const double fp = SlippedPrice(po.price, po.side == Side::kBuy, o.slippage_bps);
    Fill f{1, po.symbol, po.side, po.quantity, fp, o.commission.Fee(po.quantity, fp), 0, 0, {}};
    l.ApplyFill(f);
  }
  return l;
}

TEST(PlannerTest, FractionalHitsTargetsExactly) {
  Planner p({});
  Book b{{0, 0, 0}, {84.5, 55.5, 109.8}, {0.6, 0.3, 0.1}, 100'000};
  const auto plan = MakePlanFor(p, b);
  ASSERT_EQ(plan.orders.size(), 3u);
  for (const auto& o : plan.orders) {
    EXPECT_EQ(o.side, Side::kBuy);
    EXPECT_DOUBLE_EQ(o.quantity, b.weights[o.symbol] * 100'000 / b.price[o.symbol]);
  }
  EXPECT_EQ(plan.buy_scale, 1.0);
}

TEST(PlannerTest, WholeSharesFloorTargets) {
  PlannerOptions o;
  o.shares = ShareMode::kWhole;
  Planner p(o);
  Book b{{0, 0}, {300.0, 70.0}, {0.5, 0.5}, 1000};
  const auto plan = MakePlanFor(p, b);
  ASSERT_EQ(plan.orders.size(), 2u);
  EXPECT_EQ(plan.orders[0].quantity, 1.0);  // floor(500 / 300)
  EXPECT_EQ(plan.orders[1].quantity, 7.0);  // floor(500 / 70)
}

TEST(PlannerTest, LotSizeRoundsDownToLots) {
  PlannerOptions o;
  o.shares = ShareMode::kWhole;
  o.lot_size = 10;
  Planner p(o);
  Book b{{0}, {7.0}, {1.0}, 1000};
  const auto plan = MakePlanFor(p, b);
  ASSERT_EQ(plan.orders.size(), 1u);
  EXPECT_EQ(plan.orders[0].quantity, 140.0);  // 142.8 -> 140
}

TEST(PlannerTest, SellsComeBeforeBuys) {
  Planner p({});
  Book b{{0, 10, 0, 10}, {10, 10, 10, 10}, {0.5, 0.0, 0.5, 0.0}, 0};
  const auto plan = MakePlanFor(p, b);
  ASSERT_EQ(plan.orders.size(), 4u);
  EXPECT_EQ(plan.orders[0].side, Side::kSell);
  EXPECT_EQ(plan.orders[1].side, Side::kSell);
  EXPECT_EQ(plan.orders[2].side, Side::kBuy);
  EXPECT_EQ(plan.orders[3].side, Side::kBuy);
}

TEST(PlannerTest, SkipsTradesBelowMinNotional) {
  PlannerOptions o;
  o.min_trade_notional = 50;
  Planner p(o);
  Book b{{5, 5}, {100, 100}, {0.52, 0.48}, 0};  // +20 / -20 currency: both skipped
  const auto plan = MakePlanFor(p, b);
  EXPECT_TRUE(plan.orders.empty());
  EXPECT_EQ(plan.skipped_min_notional, 2u);
}

TEST(PlannerTest, KeepsPositionsWithoutTargetOrPrice) {
  Planner p({});
  Book b{{10, 10}, {100, kNaN}, {kNaN, 0.2}, 1000};
  // symbol 0 has no target, symbol 1 cannot trade now: nothing to do.
  EXPECT_TRUE(MakePlanFor(p, b).orders.empty());
}

TEST(PlannerTest, ScalesBuysSoFeesFitTheCash) {
  PlannerOptions o;
  o.commission.kind = CommissionModel::Kind::kFixed;
  o.commission.per_order = 5.0;
  o.slippage_bps = 10;
  Planner p(o);
  Book b{{0, 0}, {50, 20}, {0.7, 0.3}, 10'000};
  const auto plan = MakePlanFor(p, b);
  EXPECT_LT(plan.buy_scale, 1.0);
  const Ledger l = Execute(p, b, plan);
  EXPECT_GE(l.Cash(), 0.0);
  EXPECT_LT(l.Cash(), 1.0);  // and it spends nearly all of it
}

TEST(PlannerTest, WholeShareBuyThatCannotFitIsDroppedNotRoundedUp) {
  PlannerOptions o;
  o.shares = ShareMode::kWhole;
  o.commission.kind = CommissionModel::Kind::kFixed;
  o.commission.per_order = 1.0;
  Planner p(o);
  // Target is 1 share at 100 but only 100.5 cash: 100 + $1 fee does not fit.
  Book b{{0}, {100.0}, {1.0}, 100.5};
  const auto plan = MakePlanFor(p, b);
  EXPECT_TRUE(plan.orders.empty());
  EXPECT_GE(plan.est_cash_after, 0.0);
}

Plan Invest(const Planner& p, const Book& b, double amount, Route route, double min_inv = 0.0) {
  Plan out;
  p.MakeInvestPlan(PlanInput{b.qty, b.price, b.price, b.weights, b.cash},
                   InvestInput{amount, route, min_inv}, out);
  return out;
}

TEST(PlannerInvestTest, ByWeightSplitsTheAmount) {
  Planner p({});
  Book b{{10, 10}, {10, 20}, {0.25, 0.75}, 1000};
  const auto plan = Invest(p, b, 400, Route::kByWeight);
  ASSERT_EQ(plan.orders.size(), 2u);
  EXPECT_DOUBLE_EQ(plan.orders[0].quantity, 100.0 / 10);
  EXPECT_DOUBLE_EQ(plan.orders[1].quantity, 300.0 / 20);
  EXPECT_DOUBLE_EQ(plan.invested, 400.0);
}

// Hand case: holdings 800 (A) and 200 (B), targets 50/50, invest 400 -> value after 1400,
// targets 700/700: A is over, so all 400 goes to B (deficit 500 > 400).
TEST(PlannerInvestTest, UnderweightFirstFillsTheDeficit) {
  Planner p({});
  Book b{{80, 20}, {10, 10}, {0.5, 0.5}, 400};
  const auto plan = Invest(p, b, 400, Route::kUnderweightFirst);
  ASSERT_EQ(plan.orders.size(), 1u);
  EXPECT_EQ(plan.orders[0].symbol, 1u);
  EXPECT_NEAR(plan.orders[0].quantity, 40.0, 1e-9);
  // With 1000 to invest, deficits (A 200, B 800 at value 2000) are filled exactly: 50/50 after.
  Book c{{80, 20}, {10, 10}, {0.5, 0.5}, 1000};
  const auto full = Invest(p, c, 1000, Route::kUnderweightFirst);
  double a = 80, bq = 20;
  for (const auto& o : full.orders)
    (o.symbol == 0 ? a : bq) += o.quantity;
  EXPECT_NEAR(a, 100.0, 1e-6);
  EXPECT_NEAR(bq, 100.0, 1e-6);
}

// Hand case (issue 15): holdings SPY 40, AGG 30, GLD 30 (price 1), 100 to invest, targets
// 50/25/25, max_weight 0.4 of the 200 after. By weight SPY would get 50, but its room is
// 0.4 x 200 - 40 = 40: the other 10 goes to AGG and GLD by weight (5 each), nothing to cash.
TEST(PlannerInvestTest, MaxWeightRoutesTheExcessAroundCappedNames) {
  PlannerOptions o;
  o.max_weight = 0.4;
  Planner p(o);
  Book b{{40, 30, 30}, {1, 1, 1}, {0.5, 0.25, 0.25}, 100};
  const auto plan = Invest(p, b, 100, Route::kByWeight);
  ASSERT_EQ(plan.orders.size(), 3u);
  EXPECT_NEAR(plan.orders[0].quantity, 40.0, 1e-9);
  EXPECT_NEAR(plan.orders[1].quantity, 30.0, 1e-9);
  EXPECT_NEAR(plan.orders[2].quantity, 30.0, 1e-9);
  EXPECT_NEAR(plan.invested, 100.0, 1e-9);
  ASSERT_EQ(plan.clips.size(), 1u);
  EXPECT_EQ(plan.clips[0].rule, "max_weight");
  EXPECT_NEAR(plan.clips[0].requested, 0.45, 1e-12);
  // When every name is at its cap the rest stays in cash: 0.4 x 3 > 1 here, so cap at 0.3.
  PlannerOptions tight;
  tight.max_weight = 0.3;
  Planner q(tight);
  const auto capped = Invest(q, b, 100, Route::kByWeight);
  double bought = 0.0;
  for (const auto& ord : capped.orders)
    bought += ord.quantity;
  EXPECT_NEAR(bought, 3 * 0.3 * 200 - 100, 1e-9);  // each to 60; 80 of the 100 spent
}

TEST(PlannerInvestTest, MinInvestmentDropsAndRedistributes) {
  Planner p({});
  Book b{{0, 0, 0}, {10, 10, 10}, {0.5, 0.45, 0.05}, 100};
  const auto plan = Invest(p, b, 100, Route::kByWeight, 10.0);  // C's 5 < 10
  EXPECT_EQ(plan.skipped_min_investment, 1u);
  ASSERT_EQ(plan.orders.size(), 2u);
  EXPECT_NEAR(plan.orders[0].quantity * 10, 100 * 0.5 / 0.95, 1e-9);
  EXPECT_NEAR(plan.orders[1].quantity * 10, 100 * 0.45 / 0.95, 1e-9);
}

TEST(PlannerInvestTest, NeverSpendsMoreThanTheCash) {
  PlannerOptions o;
  o.commission.kind = CommissionModel::Kind::kFixed;
  o.commission.per_order = 2.0;
  Planner p(o);
  Book b{{0, 0}, {10, 10}, {0.5, 0.5}, 300};
  const auto plan = Invest(p, b, 1000, Route::kByWeight);  // asks for more than there is
  EXPECT_LE(plan.invested, 300.0 + 1e-9);
  EXPECT_GE(plan.est_cash_after, -1e-9);
}

// Property: for random books and targets in fractional mode with zero costs, executing the plan
// conserves value and leaves weights + cash = 1 at exactly the targets.
TEST(PlannerTest, PropertyFractionalZeroCostConservesValueAndHitsWeights) {
  const unsigned seed = 20261123;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> price(1.0, 500.0), qty(0.0, 100.0), u(0.0, 1.0);
  Planner p({});
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = 1 + rng() % 12;
    Book b;
    b.cash = u(rng) * 10'000;
    double wsum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      b.price.push_back(price(rng));
      b.qty.push_back(u(rng) < 0.3 ? 0.0 : qty(rng));
      b.weights.push_back(u(rng));
      wsum += b.weights.back();
    }
    for (auto& w : b.weights)
      w /= wsum * (u(rng) < 0.5 ? 1.0 : 1.25);  // sometimes keep cash
    double v0 = b.cash;
    for (std::size_t i = 0; i < n; ++i)
      v0 += b.qty[i] * b.price[i];
    const auto plan = MakePlanFor(p, b);
    const Ledger l = Execute(p, b, plan);
    const double v1 = l.Equity(b.price);
    ASSERT_NEAR(v1, v0, 1e-9 * v0) << "seed " << seed << " trial " << trial;
    double weights_plus_cash = l.Cash() / v1;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = l.Quantity(static_cast<SymbolIndex>(i)) * b.price[i] / v1;
      ASSERT_NEAR(w, b.weights[i], 1e-12) << "seed " << seed << " trial " << trial;
      weights_plus_cash += w;
    }
    ASSERT_NEAR(weights_plus_cash, 1.0, 1e-12) << "seed " << seed << " trial " << trial;
  }
}

// Property: whatever the costs, a cash account never goes below zero after the plan executes.
TEST(PlannerTest, PropertyCashNeverNegativeWithCosts) {
  const unsigned seed = 77;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> price(1.0, 900.0), u(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    PlannerOptions o;
    o.shares = u(rng) < 0.5 ? ShareMode::kWhole : ShareMode::kFractional;
    o.slippage_bps = u(rng) * 50;
    o.commission.kind = static_cast<CommissionModel::Kind>(rng() % 4);
    o.commission.per_order = 1 + u(rng) * 10;
    o.commission.bps = u(rng) * 30;
    Planner p(o);
    const std::size_t n = 1 + rng() % 8;
    Book b;
    b.cash = 100 + u(rng) * 50'000;
    double wsum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      b.price.push_back(price(rng));
      b.qty.push_back(u(rng) < 0.5 ? 0.0 : std::floor(u(rng) * 50));
      b.weights.push_back(u(rng));
      wsum += b.weights.back();
    }
    for (auto& w : b.weights)
      w /= wsum;
    const auto plan = MakePlanFor(p, b);
    const Ledger l = Execute(p, b, plan);
    ASSERT_GE(l.Cash(), -1e-9) << "seed " << seed << " trial " << trial;
  }
}

TEST(PlannerTest, LimitPricesAreOnTheTickAndRoundTowardTheMarket) {
  EXPECT_EQ(LimitPrice(100.0, Side::kBuy, 10), 100.10);
  EXPECT_EQ(LimitPrice(100.0, Side::kSell, 10), 99.90);
  EXPECT_EQ(LimitPrice(101.25, Side::kBuy, 0), 101.25);      // already on the tick: unchanged
  EXPECT_EQ(LimitPrice(101.231, Side::kBuy, 0), 101.24);     // a buy rounds up
  EXPECT_EQ(LimitPrice(101.239, Side::kSell, 0), 101.23);    // a sell rounds down
  EXPECT_EQ(LimitPrice(100.0, Side::kBuy, -50), 99.50);      // passive: below the market
  EXPECT_EQ(LimitPrice(0.5, Side::kBuy, 10), 0.5005);        // $0.0001 below $1
  EXPECT_EQ(LimitPrice(0.00001, Side::kSell, 100), 0.0001);  // never below one tick
}

TEST(PlannerTest, LimitOrdersCarryTheirPriceAndMarketOrdersNone) {
  PlannerOptions o;
  const Book b{{10, 0}, {50.0, 20.0}, {0.2, 0.8}, 500.0};  // sell A, buy B
  const Plan market = MakePlanFor(Planner(o), b);
  ASSERT_EQ(market.orders.size(), 2u);
  for (const auto& po : market.orders)
    EXPECT_EQ(po.limit_price, 0.0);
  o.order_type = OrderType::kLimit;
  o.limit_offset_bps = 25;
  const Plan limit = MakePlanFor(Planner(o), b);
  ASSERT_EQ(limit.orders.size(), 2u);
  EXPECT_EQ(limit.orders[0].side, Side::kSell);
  EXPECT_EQ(limit.orders[0].limit_price, 49.87);  // 50 * (1 - 0.0025) = 49.875, down
  EXPECT_EQ(limit.orders[1].limit_price, 20.05);  // 20 * 1.0025
  // Buys are sized at their limit: the 800 the account has after the sell buys 800 / 20.05.
  EXPECT_EQ(market.orders[1].quantity, 40.0);
  EXPECT_NEAR(limit.orders[1].quantity, 800.0 / 20.05, 1e-9);
}

}  // namespace
}  // namespace ballast
