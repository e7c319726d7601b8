// Alpaca's status and event words map to the broker seam's phases in one place.
#include "ballast/adapters/alpaca/alpaca_broker.hpp"

#include <gtest/gtest.h>

namespace ballast::alpaca {
namespace {

using broker::OrderPhase;

TEST(AlpacaPhases, EveryDocumentedStatusHasAPhase) {
  EXPECT_EQ(PhaseOf("pending_new", 0), OrderPhase::kPending);
  EXPECT_EQ(PhaseOf("accepted", 0), OrderPhase::kPending);
  EXPECT_EQ(PhaseOf("new", 0), OrderPhase::kWorking);
  EXPECT_EQ(PhaseOf("held", 0), OrderPhase::kWorking);
  EXPECT_EQ(PhaseOf("pending_cancel", 0), OrderPhase::kWorking);
  EXPECT_EQ(PhaseOf("pending_cancel", 3), OrderPhase::kPartiallyFilled);
  EXPECT_EQ(PhaseOf("partially_filled", 3), OrderPhase::kPartiallyFilled);
  EXPECT_EQ(PhaseOf("filled", 5), OrderPhase::kFilled);
  EXPECT_EQ(PhaseOf("canceled", 0), OrderPhase::kCanceled);
  EXPECT_EQ(PhaseOf("done_for_day", 2), OrderPhase::kCanceled);
  EXPECT_EQ(PhaseOf("replaced", 0), OrderPhase::kCanceled);
  EXPECT_EQ(PhaseOf("expired", 0), OrderPhase::kExpired);
  EXPECT_EQ(PhaseOf("rejected", 0), OrderPhase::kRejected);
  EXPECT_EQ(PhaseOf("something_new_in_2027", 0), OrderPhase::kUnknown);
  EXPECT_FALSE(broker::IsFinal(OrderPhase::kUnknown));
  EXPECT_TRUE(broker::IsFinal(OrderPhase::kExpired));
}

TEST(AlpacaPhases, UpdatesCarryThePhaseAndTheReason) {
  TradeMessage m;
  m.kind = TradeMessage::Kind::kTradeUpdate;
  m.order.client_order_id = "c1";
  m.order.symbol = "SPY";
  m.order.side = "sell";
  m.order.qty = 10;
  m.order.filled_qty = 4;
  m.order.status = "partially_filled";

  m.event = "partial_fill";
  m.qty = 4;
  m.price = 101.5;
  m.execution_id = "e1";
  auto u = UpdateOf(m);
  EXPECT_TRUE(u.execution);
  EXPECT_EQ(u.phase, OrderPhase::kPartiallyFilled);
  EXPECT_EQ(u.order.side, Side::kSell);
  EXPECT_EQ(u.execution_id, "e1");

  m.event = "order_cancel_rejected";  // the order lives on, part filled
  u = UpdateOf(m);
  EXPECT_FALSE(u.execution);
  EXPECT_EQ(u.phase, OrderPhase::kPartiallyFilled);
  EXPECT_EQ(u.order.reason, "order_cancel_rejected");

  m.event = "done_for_day";
  m.order.status = "done_for_day";
  u = UpdateOf(m);
  EXPECT_EQ(u.phase, OrderPhase::kCanceled);
  EXPECT_EQ(u.order.reason, "done_for_day");

  m.event = "replaced";
  u = UpdateOf(m);
  EXPECT_EQ(u.phase, OrderPhase::kCanceled);
  EXPECT_EQ(u.order.reason, "replaced by another order");

  m.event = "expired";
  EXPECT_EQ(UpdateOf(m).phase, OrderPhase::kExpired);
  m.event = "rejected";
  EXPECT_EQ(UpdateOf(m).phase, OrderPhase::kRejected);
  m.event = "pending_cancel";
  m.order.status = "pending_cancel";
  EXPECT_EQ(UpdateOf(m).phase, OrderPhase::kPartiallyFilled);
}

TEST(AlpacaPhases, RejectionMessagesGetShortLabels) {
  EXPECT_EQ(RejectionLabel("insufficient buying power"), "insufficient_buying_power");
  EXPECT_EQ(RejectionLabel("trade denied due to pattern day trading protection"), "pdt");
  EXPECT_EQ(RejectionLabel("potential wash trade detected. use complex orders"), "wash_trade");
  EXPECT_EQ(RejectionLabel("asset \"XYZ\" is not fractionable"), "not_fractionable");
  EXPECT_EQ(RejectionLabel("asset XYZ is halted"), "halted");
  EXPECT_EQ(RejectionLabel("qty must be > 0"), "bad_quantity");
  EXPECT_EQ(RejectionLabel("something else"), "");
}

TEST(AlpacaOrders, ALimitOrderBodyCarriesItsPrice) {
  OrderRequest r{"SPY", "buy", 1.5, "c1", "day", 401.25};
  const std::string body = OrderBody(r);
  EXPECT_NE(body.find(R"("type":"limit")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("limit_price":"401.25")"), std::string::npos) << body;
  r.limit_price = 0.0;
  EXPECT_NE(OrderBody(r).find(R"("type":"market")"), std::string::npos);
}

}  // namespace
}  // namespace ballast::alpaca
