#include "ballast/engine/order_manager.hpp"

#include <fmt/format.h>

#include "ballast/engine/error.hpp"

namespace ballast {

OrderManager::OrderManager(Venue& venue, Ledger& ledger, RunRecord& record,
                           const std::vector<std::string>& symbols, std::string run_tag)
    : venue_(venue),
      ledger_(ledger),
      record_(record),
      symbols_(symbols),
      run_tag_(std::move(run_tag)) {
  venue_.SetListener(this);
}

std::string OrderManager::ClientOrderId(const Order& order) const {
  return fmt::format("{}-{}-{}", run_tag_, order.decision, symbols_[order.symbol]);
}

void OrderManager::Submit(const Plan& plan, std::uint64_t decision, Timestamp now,
                          bool investment) {
  for (const auto& p : plan.orders) {
    Order o;
    o.id = orders_.size() + 1;
    o.symbol = p.symbol;
    o.side = p.side;
    o.quantity = p.quantity;
    o.reference_price = p.price;
    o.limit_price = p.limit_price;
    o.decision = decision;
    o.created = now;
    orders_.push_back({o, OrderStatus::kNew, 0.0, 0.0, investment});
    ++open_;
    venue_.Submit(o);
  }
}

OrderId OrderManager::Adopt(Order order, double filled, double avg_price) {
  order.id = orders_.size() + 1;
  const bool partly = filled > 0.0;
  orders_.push_back({order, partly ? OrderStatus::kPartiallyFilled : OrderStatus::kAccepted, filled,
                     partly ? avg_price : 0.0, false});
  ++open_;
  return order.id;
}

OrderState& OrderManager::Get(OrderId id) {
  if (id == 0 || id > orders_.size()) {
    throw Error(ErrorKind::kInternal, fmt::format("the venue reported unknown order {}", id));
  }
  return orders_[id - 1];
}

void OrderManager::Close(OrderState& s, OrderStatus status) {
  if (!IsTerminal(s.status)) --open_;
  s.status = status;
  if (journal_ != nullptr) journal_->RecordStatus(s);
}

OrderManager::SliceTotals OrderManager::TakeSliceTotals() noexcept {
  SliceTotals t = totals_;
  totals_ = {};
  return t;
}

void OrderManager::OnOrderAccepted(OrderId id, Timestamp) {
  auto& s = Get(id);
  if (s.status != OrderStatus::kNew) return;
  s.status = OrderStatus::kAccepted;
  if (journal_ != nullptr) journal_->RecordStatus(s);
}

void OrderManager::OnFill(const Fill& fill) {
  auto& s = Get(fill.order);
  if (journal_ != nullptr && !journal_->RecordFill(s, fill)) return;  // booked already
  ledger_.ApplyFill(fill);
  const double before = s.filled;
  s.filled += fill.quantity;
  s.avg_fill_price = (s.avg_fill_price * before + fill.price * fill.quantity) / s.filled;
  if (s.filled >= s.order.quantity * (1.0 - 1e-12)) {
    Close(s, OrderStatus::kFilled);
  } else {
    s.status = OrderStatus::kPartiallyFilled;
    if (journal_ != nullptr) journal_->RecordStatus(s);
  }
  record_.trades.push_back({fill.time, fill.order, s.order.decision, fill.symbol, fill.side,
                            fill.quantity, fill.price, fill.commission, fill.slippage});
  const double notional = fill.quantity * fill.price;
  if (s.investment && fill.side == Side::kBuy) {
    record_.AddEvent(fill.time, "symbol_purchase",
                     JsonFields()
                         .Add("decision", s.order.decision)
                         .Add("symbol", symbols_[fill.symbol])
                         .Add("quantity", fill.quantity)
                         .Add("price", fill.price)
                         .Add("amount", notional + fill.commission)
                         .Take());
  }
  (fill.side == Side::kBuy ? totals_.bought : totals_.sold) += notional;
  totals_.fees += fill.commission + fill.slippage;
}

JsonFields OrderManager::OrderFields(const OrderState& s) const {
  JsonFields f;
  f.Add("client_order_id", ClientOrderId(s.order))
      .Add("symbol", symbols_[s.order.symbol])
      .Add("side", ToString(s.order.side))
      .Add("quantity", s.order.quantity);
  if (s.order.limit_price > 0.0) f.Add("limit_price", s.order.limit_price);
  return f;
}

void OrderManager::OnOrderRejected(OrderId id, std::string_view reason, Timestamp t) {
  auto& s = Get(id);
  Close(s, OrderStatus::kRejected);
  record_.AddEvent(t, "order_rejected", OrderFields(s).Add("reason", reason).Take());
}

void OrderManager::OnOrderCanceled(OrderId id, std::string_view reason, Timestamp t) {
  auto& s = Get(id);
  Close(s, OrderStatus::kCanceled);
  record_.AddEvent(t, "order_canceled",
                   OrderFields(s).Add("filled", s.filled).Add("reason", reason).Take());
}

void OrderManager::OnOrderExpired(OrderId id, Timestamp t) {
  auto& s = Get(id);
  Close(s, OrderStatus::kExpired);
  record_.AddEvent(t, "order_expired", OrderFields(s).Add("filled", s.filled).Take());
}

void OrderManager::OnOrderAmended(OrderId id, double quantity, Timestamp) {
  auto& s = Get(id);
  if (IsTerminal(s.status)) return;
  s.order.quantity = quantity;
  if (s.filled > 0.0 && s.filled >= quantity * (1.0 - 1e-12)) Close(s, OrderStatus::kFilled);
}

}  // namespace ballast
