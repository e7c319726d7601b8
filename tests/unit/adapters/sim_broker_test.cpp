#include "ballast/adapters/sim/sim_broker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.
#include <vector>

#include <boost/asio/io_context.hpp>

namespace ballast::sim {
namespace {

using broker::OrderPhase;
using Kind = broker::PlaceResult::Kind;

struct Listener final : broker::BrokerListener {
  std::vector<broker::OrderUpdate> updates;
  int ready = 0;
  void OnUpdatesReady(bool) override { ++ready; }
  void OnUpdatesDown() override {}
  void OnOrderUpdate(const broker::OrderUpdate& u) override { updates.push_back(u); }
  void OnBrokerEvent(std::string_view, const std::string&) override {}
  void OnBrokerFatal(const std::string&) override {}
};

struct Fixture {
  boost::asio::io_context io;
  std::map<std::string, double, std::less<>> prices{{"SPY", 400.0}, {"AGG", 100.0}};
  Listener listener;
  SimBroker b;
  explicit Fixture(SimBrokerOptions o = {10'000.0, {}, 0.0, ShareMode::kFractional, 1.0, 1.0})
      : b(io, o, [this](std::string_view s) -> std::optional<double> {
          const auto it = prices.find(s);
          if (it == prices.end()) return std::nullopt;
          return it->second;
        }) {
    b.StartUpdates(listener);
    Drain();
  }
  /// Runs what the broker posted on the io_context.
  void Drain() {
    io.restart();
    io.poll();
  }
  broker::PlaceResult Place(std::string coid, std::string sym, Side side, double qty) {
    broker::OrderRequest r;
    r.client_order_id = std::move(coid);
    r.symbol = std::move(sym);
    r.side = side;
    r.qty = qty;
    return b.Place(r);
  }
};

TEST(SimBroker, FillsArriveAsUpdatesAfterThePlaceCallAndMoveTheAccount) {
  Fixture f;
  EXPECT_EQ(f.listener.ready, 1);
  const auto r = f.Place("c1", "SPY", Side::kBuy, 10.0);
  ASSERT_EQ(r.kind, Kind::kAccepted);
  EXPECT_EQ(r.order.phase, OrderPhase::kWorking);
  EXPECT_TRUE(f.listener.updates.empty());  // never from inside Place
  f.Drain();
  ASSERT_EQ(f.listener.updates.size(), 1u);
  const auto& u = f.listener.updates[0];
  EXPECT_TRUE(u.execution);
  EXPECT_EQ(u.phase, OrderPhase::kFilled);
  EXPECT_DOUBLE_EQ(u.qty, 10.0);
  EXPECT_DOUBLE_EQ(u.price, 400.0);
  const auto a = f.b.GetAccount();
  EXPECT_DOUBLE_EQ(a.cash, 6'000.0);
  EXPECT_DOUBLE_EQ(a.equity, 10'000.0);
  const auto p = f.b.GetPositions();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_DOUBLE_EQ(p[0].qty, 10.0);
  EXPECT_EQ(f.b.FindOrder("c1")->phase, OrderPhase::kFilled);
  EXPECT_TRUE(f.b.GetOpenOrders().empty());
}

TEST(SimBroker, RefusesBuysBeyondBuyingPowerCountingOpenBuys) {
  Fixture f;
  ASSERT_EQ(f.Place("c1", "SPY", Side::kBuy, 20.0).kind, Kind::kAccepted);  // 8,000 reserved
  const auto r = f.Place("c2", "AGG", Side::kBuy, 21.0);                    // 2,100 > 2,000
  EXPECT_EQ(r.kind, Kind::kRejected);
  EXPECT_TRUE(r.insufficient_buying_power);
  EXPECT_EQ(f.Place("c3", "AGG", Side::kBuy, 20.0).kind, Kind::kAccepted);  // exactly fits
  f.Drain();
  EXPECT_NEAR(f.b.GetAccount().cash, 0.0, 1e-9);
}

TEST(SimBroker, RefusesSellsOfSharesItDoesNotHoldAndDuplicateIds) {
  Fixture f;
  EXPECT_EQ(f.Place("s1", "SPY", Side::kSell, 1.0).kind, Kind::kRejected);
  ASSERT_EQ(f.Place("c1", "SPY", Side::kBuy, 5.0).kind, Kind::kAccepted);
  EXPECT_EQ(f.Place("c1", "SPY", Side::kBuy, 5.0).kind, Kind::kDuplicate);
  f.Drain();
  EXPECT_EQ(f.Place("s2", "SPY", Side::kSell, 5.0).kind, Kind::kAccepted);
  EXPECT_EQ(f.Place("s3", "SPY", Side::kSell, 0.5).kind, Kind::kRejected);  // s2 holds them
  EXPECT_EQ(f.Place("x", "QQQ", Side::kBuy, 1.0).kind, Kind::kRejected);    // no price
}

TEST(SimBroker, ChargesTheCostModelsAsTheBacktestDoes) {
  CommissionModel c;
  c.kind = CommissionModel::Kind::kFixed;
  c.per_order = 1.5;
  Fixture f(SimBrokerOptions{10'000.0, c, 10.0, ShareMode::kWhole, 1.0, 1.0});
  EXPECT_EQ(f.Place("w", "SPY", Side::kBuy, 2.5).kind, Kind::kRejected);  // whole shares only
  ASSERT_EQ(f.Place("c1", "SPY", Side::kBuy, 2.0).kind, Kind::kAccepted);
  f.Drain();
  ASSERT_EQ(f.listener.updates.size(), 1u);
  EXPECT_DOUBLE_EQ(f.listener.updates[0].price, 400.0 * 1.001);  // 10 bps against us
  EXPECT_DOUBLE_EQ(f.listener.updates[0].commission, 1.5);
  EXPECT_DOUBLE_EQ(f.b.GetAccount().cash, 10'000.0 - 2.0 * 400.4 - 1.5);
}

TEST(SimBroker, RestoreRebuildsTheAccountAndItsOrdersFromBookedFills) {
  Fixture f;
  const std::vector<broker::BookedFill> booked{{"c1", "SPY", Side::kBuy, 10.0, 390.0, 1.0},
                                               {"c2", "AGG", Side::kBuy, 20.0, 100.0, 0.0},
                                               {"c3", "SPY", Side::kSell, 4.0, 410.0, 1.0}};
  broker::BookedAccount account;
  account.fills = booked;
  account.net_transfers = 500.0;  // and a contribution of 500
  broker::BrokerOrder open;       // sent, not filled when the last process ended
  open.client_order_id = "c4";
  open.symbol = "AGG";
  open.side = Side::kBuy;
  open.qty = 3.0;
  account.open_orders.push_back(open);
  f.b.Restore(account);
  const auto a = f.b.GetAccount();
  EXPECT_DOUBLE_EQ(a.cash, 10'000.0 + 500.0 - 3'900.0 - 1.0 - 2'000.0 + 1'640.0 - 1.0);
  EXPECT_DOUBLE_EQ(a.equity, a.cash + 6.0 * 400.0 + 20.0 * 100.0);
  const auto c1 = f.b.FindOrder("c1");
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->phase, OrderPhase::kFilled);
  EXPECT_DOUBLE_EQ(c1->filled_qty, 10.0);
  EXPECT_FALSE(f.b.FindOrder("c9").has_value());
  // The open order is worked again: it fills on the io_context, as an update.
  EXPECT_EQ(f.b.FindOrder("c4")->phase, OrderPhase::kWorking);
  f.Drain();
  ASSERT_EQ(f.listener.updates.size(), 1u);
  EXPECT_EQ(f.listener.updates[0].order.client_order_id, "c4");
  EXPECT_DOUBLE_EQ(f.b.GetAccount().cash, a.cash - 300.0);
}

TEST(SimBroker, ALimitOrderFillsWhenMarketableAndExpiresWhenNot) {
  Fixture f;
  broker::OrderRequest r;
  r.client_order_id = "l1";
  r.symbol = "SPY";
  r.qty = 1.0;
  r.type = broker::OrderType::kLimit;
  r.limit_price = 390.0;  // below the market: its day ends unfilled
  ASSERT_EQ(f.b.Place(r).kind, Kind::kAccepted);
  EXPECT_EQ(f.b.FindOrder("l1")->phase, OrderPhase::kWorking);  // until the update
  f.Drain();
  ASSERT_EQ(f.listener.updates.size(), 1u);
  EXPECT_EQ(f.listener.updates[0].phase, OrderPhase::kExpired);
  EXPECT_FALSE(f.listener.updates[0].execution);
  EXPECT_TRUE(f.b.GetOpenOrders().empty());
  EXPECT_FALSE(f.b.Cancel(*f.b.FindOrder("l1")));  // nothing left to cancel
  const double cash = f.b.GetAccount().cash;
  r.client_order_id = "l2";
  r.limit_price = 401.0;  // marketable
  ASSERT_EQ(f.b.Place(r).kind, Kind::kAccepted);
  f.Drain();
  ASSERT_EQ(f.listener.updates.size(), 2u);
  EXPECT_EQ(f.listener.updates[1].phase, OrderPhase::kFilled);
  EXPECT_LE(f.listener.updates[1].price, 401.0);
  EXPECT_LT(f.b.GetAccount().cash, cash);
}

}  // namespace
}  // namespace ballast::sim
