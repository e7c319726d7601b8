#include "ballast/adapters/sim/sim_venue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ballast::sim {
namespace {

// A hand-written listener that records what the venue reports.
struct Recorder final : VenueListener {
  std::vector<Fill> fills;
  std::vector<std::string> log;
  void OnOrderAccepted(OrderId id, Timestamp) override {
    log.push_back("accepted " + std::to_string(id));
  }
  void OnFill(const Fill& f) override {
    fills.push_back(f);
    log.push_back("fill " + std::to_string(f.order));
  }
  void OnOrderRejected(OrderId id, std::string_view reason, Timestamp) override {
    log.push_back("rejected " + std::to_string(id) + " " + std::string(reason));
  }
  void OnOrderCanceled(OrderId id, std::string_view reason, Timestamp) override {
    log.push_back("canceled " + std::to_string(id) + " " + std::string(reason));
  }
  void OnOrderExpired(OrderId id, Timestamp) override {
    log.push_back("expired " + std::to_string(id));
  }
  void OnOrderAmended(OrderId id, double quantity, Timestamp) override {
    log.push_back("amended " + std::to_string(id) + " " + std::to_string(quantity));
  }
};

BarPanel TwoDays() {
  BarPanel p({"A", "B"});
  p.AppendRow(DayToTimestamp(*ParseIsoDate("2020-01-02")));
  p.AppendRow(DayToTimestamp(*ParseIsoDate("2020-01-03")));
  p.SetBar(0, 0, 10, 11, 9, 10.5, 100);
  p.SetBar(0, 1, 20, 21, 19, 20.5, 100);
  p.SetBar(1, 0, 11, 12, 10, 11.5, 100);  // B has no bar on day 2
  return p;
}

Order MakeOrder(OrderId id, SymbolIndex s, Side side, double q) {
  Order o;
  o.id = id;
  o.symbol = s;
  o.side = side;
  o.quantity = q;
  return o;
}

TEST(SimVenueTest, CloseFillUsesTheDecisionBarsClose) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenue v(p, {}, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(MakeOrder(1, 0, Side::kBuy, 3));
  EXPECT_TRUE(r.fills.empty());
  v.OnSliceClose(0);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].price, 10.5);
  EXPECT_EQ(r.fills[0].quantity, 3.0);
}

TEST(SimVenueTest, NextOpenFillWaitsForTheSymbolsNextBar) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenueOptions o;
  o.fill = FillModel::kNextOpen;
  SimVenue v(p, o, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(MakeOrder(1, 0, Side::kBuy, 2));
  v.Submit(MakeOrder(2, 1, Side::kBuy, 2));
  v.OnSliceClose(0);
  EXPECT_TRUE(r.fills.empty());
  v.OnSliceOpen(1);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].price, 11.0);  // A's open on day 2
  EXPECT_EQ(v.Pending(), 1u);         // B has no bar yet
  v.Cancel(2, "user_request");
  EXPECT_EQ(r.log.back(), "canceled 2 user_request");
}

TEST(SimVenueTest, ChargesCommissionAndSlippageAgainstTheTrader) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenueOptions o;
  o.commission.kind = CommissionModel::Kind::kPerShare;  // 0.005/share, min 1, max 1%
  o.slippage_bps = 10;
  SimVenue v(p, o, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(MakeOrder(1, 0, Side::kBuy, 1000));
  v.Submit(MakeOrder(2, 1, Side::kSell, 10));
  v.OnSliceClose(0);
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_DOUBLE_EQ(r.fills[0].price, 10.5 * 1.001);
  EXPECT_DOUBLE_EQ(r.fills[0].commission, 5.0);  // 1000 * 0.005
  EXPECT_NEAR(r.fills[0].slippage, 1000 * 10.5 * 0.001, 1e-9);
  EXPECT_DOUBLE_EQ(r.fills[1].price, 20.5 * 0.999);
  EXPECT_DOUBLE_EQ(r.fills[1].commission, 1.0);  // minimum; 1% of 204.8 = 2.05 cap not binding
}

TEST(SimVenueTest, PerShareCapWinsOverMinimumOnTinyOrders) {
  CommissionModel m;
  m.kind = CommissionModel::Kind::kPerShare;
  EXPECT_DOUBLE_EQ(m.Fee(1, 50.0), 0.5);    // 1% of 50 < $1 minimum
  EXPECT_DOUBLE_EQ(m.Fee(100, 50.0), 1.0);  // 0.50 per-share total -> $1 minimum
  EXPECT_DOUBLE_EQ(m.Fee(1000, 50.0), 5.0);
  m.kind = CommissionModel::Kind::kBps;
  m.bps = 2;
  EXPECT_DOUBLE_EQ(m.Fee(100, 50.0), 1.0);
  m.kind = CommissionModel::Kind::kFixed;
  m.per_order = 4;
  EXPECT_DOUBLE_EQ(m.Fee(3, 1.0), 4.0);
}

TEST(SimVenueTest, ReducesABuyThatNoLongerFitsTheCash) {
  const BarPanel p = TwoDays();
  double cash = 100.0;
  SimVenueOptions o;
  o.fill = FillModel::kNextOpen;
  o.shares = ShareMode::kWhole;
  SimVenue v(p, o, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(MakeOrder(1, 0, Side::kBuy, 10));  // sized at 10.5 close for ~105; opens at 11
  v.OnSliceOpen(1);
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].quantity, 9.0);  // floor(100 / 11)
  EXPECT_EQ(r.log.back(), "canceled 1 insufficient_buying_power");
}

TEST(SimVenueTest, RejectsCloseOrdersForASymbolWithoutABar) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenue v(p, {}, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(1);
  v.Submit(MakeOrder(7, 1, Side::kBuy, 1));
  v.OnSliceClose(1);
  EXPECT_EQ(r.log.back(), "rejected 7 no_bar_for_symbol");
}

Order Limit(OrderId id, SymbolIndex s, Side side, double q, double limit) {
  Order o = MakeOrder(id, s, side, q);
  o.limit_price = limit;
  return o;
}

// Day 1: A O10 H11 L9 C10.5, B O20 H21 L19 C20.5; day 2: A O11 H12 L10 C11.5.
TEST(SimVenueTest, CloseLimitFillsOnlyWhenTheCloseAfterSlippageIsAtTheLimitOrBetter) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenueOptions o;
  o.slippage_bps = 10;  // a buy of A at 10.5 costs 10.5105, a sell of B at 20.5 gets 20.4795
  SimVenue v(p, o, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(Limit(1, 0, Side::kBuy, 1, 10.52));  // covers the slipped price
  v.Submit(Limit(2, 0, Side::kBuy, 1, 10.51));  // covers the close, not the slippage
  v.Submit(Limit(3, 1, Side::kSell, 1, 20.47));
  v.Submit(Limit(4, 1, Side::kSell, 1, 20.5));
  v.OnSliceClose(0);
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].order, 1u);
  EXPECT_DOUBLE_EQ(r.fills[0].price, 10.5 * 1.001);
  EXPECT_NEAR(r.fills[0].slippage, 10.5 * 0.001, 1e-12);
  EXPECT_EQ(r.fills[1].order, 3u);
  EXPECT_DOUBLE_EQ(r.fills[1].price, 20.5 * 0.999);
  EXPECT_EQ(r.log, (std::vector<std::string>{"accepted 1", "accepted 2", "accepted 3", "accepted 4",
                                             "fill 1", "expired 2", "fill 3", "expired 4"}));
  EXPECT_EQ(v.Pending(), 0u);  // day orders: nothing is carried to the next bar
}

TEST(SimVenueTest, NextOpenLimitFillsAtTheOpenOrAtTheLimitWhenTheBarReachesIt) {
  const BarPanel p = TwoDays();
  double cash = 1e9;
  SimVenueOptions o;
  o.fill = FillModel::kNextOpen;
  o.slippage_bps = 10;
  SimVenue v(p, o, [&] { return cash; });
  Recorder r;
  v.SetListener(&r);
  v.OnSliceOpen(0);
  v.Submit(Limit(1, 0, Side::kBuy, 1, 11.2));    // above the open (11 -> 11.011): at the open
  v.Submit(Limit(2, 0, Side::kBuy, 1, 10.5));    // between the low (10) and the open
  v.Submit(Limit(3, 0, Side::kBuy, 1, 9.99));    // below the low: expires
  v.Submit(Limit(4, 0, Side::kSell, 1, 11.9));   // below the high (12)
  v.Submit(Limit(5, 0, Side::kSell, 1, 12.01));  // above the high: expires
  v.OnSliceClose(0);
  EXPECT_TRUE(r.fills.empty());
  v.OnSliceOpen(1);
  ASSERT_EQ(r.fills.size(), 3u);
  EXPECT_DOUBLE_EQ(r.fills[0].price, 11.0 * 1.001);
  EXPECT_DOUBLE_EQ(r.fills[1].price, 10.5);  // a resting order's fill: no slippage
  EXPECT_EQ(r.fills[1].slippage, 0.0);
  EXPECT_DOUBLE_EQ(r.fills[2].price, 11.9);
  EXPECT_EQ(r.fills[2].order, 4u);
  EXPECT_EQ(r.log.back(), "expired 5");
  EXPECT_NE(std::find(r.log.begin(), r.log.end(), "expired 3"), r.log.end());
  EXPECT_EQ(v.Pending(), 0u);
}

}  // namespace
}  // namespace ballast::sim
