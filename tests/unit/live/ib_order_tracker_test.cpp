// OrderTracker: IB's order messages, repeated and out of order as IB sends them, become order
// updates the session books once each, never final before their fills.
#include "ballast/adapters/ib/order_tracker.hpp"

#include <gtest/gtest.h>

namespace ballast::ib {
namespace {

using broker::OrderPhase;

broker::OrderRequest Buy(double qty) {
  broker::OrderRequest r;
  r.client_order_id = "bl0000000100001";
  r.symbol = "SPY";
  r.qty = qty;
  return r;
}

Execution Exec(const std::string& id, double shares, double price, double cum) {
  Execution e;
  e.order_id = 120;
  e.exec_id = id;
  e.symbol = "SPY";
  e.side = "BOT";
  e.shares = shares;
  e.price = price;
  e.cum_qty = cum;
  e.order_ref = "bl0000000100001";
  return e;
}

OrderStatus Status(const std::string& s, double filled, double remaining) {
  OrderStatus x;
  x.order_id = 120;
  x.status = s;
  x.filled = filled;
  x.remaining = remaining;
  return x;
}

CommissionReport Fee(const std::string& id, std::optional<double> c) {
  CommissionReport r;
  r.exec_id = id;
  r.commission = c;
  return r;
}

TEST(IbOrderTracker, AFillIsBookedOnceWithItsCommissionAndBeforeTheOrderIsFinal) {
  OrderTracker t;
  t.Placed(120, Buy(10));
  EXPECT_FALSE(t.Answered(120));
  auto u = t.OnStatus(Status("Submitted", 0, 10));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].phase, OrderPhase::kWorking);
  EXPECT_TRUE(t.Answered(120));
  EXPECT_TRUE(t.OnStatus(Status("Submitted", 0, 10)).empty()) << "a repeated status is news once";
  // IB's usual order: the execution, a status already saying Filled, then the commission.
  EXPECT_TRUE(t.OnExecution(Exec("e1", 10, 500.25, 10), 1).empty());
  EXPECT_TRUE(t.OnStatus(Status("Filled", 10, 0)).empty()) << "held until the fill is booked";
  EXPECT_TRUE(t.OnExecution(Exec("e1", 10, 500.25, 10), 2).empty()) << "the same execution again";
  u = t.OnCommission(Fee("e1", 1.0));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(u[0].execution);
  EXPECT_EQ(u[0].execution_id, "e1");
  EXPECT_DOUBLE_EQ(u[0].qty, 10);
  EXPECT_DOUBLE_EQ(u[0].price, 500.25);
  EXPECT_DOUBLE_EQ(u[0].commission, 1.0);
  EXPECT_EQ(u[0].phase, OrderPhase::kFilled);
  EXPECT_EQ(u[0].order.client_order_id, "bl0000000100001");
  EXPECT_DOUBLE_EQ(u[0].order.filled_qty, 10);
  EXPECT_TRUE(t.OnCommission(Fee("e1", 1.0)).empty());
  EXPECT_EQ(t.Executions(), 1u);
}

TEST(IbOrderTracker, PartialFillsCorrectionsAndAMissingCommission) {
  OrderTracker t;
  t.Placed(120, Buy(10));
  (void)t.OnExecution(Exec("e1", 4, 100, 4), 10);
  auto u = t.OnCommission(Fee("e1", std::nullopt));  // IB's "no value": no fee known
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].phase, OrderPhase::kPartiallyFilled);
  EXPECT_DOUBLE_EQ(u[0].commission, 0.0);
  // A correction of the same shares under a new id is not a second fill.
  (void)t.OnExecution(Exec("e1.02", 4, 100, 4), 11);
  EXPECT_TRUE(t.Flush(1'000).empty());
  // The rest, whose commission report never comes: booked without it once the wait is over.
  (void)t.OnExecution(Exec("e2", 6, 102, 10), 20);
  EXPECT_TRUE(t.Flush(20).empty()) << "not yet waited long enough";
  u = t.Flush(21);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].execution_id, "e2");
  EXPECT_EQ(u[0].phase, OrderPhase::kFilled);
  EXPECT_DOUBLE_EQ(u[0].order.filled_avg_price, (4 * 100.0 + 6 * 102.0) / 10);
  // A late status from before the fill does not undo it.
  EXPECT_TRUE(t.OnStatus(Status("Submitted", 4, 6)).empty());
  EXPECT_EQ(t.Find(120)->phase, OrderPhase::kFilled);
}

TEST(IbOrderTracker, RefusalsAndCancels) {
  OrderTracker t;
  t.Placed(120, Buy(10));
  ErrorMessage e;
  e.req_id = 120;
  e.code = 201;
  e.text = "Order rejected - reason:No Trading Permission";
  auto u = t.OnError(e);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].phase, OrderPhase::kRejected);
  EXPECT_NE(u[0].order.reason.find("No Trading Permission"), std::string::npos);
  EXPECT_EQ(t.Refusal(120)->code, 201);
  EXPECT_TRUE(t.OnStatus(Status("Inactive", 0, 10)).empty()) << "final already";
  // 103: the id was taken, nothing placed, no update (the caller takes the next id).
  t.Placed(121, Buy(5));
  e.req_id = 121;
  e.code = 103;
  e.text = "Duplicate order id";
  EXPECT_TRUE(t.OnError(e).empty());
  EXPECT_EQ(t.Refusal(121)->code, 103);
  // A cancel: 202 gives the reason the Cancelled status carries; 10148 changes nothing.
  t.Placed(122, Buy(5));
  e.req_id = 122;
  e.code = 10148;
  e.text = "OrderId 122 that needs to be cancelled cannot be cancelled, state: Filled.";
  EXPECT_TRUE(t.OnError(e).empty());
  EXPECT_FALSE(t.Answered(122));
  e.code = 202;
  e.text = "Order Canceled - reason:";
  EXPECT_TRUE(t.OnError(e).empty());
  OrderStatus s = Status("Cancelled", 0, 5);
  s.order_id = 122;
  u = t.OnStatus(s);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].phase, OrderPhase::kCanceled);
  EXPECT_EQ(u[0].order.reason, "Order Canceled - reason:");
}

TEST(IbOrderTracker, PhasesOfIbsStatusWords) {
  EXPECT_EQ(PhaseOf("PendingSubmit", 0, 10), OrderPhase::kPending);
  EXPECT_EQ(PhaseOf("PreSubmitted", 0, 10), OrderPhase::kPending);
  EXPECT_EQ(PhaseOf("Submitted", 0, 10), OrderPhase::kWorking);
  EXPECT_EQ(PhaseOf("Submitted", 3, 10), OrderPhase::kPartiallyFilled);
  EXPECT_EQ(PhaseOf("PendingCancel", 0, 10), OrderPhase::kWorking);
  EXPECT_EQ(PhaseOf("Filled", 10, 10), OrderPhase::kFilled);
  EXPECT_EQ(PhaseOf("Cancelled", 3, 10), OrderPhase::kCanceled);
  EXPECT_EQ(PhaseOf("ApiCancelled", 0, 10), OrderPhase::kCanceled);
  EXPECT_EQ(PhaseOf("Inactive", 0, 10), OrderPhase::kRejected);
  EXPECT_EQ(PhaseOf("SomethingNew", 0, 10), OrderPhase::kUnknown);
}

}  // namespace
}  // namespace ballast::ib
