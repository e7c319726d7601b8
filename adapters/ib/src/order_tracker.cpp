#include "ballast/adapters/ib/order_tracker.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ballast::ib {

using broker::OrderPhase;

namespace {

constexpr double kEps = 1e-9;

bool CancelRefusal(int code) {
  return code == 161 || code == 10147 || code == 10148 || code == 10149;
}

}  // namespace

OrderPhase PhaseOf(std::string_view s, double filled, double qty) noexcept {
  const bool some = filled > kEps;
  if (s == "Filled") return OrderPhase::kFilled;
  if (s == "Cancelled" || s == "ApiCancelled") return OrderPhase::kCanceled;
  // "received by the system but no longer active because it was rejected or canceled"
  if (s == "Inactive") return OrderPhase::kRejected;
  if (s == "PendingSubmit" || s == "ApiPending" || s == "PreSubmitted") {
    return some ? OrderPhase::kPartiallyFilled : OrderPhase::kPending;
  }
  if (s == "Submitted" || s == "PendingCancel") {
    if (some && qty > 0.0 && filled >= qty - kEps) return OrderPhase::kFilled;
    return some ? OrderPhase::kPartiallyFilled : OrderPhase::kWorking;
  }
  return OrderPhase::kUnknown;
}

OrderTracker::Record& OrderTracker::At(std::int64_t order_id) {
  Record& r = orders_[order_id];
  if (r.order.id.empty()) r.order.id = std::to_string(order_id);
  return r;
}

void OrderTracker::Placed(std::int64_t order_id, const broker::OrderRequest& q) {
  Record& r = At(order_id);
  r.order.client_order_id = q.client_order_id;
  r.order.symbol = q.symbol;
  r.order.side = q.side;
  r.order.qty = q.qty;
  r.order.phase = OrderPhase::kPending;
}

void OrderTracker::Emit(Record& r, std::string_view event, Updates& out) {
  broker::OrderUpdate u;
  u.event = std::string(event);
  u.phase = r.order.phase;
  u.order = r.order;
  r.emitted_phase = r.order.phase;
  r.emitted_status = r.order.status;
  out.push_back(std::move(u));
}

OrderTracker::Updates OrderTracker::OnOpenOrder(const OpenOrder& o) {
  Record& r = At(o.order_id);
  r.answered = true;
  if (!o.order_ref.empty()) r.order.client_order_id = o.order_ref;
  if (!o.symbol.empty()) r.order.symbol = o.symbol;
  r.order.side = o.action == "SELL" ? Side::kSell : Side::kBuy;
  if (o.quantity > 0.0) r.order.qty = o.quantity;
  return {};
}

void OrderTracker::ApplyStatus(Record& r, const OrderStatus& s, Updates& out) {
  r.answered = true;
  if (s.filled > r.order.filled_qty + kEps) {
    r.held = s;  // its executions have not been booked yet: they come first
    return;
  }
  r.held.reset();
  // A status older than a fill already booked (IB repeats them) does not undo it.
  if (broker::IsFinal(r.emitted_phase)) return;
  r.order.status = s.status;
  OrderPhase phase = PhaseOf(s.status, r.order.filled_qty, r.order.qty);
  if (phase == OrderPhase::kRejected && r.order.reason.empty())
    r.order.reason = "IB made the order inactive (rejected or canceled)";
  if (phase == r.emitted_phase && s.status == r.emitted_status) return;
  r.order.phase = phase;
  Emit(r, s.status, out);
}

OrderTracker::Updates OrderTracker::OnStatus(const OrderStatus& s) {
  Updates out;
  ApplyStatus(At(s.order_id), s, out);
  return out;
}

void OrderTracker::EmitExecution(Record& r, const Execution& e, double commission, Updates& out) {
  r.order.filled_qty += e.shares;
  r.notional += e.shares * e.price;
  r.order.filled_avg_price = r.notional / r.order.filled_qty;
  const bool done = r.order.qty > 0.0 && r.order.filled_qty >= r.order.qty - kEps;
  r.order.phase = done ? OrderPhase::kFilled : OrderPhase::kPartiallyFilled;
  if (done) r.order.status = "Filled";
  broker::OrderUpdate u;
  u.event = done ? "fill" : "partial_fill";
  u.phase = r.order.phase;
  u.order = r.order;
  u.execution = true;
  u.execution_id = e.exec_id;
  u.qty = e.shares;
  u.price = e.price;
  u.commission = commission;
  r.emitted_phase = r.order.phase;
  r.emitted_status = r.order.status;
  out.push_back(std::move(u));
  if (r.held && r.held->filled <= r.order.filled_qty + kEps) {
    const OrderStatus held = *r.held;
    ApplyStatus(r, held, out);
  }
}

OrderTracker::Updates OrderTracker::OnExecution(const Execution& e, Timestamp now) {
  if (exec_ids_.count(e.exec_id) != 0) return {};  // sent again (reconnect, second subscriber)
  Record& r = At(e.order_id);
  if (r.order.client_order_id.empty()) r.order.client_order_id = e.order_ref;
  if (r.order.symbol.empty()) r.order.symbol = e.symbol;
  if (r.order.qty <= 0.0) r.order.side = e.side == "SLD" ? Side::kSell : Side::kBuy;
  exec_ids_.insert(e.exec_id);
  // The same shares under another execution id (a correction): taken once.
  if (e.cum_qty > 0.0 && e.cum_qty <= r.seen_cum + kEps) return {};
  r.seen_cum = std::max(r.seen_cum, e.cum_qty);
  r.pending.push_back({e, now});
  return {};
}

OrderTracker::Updates OrderTracker::OnCommission(const CommissionReport& c) {
  Updates out;
  for (auto& [id, r] : orders_) {
    const auto it = std::find_if(r.pending.begin(), r.pending.end(),
                                 [&](const Pending& p) { return p.exec.exec_id == c.exec_id; });
    if (it == r.pending.end()) continue;
    const Execution e = it->exec;
    r.pending.erase(it);
    EmitExecution(r, e, c.commission.value_or(0.0), out);
    break;
  }
  return out;
}

OrderTracker::Updates OrderTracker::Flush(Timestamp older_than) {
  Updates out;
  for (auto& [id, r] : orders_) {
    while (!r.pending.empty() && r.pending.front().received < older_than) {
      const Execution e = r.pending.front().exec;
      r.pending.erase(r.pending.begin());
      EmitExecution(r, e, 0.0, out);
    }
  }
  return out;
}

OrderTracker::Updates OrderTracker::OnError(const ErrorMessage& e) {
  Updates out;
  if (e.req_id < 0) return out;
  const ErrorClass k = Classify(e.code);
  if (k == ErrorClass::kInfo || k == ErrorClass::kWarning || CancelRefusal(e.code)) return out;
  Record& r = At(e.req_id);
  r.answered = true;
  if (e.code == 202) {  // canceled: its Cancelled status follows, with this as the reason
    r.order.reason = e.text;
    return out;
  }
  r.refusal = e;
  if (e.code == 103) return out;  // the id was taken: nothing placed (the caller picks another)
  r.order.reason = fmt::format("IB error {}: {}", e.code, e.text);
  if (broker::IsFinal(r.order.phase) || r.order.client_order_id.empty()) return out;
  r.order.phase = OrderPhase::kRejected;
  r.order.status = "Inactive";
  Emit(r, "rejected", out);
  return out;
}

bool OrderTracker::Answered(std::int64_t order_id) const {
  const auto it = orders_.find(order_id);
  return it != orders_.end() && it->second.answered;
}

std::optional<ErrorMessage> OrderTracker::Refusal(std::int64_t order_id) const {
  const auto it = orders_.find(order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second.refusal;
}

std::optional<broker::BrokerOrder> OrderTracker::Find(std::int64_t order_id) const {
  const auto it = orders_.find(order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second.order;
}

std::optional<broker::BrokerOrder> OrderTracker::FindByRef(std::string_view order_ref) const {
  for (const auto& [id, r] : orders_) {
    if (r.order.client_order_id == order_ref) return r.order;
  }
  return std::nullopt;
}

}  // namespace ballast::ib
