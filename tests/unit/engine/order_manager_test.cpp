// The order manager: one life per order (new -> partially filled -> filled | rejected |
// canceled), fills booked in the ledger exactly as reported, deterministic client order ids.

#include "ballast/engine/order_manager.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ballast/engine/error.hpp"

namespace ballast {
namespace {

// Records what it is sent; reports nothing by itself.
class RecordingVenue final : public Venue {
 public:
  void SetListener(VenueListener* l) override { listener = l; }
  void Submit(const Order& o) override { submitted.push_back(o); }
  void Cancel(OrderId id, std::string_view reason) override {
    listener->OnOrderCanceled(id, reason, 0);
  }
  void OnSliceOpen(std::size_t) override {}
  void OnSliceClose(std::size_t) override {}
  VenueListener* listener = nullptr;
  std::vector<Order> submitted;
};

struct Fixture {
  RecordingVenue venue;
  Ledger ledger{2, 1000.0};
  RunRecord record;
  std::vector<std::string> symbols{"SPY", "AGG"};
  OrderManager orders{venue, ledger, record, symbols, "run1"};
};

Plan TwoBuys() {
  Plan p;
  p.orders = {{0, Side::kBuy, 10.0, 50.0, 0.0}, {1, Side::kBuy, 4.0, 100.0, 0.0}};
  return p;
}

TEST(OrderManagerTest, SubmitsInPlanOrderWithSequentialIdsAndDeterministicClientIds) {
  Fixture f;
  f.orders.Submit(TwoBuys(), 7, 123);
  ASSERT_EQ(f.venue.submitted.size(), 2u);
  EXPECT_EQ(f.venue.listener, &f.orders);
  EXPECT_EQ(f.venue.submitted[0].id, 1u);
  EXPECT_EQ(f.venue.submitted[1].id, 2u);
  EXPECT_EQ(f.venue.submitted[1].decision, 7u);
  EXPECT_EQ(f.venue.submitted[1].created, 123);
  EXPECT_EQ(f.orders.ClientOrderId(f.venue.submitted[0]), "run1-7-SPY");
  EXPECT_EQ(f.orders.ClientOrderId(f.venue.submitted[1]), "run1-7-AGG");
  EXPECT_EQ(f.orders.OpenOrders(), 2u);
  EXPECT_EQ(f.orders.Orders()[0].status, OrderStatus::kNew);
}

TEST(OrderManagerTest, PartialThenFullFillBooksEachExecutionAndAveragesThePrice) {
  Fixture f;
  f.orders.Submit(TwoBuys(), 1, 0);
  f.orders.OnOrderAccepted(1, 1);
  f.orders.OnFill({1, 0, Side::kBuy, 4.0, 50.0, 1.0, 0.0, 2, {}});
  EXPECT_EQ(f.orders.Orders()[0].status, OrderStatus::kPartiallyFilled);
  EXPECT_DOUBLE_EQ(f.ledger.Quantity(0), 4.0);
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0 - 200.0 - 1.0);
  f.orders.OnFill({1, 0, Side::kBuy, 6.0, 51.0, 1.0, 0.0, 3, {}});
  const auto& s = f.orders.Orders()[0];
  EXPECT_EQ(s.status, OrderStatus::kFilled);
  EXPECT_DOUBLE_EQ(s.filled, 10.0);
  EXPECT_DOUBLE_EQ(s.avg_fill_price, (4 * 50.0 + 6 * 51.0) / 10.0);
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0 - 200.0 - 306.0 - 2.0);
  EXPECT_EQ(f.orders.OpenOrders(), 1u);
  ASSERT_EQ(f.record.trades.size(), 2u);
  EXPECT_DOUBLE_EQ(f.record.trades[1].quantity, 6.0);
  const auto t = f.orders.TakeSliceTotals();
  EXPECT_DOUBLE_EQ(t.bought, 506.0);
  EXPECT_DOUBLE_EQ(t.fees, 2.0);
  EXPECT_DOUBLE_EQ(f.orders.TakeSliceTotals().bought, 0.0);  // taken
}

TEST(OrderManagerTest, RejectionsAndCancelsCloseTheOrderAndAreEvents) {
  Fixture f;
  f.orders.Submit(TwoBuys(), 1, 0);
  f.orders.OnOrderRejected(1, "insufficient_cash", 5);
  f.venue.Cancel(2, "end_of_day");
  EXPECT_EQ(f.orders.Orders()[0].status, OrderStatus::kRejected);
  EXPECT_EQ(f.orders.Orders()[1].status, OrderStatus::kCanceled);
  EXPECT_EQ(f.orders.OpenOrders(), 0u);
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0);
  bool rejected = false, canceled = false;
  for (const auto& e : f.record.events) {
    rejected = rejected || (e.type == "order_rejected" &&
                            e.fields_json.find("insufficient_cash") != std::string::npos);
    canceled = canceled || e.type == "order_canceled";
  }
  EXPECT_TRUE(rejected);
  EXPECT_TRUE(canceled);
}

TEST(OrderManagerTest, AnAdoptedOrderIsTrackedWithoutBeingSentAndItsFillsBook) {
  // A live session's order from an earlier process: 6 of 10 filled before, at 50.
  Fixture f;
  f.orders.Submit(TwoBuys(), 1, 0);
  Order earlier;
  earlier.symbol = 0;
  earlier.side = Side::kBuy;
  earlier.quantity = 10.0;
  const OrderId id = f.orders.Adopt(earlier, 6.0, 50.0);
  EXPECT_EQ(id, 3u);
  EXPECT_EQ(f.venue.submitted.size(), 2u);  // never sent again
  EXPECT_EQ(f.orders.OpenOrders(), 3u);
  EXPECT_EQ(f.orders.Orders()[2].status, OrderStatus::kPartiallyFilled);
  f.orders.OnFill({id, 0, Side::kBuy, 4.0, 55.0, 0.0, 0.0, 2, {}});
  const auto& s = f.orders.Orders()[2];
  EXPECT_EQ(s.status, OrderStatus::kFilled);
  EXPECT_DOUBLE_EQ(s.avg_fill_price, (6 * 50.0 + 4 * 55.0) / 10.0);
  EXPECT_DOUBLE_EQ(f.ledger.Quantity(0), 4.0);  // only what filled now is booked
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0 - 220.0);
  EXPECT_EQ(f.orders.OpenOrders(), 2u);
  EXPECT_EQ(f.orders.Adopt(earlier), 4u);
  EXPECT_EQ(f.orders.Orders()[3].status, OrderStatus::kAccepted);
}

TEST(OrderManagerTest, AReportForAnOrderItDoesNotKnowIsAnError) {
  Fixture f;
  f.orders.Submit(TwoBuys(), 1, 0);
  EXPECT_THROW(f.orders.OnFill({9, 0, Side::kBuy, 1.0, 50.0, 0.0, 0.0, 0, {}}), Error);
  EXPECT_THROW(f.orders.OnOrderRejected(0, "x", 0), Error);
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0);
}

TEST(OrderManagerTest, AnOrderAmendedToWhatFilledIsFilledAndOneAmendedUpWaitsForTheRest) {
  Fixture f;
  f.orders.Submit(TwoBuys(), 1, 0);
  f.orders.OnFill({1, 0, Side::kBuy, 9.5, 50.0, 0.0, 0.0, 1, {}});
  EXPECT_EQ(f.orders.Orders()[0].status, OrderStatus::kPartiallyFilled);
  f.orders.OnOrderAmended(1, 9.5, 2);  // the venue sent 9.5 of the 10 (its precision)
  EXPECT_EQ(f.orders.Orders()[0].status, OrderStatus::kFilled);
  f.orders.OnOrderAmended(2, 3.0, 2);  // scaled to the cash before anything filled
  EXPECT_EQ(f.orders.Orders()[1].status, OrderStatus::kNew);
  f.orders.OnFill({2, 1, Side::kBuy, 3.0, 100.0, 0.0, 0.0, 3, {}});
  EXPECT_EQ(f.orders.Orders()[1].status, OrderStatus::kFilled);
  EXPECT_EQ(f.orders.OpenOrders(), 0u);
}

// Keeps what the order manager writes ahead, and refuses executions it has seen.
class MemoryJournal final : public OrderJournal {
 public:
  bool RecordFill(const OrderState& order, const Fill& fill) override {
    if (std::find(seen.begin(), seen.end(), fill.execution_id) != seen.end()) return false;
    seen.emplace_back(fill.execution_id);
    filled_before.push_back(order.filled);
    return true;
  }
  void RecordStatus(const OrderState& order) override { statuses.push_back(order.status); }
  std::vector<std::string> seen;
  std::vector<double> filled_before;
  std::vector<OrderStatus> statuses;
};

TEST(OrderManagerTest, ItsJournalSeesEachExecutionBeforeItIsBookedAndEveryStatus) {
  Fixture f;
  MemoryJournal journal;
  f.orders.SetJournal(&journal);
  f.orders.Submit(TwoBuys(), 1, 0);
  f.orders.OnOrderAccepted(1, 0);
  f.orders.OnOrderAccepted(1, 0);  // no change, nothing written
  const Fill part{1, 0, Side::kBuy, 4.0, 50.0, 0.0, 0.0, 1, "exec-1"};
  f.orders.OnFill(part);
  f.orders.OnFill(part);  // the same execution reported again: the journal says no
  EXPECT_DOUBLE_EQ(f.ledger.Quantity(0), 4.0);
  EXPECT_DOUBLE_EQ(f.orders.Orders()[0].filled, 4.0);
  const Fill rest{1, 0, Side::kBuy, 6.0, 51.0, 0.0, 0.0, 2, "exec-2"};
  f.orders.OnFill(rest);
  f.orders.OnOrderRejected(2, "broker_rejected", 3);

  EXPECT_DOUBLE_EQ(f.ledger.Quantity(0), 10.0);
  EXPECT_DOUBLE_EQ(f.ledger.Cash(), 1000.0 - 4 * 50.0 - 6 * 51.0);
  EXPECT_EQ(f.record.trades.size(), 2u);
  EXPECT_EQ(journal.seen, (std::vector<std::string>{"exec-1", "exec-2"}));
  EXPECT_EQ(journal.filled_before, (std::vector<double>{0.0, 4.0}));  // written ahead
  EXPECT_EQ(journal.statuses,
            (std::vector<OrderStatus>{OrderStatus::kAccepted, OrderStatus::kPartiallyFilled,
                                      OrderStatus::kFilled, OrderStatus::kRejected}));
}

}  // namespace
}  // namespace ballast
