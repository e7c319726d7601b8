// The pre-trade risk gate, rule by rule, with figures computed by hand.

#include "ballast/engine/risk.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ballast {
namespace {

Plan PlanOf(std::vector<PlannedOrder> orders, double equity = 1000.0) {
  Plan p;
  p.orders = std::move(orders);
  p.equity = equity;
  return p;
}

TEST(RiskGateTest, DeniesShortSalesAndKeepsTheRest) {
  const RiskGate gate(0.0, {});
  const std::vector<double> held{5.0, 0.0};
  Plan plan = PlanOf({{0, Side::kSell, 6.0, 10.0, 0.0}, {1, Side::kBuy, 1.0, 10.0, 0.0}});
  std::vector<RiskDenial> denied;
  gate.Check(held, 100.0, plan, denied);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].reason, "short_sale_not_allowed");
  EXPECT_EQ(denied[0].symbol, 0u);
  ASSERT_EQ(plan.orders.size(), 1u);
  EXPECT_EQ(plan.orders[0].symbol, 1u);
}

TEST(RiskGateTest, SellsFundTheBuysThatFollowThemAndNoMore) {
  // Cash 10; selling 5 at 10 brings 50 less 1 % slippage = 49.5; a fixed $1 fee on each order.
  CommissionModel fee;
  fee.kind = CommissionModel::Kind::kFixed;
  fee.per_order = 1.0;
  const RiskGate gate(100.0, fee);
  const std::vector<double> held{5.0, 0.0, 0.0};
  // Buy 1: 5 x 10 x 1.01 + 1 = 51.5 <= 10 + 49.5 - 1 = 58.5. Buy 2 then needs 7.06 > 7.0 left.
  Plan plan = PlanOf({{0, Side::kSell, 5.0, 10.0, 0.0},
                      {1, Side::kBuy, 5.0, 10.0, 0.0},
                      {2, Side::kBuy, 0.6, 10.0, 0.0}});
  std::vector<RiskDenial> denied;
  gate.Check(held, 10.0, plan, denied);
  ASSERT_EQ(plan.orders.size(), 2u);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].symbol, 2u);
  EXPECT_EQ(denied[0].reason, "insufficient_cash");
  // With 0.5 shares (5.05 + 1 = 6.05 <= 7.0) it passes.
  plan = PlanOf({{0, Side::kSell, 5.0, 10.0, 0.0},
                 {1, Side::kBuy, 5.0, 10.0, 0.0},
                 {2, Side::kBuy, 0.5, 10.0, 0.0}});
  gate.Check(held, 10.0, plan, denied);
  EXPECT_TRUE(denied.empty());
  EXPECT_EQ(plan.orders.size(), 3u);
}

TEST(RiskGateTest, MarginBuyingPowerIsCashPlusWhatMayBeBorrowed) {
  // Equity 1000 at 1.5x: buying power 100 + 500 = 600.
  const RiskGate gate(0.0, {}, 1.5);
  const std::vector<double> held{0.0};
  std::vector<RiskDenial> denied;
  Plan ok = PlanOf({{0, Side::kBuy, 60.0, 10.0, 0.0}});
  gate.Check(held, 100.0, ok, denied);
  EXPECT_TRUE(denied.empty());
  Plan too_much = PlanOf({{0, Side::kBuy, 60.1, 10.0, 0.0}});
  gate.Check(held, 100.0, too_much, denied);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].reason, "insufficient_cash");
}

TEST(RiskGateTest, NonFiniteOrNonPositiveSizesAreDenied) {
  const RiskGate gate(0.0, {});
  const std::vector<double> held{10.0};
  std::vector<RiskDenial> denied;
  Plan plan = PlanOf({{0, Side::kBuy, std::nan(""), 10.0, 0.0},
                      {0, Side::kBuy, 0.0, 10.0, 0.0},
                      {0, Side::kSell, 1.0, 0.0, 0.0},
                      {0, Side::kBuy, INFINITY, 10.0, 0.0}});
  gate.Check(held, 1e9, plan, denied);
  EXPECT_TRUE(plan.orders.empty());
  ASSERT_EQ(denied.size(), 4u);
  for (const auto& d : denied)
    EXPECT_EQ(d.reason, "invalid_order_size");
}

TEST(RiskGateTest, OperatorLimitsDenyInTheirOrderAndCountTodaysTurnover) {
  // Equity 1000, cash 1000. Limits: 300 per order, 50 % of equity a day, 25 % in one symbol.
  RiskGate gate(0.0, {}, 1.0, RiskLimits{300.0, 0.5, 0.25});
  gate.SetTurnoverToday(100.0);  // already sent today
  const std::vector<double> held{10.0, 0.0, 0.0, 0.0};
  Plan plan = PlanOf({{0, Side::kSell, 5.0, 10.0, 0.0},    // 50: ok (turnover 150)
                      {1, Side::kBuy, 40.0, 10.0, 0.0},    // 400 > 300: max_order_notional
                      {2, Side::kBuy, 30.0, 10.0, 0.0},    // 300: weight 0.30 > 0.25: max_weight
                      {3, Side::kBuy, 20.0, 10.0, 0.0},    // 200: ok (turnover 350)
                      {1, Side::kBuy, 20.0, 10.0, 0.0}});  // 200: 550 > 500: max_daily_turnover
  std::vector<RiskDenial> denied;
  gate.Check(held, 1000.0, plan, denied);
  ASSERT_EQ(denied.size(), 3u);
  EXPECT_EQ(denied[0].reason, "max_order_notional");
  EXPECT_EQ(denied[1].reason, "max_weight");
  EXPECT_EQ(denied[2].reason, "max_daily_turnover");
  ASSERT_EQ(plan.orders.size(), 2u);
  EXPECT_EQ(plan.orders[1].symbol, 3u);

  gate.SetKillSwitch(true);  // every order, whatever the limits
  Plan again = PlanOf({{0, Side::kSell, 1.0, 10.0, 0.0}});
  gate.Check(held, 1000.0, again, denied);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].reason, "kill_switch");
  EXPECT_TRUE(again.orders.empty());
}

}  // namespace
}  // namespace ballast
