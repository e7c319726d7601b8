// Orders at the broker: what it accepts, sells before buys, sending without ever doubling an
// order, fills booked once, polling, cancels and recovery after a restart.
#include "broker_venue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "ballast/engine/run_record.hpp"

namespace ballast::live::detail {

bool SameOrder(const broker::BrokerOrder& b, const JournalOrder& o);
std::string_view JournalState(broker::OrderPhase phase) noexcept;

namespace {
Side SideOf(const std::string& side) {
  return side == "sell" ? Side::kSell : Side::kBuy;
}
}  // namespace

BrokerVenue::BrokerVenue(broker::Broker& broker, Journal& journal, VenueHost& host,
                         const std::vector<std::string>& symbols, std::size_t tradable,
                         SendRules rules)
    : broker_(broker),
      journal_(journal),
      host_(host),
      symbols_(symbols),
      tradable_(tradable),
      rules_(std::move(rules)) {}

std::ptrdiff_t BrokerVenue::Column(const std::string& symbol) const {
  const auto it = std::find(symbols_.begin(),
                            symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_), symbol);
  return it == symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_) ? -1
                                                                         : it - symbols_.begin();
}

const JournalOrder* BrokerVenue::Open(const std::string& client_order_id) const {
  const auto it = open_.find(client_order_id);
  return it == open_.end() ? nullptr : &it->second;
}

OrderId BrokerVenue::EngineId(const std::string& coid) {
  if (const auto it = engine_ids_.find(coid); it != engine_ids_.end()) return it->second;
  const JournalOrder* o = Open(coid);
  if (o == nullptr) {
    const auto pending =
        std::find_if(pending_buys_.begin(), pending_buys_.end(),
                     [&](const JournalOrder& b) { return b.client_order_id == coid; });
    if (pending == pending_buys_.end()) return 0;
    o = &*pending;
  }
  if (Column(o->symbol) < 0) return 0;
  const OrderId id = host_.Adopt(*o);
  engine_ids_[coid] = id;
  return id;
}

void BrokerVenue::Report(const std::string& coid, broker::OrderPhase phase,
                         std::string_view reason) {
  if (listener_ == nullptr) return;
  const OrderId id = EngineId(coid);
  if (id == 0) return;
  switch (phase) {
    case broker::OrderPhase::kRejected:
      listener_->OnOrderRejected(id, reason.empty() ? "broker_rejected" : reason, host_.Now());
      break;
    case broker::OrderPhase::kCanceled:
      listener_->OnOrderCanceled(id, reason, host_.Now());
      break;
    case broker::OrderPhase::kExpired:
      listener_->OnOrderExpired(id, host_.Now());
      break;
    case broker::OrderPhase::kPending:
    case broker::OrderPhase::kWorking:
    case broker::OrderPhase::kPartiallyFilled:
      listener_->OnOrderAccepted(id, host_.Now());
      break;
    case broker::OrderPhase::kFilled:
    case broker::OrderPhase::kUnknown:
      break;  // fills report themselves; an unknown status stays as it was
  }
}

void BrokerVenue::Cancel(OrderId id, std::string_view reason) {
  for (const auto& [coid, engine] : engine_ids_) {
    if (engine != id) continue;
    const auto it = open_.find(coid);
    if (it != open_.end() && !it->second.broker_id.empty()) {
      broker::BrokerOrder b;
      b.id = it->second.broker_id;
      b.client_order_id = coid;
      b.symbol = it->second.symbol;
      JsonFields f;
      f.Add("client_order_id", coid).Add("reason", reason).Add("accepted", broker_.Cancel(b));
      host_.Log("order_cancel_requested", f.Take(), spdlog::level::warn);
    } else {
      journal_.SetOrderState(coid, "abandoned", {}, reason);
      Drop(coid, reason);
    }
    return;
  }
}

void BrokerVenue::Drop(const std::string& client_order_id, std::string_view reason) {
  open_.erase(client_order_id);
  std::erase_if(pending_buys_,
                [&](const JournalOrder& b) { return b.client_order_id == client_order_id; });
  const auto it = engine_ids_.find(client_order_id);
  if (it != engine_ids_.end() && listener_ != nullptr) {
    listener_->OnOrderCanceled(it->second, reason, host_.Now());
  }
}

void BrokerVenue::DropStaged(std::string_view reason) {
  for (const Order& o : std::exchange(staged_, {})) {
    if (listener_ != nullptr) listener_->OnOrderCanceled(o.id, reason, host_.Now());
  }
}

void BrokerVenue::CancelAll(std::string_view reason) {
  const Timestamp now = host_.Now();
  for (auto& [coid, o] : open_) {
    if (o.broker_id.empty()) continue;
    // One request per order; asked again only if the broker has not confirmed in 30 s (the
    // service checks the kill switch ten times a second).
    auto [it, fresh] = cancel_requested_.try_emplace(coid, now);
    if (!fresh && now - it->second < 30'000'000'000LL) continue;
    it->second = now;
    broker::BrokerOrder b;
    b.id = o.broker_id;
    b.client_order_id = coid;
    b.symbol = o.symbol;
    const bool ok = broker_.Cancel(b);
    JsonFields f;
    f.Add("client_order_id", coid).Add("reason", reason).Add("accepted", ok);
    host_.Log("order_cancel_requested", f.Take(), spdlog::level::warn);
  }
}

void BrokerVenue::ApplyFill(const std::string& coid, const std::string& symbol, Side side,
                            double qty, double price, double commission, Timestamp at,
                            const std::string& exec_key, double cumulative) {
  // One booking per execution whatever route reports it (stream, poll, recovery): the order
  // manager's journal keys on the execution, and the order's cumulative filled quantity says
  // what is new.
  if (cumulative >= 0.0) {
    const double fresh = cumulative - journal_.FilledQty(coid);
    if (fresh <= 1e-9 * std::max(1.0, cumulative)) return;
    qty = std::min(qty, fresh);
  }
  const std::ptrdiff_t col = Column(symbol);
  const bool oversells = col >= 0 && listener_ != nullptr && side == Side::kSell &&
                         host_.Oversells(static_cast<SymbolIndex>(col), qty);
  if (col < 0 || listener_ == nullptr || oversells) {
    // Not the ledger's to book (no ledger yet, or the account was re-read instead): journaled
    // so it is not reported again.
    if (journal_.RecordFill(JournalFill{exec_key, coid, symbol, std::string(ToString(side)), qty,
                                        price, commission, at})) {
      host_.AppendTrade(at, coid, symbol, ToString(side), qty, price,
                        oversells ? "reconciled" : rules_.source_label);
    }
    return;
  }
  OrderId id = EngineId(coid);
  if (id == 0) {
    // Ours (the tag says so) but neither open here nor journaled as open: adopt it as what the
    // broker reports, so the order manager books it like any other.
    JournalOrder adopted;
    adopted.client_order_id = coid;
    adopted.symbol = symbol;
    adopted.side = std::string(ToString(side));
    adopted.qty = cumulative > 0.0 ? cumulative : qty;
    adopted.ref_price = price;
    id = host_.Adopt(adopted);
    engine_ids_[coid] = id;
  }
  listener_->OnFill(
      Fill{id, static_cast<SymbolIndex>(col), side, qty, price, commission, 0.0, at, exec_key});
}

void BrokerVenue::Resize(JournalOrder& o, double qty) {
  o.qty = qty;
  journal_.SetOrderQty(o.client_order_id, qty);
  if (listener_ == nullptr) return;
  if (const OrderId id = EngineId(o.client_order_id); id != 0)
    listener_->OnOrderAmended(id, qty, host_.Now());
}

std::size_t BrokerVenue::InFlight() const {
  return static_cast<std::size_t>(std::count_if(
      open_.begin(), open_.end(), [](const auto& kv) { return kv.second.state != "planned"; }));
}

std::string BrokerVenue::ClientOrderIdOf(OrderId id) const {
  for (const auto& [coid, engine] : engine_ids_) {
    if (engine == id) return coid;
  }
  return {};
}

double BrokerVenue::NewFillPrice(const std::string& coid, double cumulative, double cumulative_avg,
                                 double fallback) {
  if (!(cumulative_avg > 0.0)) return fallback;
  const double known = journal_.FilledQty(coid);
  const double fresh = cumulative - known;
  if (!(fresh > 1e-12)) return cumulative_avg;
  const double px = (cumulative * cumulative_avg - journal_.FilledNotional(coid)) / fresh;
  // Rounding in the broker's average can make a tiny remainder's price absurd: keep it sane.
  return std::isfinite(px) && px > 0.0 ? px : cumulative_avg;
}

void BrokerVenue::OnBrokerUpdate(const broker::OrderUpdate& u) {
  const std::string& coid = u.order.client_order_id;
  const auto it = open_.find(coid);
  if (it == open_.end() && coid.rfind(rules_.tag, 0) != 0) {
    return;  // not ours (another app on the account)
  }
  JsonFields f;
  f.Add("event", u.event)
      .Add("client_order_id", coid)
      .Add("status", u.order.status)
      .Add("phase", broker::ToString(u.phase));
  if (!u.order.reason.empty()) f.Add("reason", u.order.reason);
  if (u.execution) {
    f.Add("qty", u.qty).Add("price", u.price).Add("filled_qty", u.order.filled_qty);
    ApplyFill(
        coid, u.order.symbol, u.order.side, u.qty, u.price, u.commission, u.at ? u.at : host_.Now(),
        !u.execution_id.empty() ? u.execution_id : fmt::format("{}-{}", coid, u.order.filled_qty),
        u.order.filled_qty > 0.0 ? u.order.filled_qty : -1.0);
    journal_.SetOrderProgress(coid, u.order.filled_qty, u.order.filled_avg_price);
  }
  if (it != open_.end()) {
    const std::string state(JournalState(u.phase));
    journal_.SetOrderState(coid, state, u.order.id, u.order.reason);
    it->second.state = state;
    if (u.phase != broker::OrderPhase::kPending && u.phase != broker::OrderPhase::kWorking) {
      Report(coid, u.phase,
             u.phase == broker::OrderPhase::kCanceled
                 ? std::string_view(!u.order.reason.empty() ? u.order.reason : state)
                 : std::string_view{});
    }
    if (u.phase == broker::OrderPhase::kRejected) ++n_.rejected;
    if (IsTerminalState(state)) open_.erase(it);
    if (IsTerminalState(state) && !pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
    if (open_.empty() && pending_buys_.empty()) host_.OnOrdersSettled();
  }
  host_.Log("trade_update", f.Take(),
            u.phase == broker::OrderPhase::kRejected ? spdlog::level::warn : spdlog::level::info);
}

bool BrokerVenue::RefuseForeign(JournalOrder& o, const broker::BrokerOrder& b) {
  if (SameOrder(b, o)) return false;
  const std::string why =
      fmt::format("client order id taken at the broker by a different order ({} {} {})",
                  ToString(b.side), JsonNumber(b.qty), b.symbol);
  Refuse(o, why, "client_order_id_taken");
  return true;
}

void BrokerVenue::Refuse(JournalOrder& o, const std::string& why, std::string_view label) {
  journal_.SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  ++n_.rejected;
  JsonFields f;
  f.Add("client_order_id", o.client_order_id).Add("reason", why);
  host_.Log("order_rejected", f.Take(), spdlog::level::warn);
  Report(o.client_order_id, broker::OrderPhase::kRejected, label);
}

void BrokerVenue::Send(JournalOrder& o, bool resized) {
  // Look before sending: a previous attempt may have reached the broker. What is found is
  // adopted only when it is this order (same symbol, side and quantity).
  if (auto existing = broker_.FindOrder(o.client_order_id)) {
    if (RefuseForeign(o, *existing)) return;
    journal_.SetOrderState(o.client_order_id, "sent", existing->id);
    o.state = "sent";
    o.broker_id = existing->id;
    JsonFields f;
    f.Add("client_order_id", o.client_order_id).Add("broker_status", existing->status);
    host_.Log("order_already_placed", f.Take());
    poll_after_send_ = true;  // its fills may be done already: no update will come for them
    Report(o.client_order_id, broker::OrderPhase::kWorking, {});
    return;
  }
  if (!CheckAsset(o)) return;
  journal_.SetOrderState(o.client_order_id, "sending");
  broker::OrderRequest req;
  req.client_order_id = o.client_order_id;
  req.symbol = o.symbol;
  req.side = SideOf(o.side);
  req.qty = o.qty;
  if (o.limit_price > 0.0) {
    req.type = broker::OrderType::kLimit;
    req.limit_price = o.limit_price;
  }
  using Kind = broker::PlaceResult::Kind;
  auto r = broker_.Place(req);
  // Never blind-retry a POST: after an unknown outcome, find out whether it was placed; send
  // once more only when the broker does not know the client order id (a second copy would be
  // refused as a duplicate, so this cannot double the order).
  for (int attempt = 1; r.kind == Kind::kUnknown || r.kind == Kind::kDuplicate; ++attempt) {
    const bool duplicate = r.kind == Kind::kDuplicate;
    JsonFields f;
    f.Add("client_order_id", o.client_order_id)
        .Add("http_status", r.status)
        .Add("detail", r.message);
    host_.Log(duplicate ? "order_duplicate" : "order_uncertain", f.Take(), spdlog::level::warn);
    if (auto existing = broker_.FindOrder(o.client_order_id)) {
      if (RefuseForeign(o, *existing)) return;
      r.kind = Kind::kAccepted;
      r.order = *existing;
    } else if (duplicate) {
      // Placed (the broker says so) but not visible yet: sent, found by the poll later.
      r.kind = Kind::kAccepted;
      r.order = {};
      poll_after_send_ = true;
    } else if (attempt < 2) {
      r = broker_.Place(req);
    } else {
      break;
    }
  }
  JsonFields f;
  f.Add("client_order_id", o.client_order_id)
      .Add("symbol", o.symbol)
      .Add("side", o.side)
      .Add("qty", o.qty);
  // What a buy may cost: a limit buy up to its limit.
  const double cost_price = std::max(o.limit_price, o.ref_price);
  if (o.limit_price > 0.0) f.Add("type", "limit").Add("limit_price", o.limit_price);
  if (r.kind == Kind::kAccepted) {
    ++n_.sent;
    journal_.SetOrderState(o.client_order_id, "sent", r.order.id);
    o.state = "sent";
    o.broker_id = r.order.id;
    host_.Log("order_sent", f.Add("broker_id", r.order.id).Take());
    Report(o.client_order_id, broker::OrderPhase::kWorking, {});
    return;
  }
  if (r.kind == Kind::kRejected && r.insufficient_buying_power && o.side == "buy" && !resized) {
    // Once: resize to what the broker says it will buy now (less the cash buffer) and resend.
    // The refused POST placed nothing, so the client order id is still free.
    const auto account = broker_.GetAccount();
    const double power = account.buying_power > 0.0 ? account.buying_power : account.cash;
    const double qty =
        RoundQty(std::min(o.qty, (power - rules_.cash_buffer * equity_) / cost_price));
    JsonFields rf;
    rf.Add("client_order_id", o.client_order_id)
        .Add("qty", o.qty)
        .Add("new_qty", qty)
        .Add("buying_power", power);
    host_.Log("order_resized", rf.Take(), spdlog::level::warn);
    if (qty > 0.0 && qty < o.qty &&
        (rules_.whole_shares || qty * o.ref_price >= broker_.Rules().min_fractional_notional)) {
      Resize(o, qty);
      Send(o, /*resized=*/true);
      return;
    }
  }
  ++n_.rejected;
  const std::string why =
      r.kind == Kind::kRejected
          ? (r.status ? fmt::format("HTTP {} {}", r.status, r.message) : r.message)
          : fmt::format("unknown outcome ({}); not at the broker", r.message);
  journal_.SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  host_.Log("order_rejected",
            f.Add("http_status", r.status).Add("code", r.code).Add("reason", why).Take(),
            spdlog::level::warn);
  Report(o.client_order_id, broker::OrderPhase::kRejected, "broker_rejected");
}

bool BrokerVenue::CheckAsset(JournalOrder& o) {
  // Asked once per symbol and process (Alpaca: GET /v2/assets/{symbol}).
  auto [it, fresh] = assets_.try_emplace(o.symbol);
  if (fresh) it->second = broker_.GetAsset(o.symbol);
  const auto& a = it->second;
  std::string why;
  if (!a) {
    why = fmt::format("{} is not an asset {} knows", o.symbol, broker_.Name());
  } else if (!a->tradable) {
    why = fmt::format("{} is not tradable at {}", o.symbol, broker_.Name());
  } else if (!a->fractionable && std::abs(o.qty - std::floor(o.qty + 1e-9)) > 1e-9) {
    // Whole shares only: sells and buys round down (never more than planned).
    const double whole = std::floor(o.qty + 1e-9);
    JsonFields f;
    f.Add("client_order_id", o.client_order_id)
        .Add("symbol", o.symbol)
        .Add("qty", o.qty)
        .Add("new_qty", whole)
        .Add("reason", "not fractionable at the broker");
    host_.Log("order_resized", f.Take(), spdlog::level::warn);
    if (whole < 1.0) {
      why = fmt::format("{} trades in whole shares only and {} is less than one", o.symbol,
                        JsonNumber(o.qty));
    } else {
      Resize(o, whole);
    }
  }
  if (why.empty()) return true;
  Refuse(o, why, "not_tradable");
  return false;
}

double BrokerVenue::RoundQty(double qty) const {
  if (rules_.whole_shares) return std::floor(qty / rules_.lot_size + 1e-9) * rules_.lot_size;
  // Down to the broker's increment (Alpaca: 9 decimals): never round up.
  const int decimals = broker_.Rules().fractional_decimals;
  if (decimals < 0) return qty;
  const double scale = std::pow(10.0, decimals);
  return std::floor(qty * scale + 1e-6) / scale;
}

double BrokerVenue::BuyingPower(double cash) const {
  return cash + (rules_.max_leverage - 1.0) * equity_ - rules_.cash_buffer * equity_;
}

std::vector<Order> BrokerVenue::Prepare(const AccountView& account) {
  // What the broker accepts: quantities rounded down to its precision; a sell of (nearly) the
  // whole position sells exactly what the broker holds; nothing below its minimum ($1 for a
  // fractional order) or below min_trade: drift that small is no drift.
  equity_ = account.equity;
  const double min_notional =
      std::max(rules_.whole_shares ? 0.0 : broker_.Rules().min_fractional_notional,
               rules_.min_trade_notional);
  auto skip = [&](const Order& q, double qty, std::string reason) {
    JsonFields f;
    f.Add("symbol", symbols_[q.symbol])
        .Add("side", ToString(q.side))
        .Add("qty", qty)
        .Add("reason", std::move(reason));
    host_.Log("order_skipped", f.Take());
    if (listener_ != nullptr) listener_->OnOrderCanceled(q.id, "below_broker_minimum", host_.Now());
  };
  double cash = account.cash;
  std::vector<Order> out;
  std::map<OrderId, double> asked;
  for (auto q : std::exchange(staged_, {})) {
    asked[q.id] = q.quantity;
    const double px = account.marks[q.symbol];
    double qty = RoundQty(q.quantity);
    if (q.side == Side::kSell) {
      const double held = account.held[q.symbol];
      if (qty >= held - 1e-9 * std::max(1.0, held)) qty = held;
      cash += qty * px;
    }
    if (!(qty > 0.0)) {
      // Rounded down to the broker's quantity step (whole shares, or its decimals): nothing left.
      skip(q, q.quantity,
           broker_.Rules().fractional_decimals == 0 || rules_.whole_shares
               ? std::string("less than one share (the broker trades whole shares)")
               : fmt::format("below the broker's quantity step ({} decimals)",
                             broker_.Rules().fractional_decimals));
      continue;
    }
    if (qty * px < min_notional) {
      skip(q, q.quantity,
           fmt::format("below the broker's minimum order ({} notional)", JsonNumber(min_notional)));
      continue;
    }
    q.quantity = qty;
    out.push_back(q);
  }
  // Buys fit the cash the sells will bring, less live.cash_buffer: a market order fills at a
  // price not known now, and the broker refuses a buy that exceeds its buying power by a cent.
  double need = 0.0;
  for (const auto& q : out) {
    if (q.side == Side::kBuy) need += q.quantity * std::max(q.limit_price, account.marks[q.symbol]);
  }
  const double room = BuyingPower(cash);
  if (need > room && need > 0.0) {
    const double k = std::max(0.0, room) / need;
    for (auto& q : out) {
      if (q.side == Side::kBuy) q.quantity = RoundQty(q.quantity * k);
    }
    JsonFields f;
    f.Add("buy_scale", k).Add("cash_buffer", rules_.cash_buffer);
    host_.Log("buys_scaled_to_cash", f.Take());
    // A buy scaled below the broker's minimum is dust: dropped, not sent to be refused.
    std::erase_if(out, [&](const Order& q) {
      if (q.side != Side::kBuy ||
          (q.quantity > 0.0 && q.quantity * account.marks[q.symbol] >= min_notional))
        return false;
      skip(q, q.quantity,
           fmt::format("scaled to the cash below the broker's minimum order ({} notional)",
                       JsonNumber(min_notional)));
      return true;
    });
  }
  // The order manager tracks each order at the quantity that will be sent.
  for (const auto& q : out) {
    if (q.quantity != asked[q.id] && listener_ != nullptr)
      listener_->OnOrderAmended(q.id, q.quantity, host_.Now());
  }
  return out;
}

void BrokerVenue::SendAll(std::vector<JournalOrder>& orders) {
  for (auto& o : orders) {
    if (stopping_) {
      journal_.SetOrderState(o.client_order_id, "abandoned", {}, "shutdown before sending");
      Drop(o.client_order_id, "shutdown");
      continue;
    }
    Send(o);
    if (!IsTerminalState(o.state)) open_[o.client_order_id] = o;
  }
  if (poll_after_send_) Poll();
  poll_after_send_ = false;
}

void BrokerVenue::Release(std::vector<JournalOrder>& planned) {
  // Sells first; buys go out once they have filled, resized to the cash the broker then has.
  pending_buys_.clear();
  std::vector<JournalOrder> sells;
  for (auto& o : planned) {
    if (o.state != "planned") continue;
    open_.erase(o.client_order_id);  // a resumed order is open again once it is sent
    (o.side == "buy" ? pending_buys_ : sells).push_back(o);
  }
  SendAll(sells);
  if (!pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
}

bool BrokerVenue::SellsOpen() const {
  return std::any_of(open_.begin(), open_.end(),
                     [](const auto& kv) { return kv.second.side == "sell"; });
}

void BrokerVenue::SendPendingBuys() {
  auto buys = std::exchange(pending_buys_, {});
  if (buys.empty()) return;
  // The cash there is now, after the sells' fills.
  const double cash = broker_.GetAccount().cash;
  double need = 0.0;
  for (const auto& o : buys)
    need += o.qty * std::max(o.limit_price, o.ref_price);  // a limit buy may cost its limit
  const double room = BuyingPower(cash);
  const double k = need > room && need > 0.0 ? std::max(0.0, room) / need : 1.0;
  std::vector<JournalOrder> send;
  for (auto& o : buys) {
    if (k < 1.0) {
      Resize(o, RoundQty(o.qty * k));
    }
    if (!(o.qty > 0.0) ||
        (!rules_.whole_shares && o.qty * o.ref_price < broker_.Rules().min_fractional_notional)) {
      journal_.SetOrderState(o.client_order_id, "skipped", {},
                             "no cash left for it after the sells");
      Drop(o.client_order_id, "no_cash");
      continue;
    }
    send.push_back(o);
  }
  SendAll(send);
}

void BrokerVenue::AbandonPendingBuys(std::string_view reason) {
  for (const auto& o : std::exchange(pending_buys_, {})) {
    journal_.SetOrderState(o.client_order_id, "abandoned", {}, reason);
    Drop(o.client_order_id, "sells_not_filled");
  }
}

void BrokerVenue::Poll() {
  // Updates missed on the stream: ask for each open order's state.
  std::vector<std::string> ids;
  for (const auto& [coid, o] : open_)
    ids.push_back(coid);
  for (const auto& coid : ids) {
    auto b = broker_.FindOrder(coid);
    if (!b) continue;
    auto& o = open_[coid];
    const double known = journal_.FilledQty(coid);
    if (b->filled_qty > known + 1e-9) {
      // The order's fees, pro rata for the part not booked yet.
      ApplyFill(coid, o.symbol, SideOf(o.side), b->filled_qty - known,
                NewFillPrice(coid, b->filled_qty, b->filled_avg_price, o.ref_price),
                b->commission * (b->filled_qty - known) / b->filled_qty,
                b->updated_at ? b->updated_at : host_.Now(),
                fmt::format("poll-{}-{}", coid, b->filled_qty), b->filled_qty);
    }
    journal_.SetOrderProgress(coid, b->filled_qty, b->filled_avg_price);
    if (broker::IsFinal(b->phase)) {
      journal_.SetOrderState(coid, JournalState(b->phase), b->id, b->reason);
      Report(coid, b->phase,
             b->phase == broker::OrderPhase::kCanceled
                 ? std::string_view(!b->reason.empty() ? b->reason : "canceled")
                 : std::string_view{});
      open_.erase(coid);
    } else {
      JsonFields f;
      f.Add("client_order_id", coid)
          .Add("broker_status", b->status)
          .Add("phase", broker::ToString(b->phase))
          .Add("filled_qty", b->filled_qty);
      host_.Log("order_still_open", f.Take(), spdlog::level::warn);
    }
  }
  if (!pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
}

void BrokerVenue::Recover(std::optional<std::int64_t> resumable) {
  // Orders a previous process journaled but did not see to the end.
  for (auto& o : journal_.OpenOrders()) {
    const std::optional<broker::BrokerOrder> b = broker_.FindOrder(o.client_order_id);
    JsonFields f;
    f.Add("client_order_id", o.client_order_id).Add("journal_state", o.state);
    if (b && !SameOrder(*b, o)) {
      journal_.SetOrderState(o.client_order_id, "abandoned", {},
                             "the broker's order under this id is a different order");
      f.Add("broker_status", b->status).Add("action", "abandoned_foreign");
      host_.Log("order_recovered", f.Take(), spdlog::level::warn);
      continue;
    }
    if (b) {
      // Fills the broker made while we were away: already in its positions, journal them.
      const double known = journal_.FilledQty(o.client_order_id);
      if (b->filled_qty > known + 1e-9) {
        const double qty = b->filled_qty - known;
        const double px =
            NewFillPrice(o.client_order_id, b->filled_qty, b->filled_avg_price, o.ref_price);
        journal_.RecordFill(JournalFill{
            fmt::format("recovered-{}-{}", o.client_order_id, b->filled_qty), o.client_order_id,
            o.symbol, o.side, qty, px, b->commission * qty / b->filled_qty,
            b->updated_at ? b->updated_at : host_.Now()});
        host_.AppendTrade(host_.Now(), o.client_order_id, o.symbol, o.side, qty, px, "recovered");
      }
      journal_.SetOrderProgress(o.client_order_id, b->filled_qty, b->filled_avg_price);
      const std::string state(broker::IsFinal(b->phase) ? JournalState(b->phase) : "sent");
      journal_.SetOrderState(o.client_order_id, state, b->id, b->reason);
      f.Add("broker_status", b->status)
          .Add("phase", broker::ToString(b->phase))
          .Add("filled_qty", b->filled_qty);
      if (!IsTerminalState(state)) {
        o.state = state;
        o.broker_id = b->id;
        o.filled_qty = b->filled_qty;
        o.avg_price = b->filled_avg_price;
        open_[o.client_order_id] = o;
      }
    } else {
      if (resumable && *resumable == o.cycle && (o.state == "planned" || o.state == "sending")) {
        f.Add("broker_status", "not_found").Add("action", "resend");
        o.state = "planned";
        open_[o.client_order_id] = o;
      } else {
        journal_.SetOrderState(o.client_order_id, "abandoned", {},
                               "not at the broker and its session day has passed");
        f.Add("broker_status", "not_found").Add("action", "abandoned");
      }
    }
    host_.Log("order_recovered", f.Take());
  }
}

}  // namespace ballast::live::detail
