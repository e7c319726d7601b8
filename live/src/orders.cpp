// Orders at the broker: what it accepts, sells before buys, sending without ever doubling an
// order, fills booked once, polling, cancels and the kill switch.
#include "session_impl.hpp"

namespace ballast::live::detail {

bool Session::KillSwitch() const {
  if (o_.kill != nullptr && o_.kill->load()) return true;
  return !live_.risk.kill_switch_file.empty() && fs::exists(live_.risk.kill_switch_file);
}

void Session::CancelOpen(std::string_view reason) {
  const Timestamp now = Now();
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
    const bool ok = broker_->Cancel(b);
    JsonFields f;
    f.Add("client_order_id", coid).Add("reason", reason).Add("accepted", ok);
    Log("order_cancel_requested", f.Take(), spdlog::level::warn);
  }
}

void Session::ApplyFill(const std::string& coid, const std::string& symbol, Side side, double qty,
                        double price, double commission, Timestamp at, const std::string& exec_key,
                        double cumulative) {
  // One booking per execution whatever route reports it (stream, poll, recovery): besides the
  // execution key, the order's cumulative filled quantity says what is new.
  if (cumulative >= 0.0) {
    const double fresh = cumulative - journal_->FilledQty(coid);
    if (fresh <= 1e-9 * std::max(1.0, cumulative)) return;
    qty = std::min(qty, fresh);
  }
  if (!journal_->RecordFill(JournalFill{exec_key, coid, symbol, std::string(ToString(side)), qty,
                                        price, commission, at})) {
    return;  // already booked (a duplicate update, or recovered earlier)
  }
  ++m_.fills;
  AppendTrade(at, coid, symbol, ToString(side), qty, price, BrokerName() == "sim" ? "sim" : "fill");
  const auto col = std::find(symbols_.begin(), symbols_.end(), symbol) - symbols_.begin();
  if (col >= static_cast<std::ptrdiff_t>(tradable_)) return;
  const auto id = engine_ids_.find(coid);
  Fill fill{id != engine_ids_.end() ? id->second : 0,
            static_cast<SymbolIndex>(col),
            side,
            qty,
            price,
            commission,
            0.0,
            at};
  if (side == Side::kSell &&
      qty > ledger_->Quantity(static_cast<SymbolIndex>(col)) * (1 + 1e-9) + 1e-9) {
    // The broker sold more than the ledger holds (a manual trade?): the broker is right.
    JsonFields f;
    f.Add("symbol", symbol).Add("fill_qty", qty).Add("ledger", ledger_->Quantity(fill.symbol));
    Log("reconcile_difference", f.Take(), spdlog::level::warn);
    Reconcile();
    return;
  }
  if (id != engine_ids_.end()) {
    orders_->OnFill(fill);  // books the ledger and the trade record
  } else {
    ledger_->ApplyFill(fill);  // an order from an earlier process
  }
}

double Session::NewFillPrice(const std::string& coid, double cumulative, double cumulative_avg,
                             double fallback) {
  if (!(cumulative_avg > 0.0)) return fallback;
  const double known = journal_->FilledQty(coid);
  const double fresh = cumulative - known;
  if (!(fresh > 1e-12)) return cumulative_avg;
  const double px = (cumulative * cumulative_avg - journal_->FilledNotional(coid)) / fresh;
  // Rounding in the broker's average can make a tiny remainder's price absurd: keep it sane.
  return std::isfinite(px) && px > 0.0 ? px : cumulative_avg;
}

void Session::OnOrderUpdate(const broker::OrderUpdate& u) {
  const std::string& coid = u.order.client_order_id;
  const auto it = open_.find(coid);
  if (it == open_.end()) {
    if (coid.rfind(tag_, 0) != 0) return;  // not ours (another app on the account)
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
        coid, u.order.symbol, u.order.side, u.qty, u.price, u.commission, u.at ? u.at : Now(),
        !u.execution_id.empty() ? u.execution_id : fmt::format("{}-{}", coid, u.order.filled_qty),
        u.order.filled_qty > 0.0 ? u.order.filled_qty : -1.0);
    journal_->SetOrderProgress(coid, u.order.filled_qty, u.order.filled_avg_price);
  }
  if (it != open_.end()) {
    const std::string state(JournalState(u.phase));
    journal_->SetOrderState(coid, state, u.order.id, u.order.reason);
    it->second.state = state;
    const auto id = engine_ids_.find(coid);
    if (id != engine_ids_.end()) {
      if (u.phase == broker::OrderPhase::kRejected)
        orders_->OnOrderRejected(id->second, "broker_rejected", Now());
      if (u.phase == broker::OrderPhase::kCanceled) {
        orders_->OnOrderCanceled(id->second, !u.order.reason.empty() ? u.order.reason : state,
                                 Now());
      }
      if (u.phase == broker::OrderPhase::kExpired) orders_->OnOrderExpired(id->second, Now());
    }
    if (u.phase == broker::OrderPhase::kRejected) ++m_.orders_rejected;
    if (IsTerminalState(state)) open_.erase(it);
    if (IsTerminalState(state) && !pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
    if (unfinished_cycle_ != 0 && open_.empty() && pending_buys_.empty()) {
      // A service cycle's last order is final: finish it now, not at the fill timeout.
      boost::asio::post(io_, [this, cycle = unfinished_cycle_] {
        if (unfinished_cycle_ != cycle) return;
        try {
          (void)FinishCycle(cycle, false);
        } catch (const std::exception& e) {
          JsonFields ef;
          ef.Add("detail", e.what());
          Log("cycle_error", ef.Take(), spdlog::level::err);
        }
      });
    }
  }
  Log("trade_update", f.Take(),
      u.phase == broker::OrderPhase::kRejected ? spdlog::level::warn : spdlog::level::info);
}

bool Session::RefuseForeign(JournalOrder& o, const broker::BrokerOrder& b) {
  if (SameOrder(b, o)) return false;
  const std::string why =
      fmt::format("client order id taken at the broker by a different order ({} {} {})",
                  ToString(b.side), JsonNumber(b.qty), b.symbol);
  Refuse(o, why, "client_order_id_taken");
  return true;
}

void Session::Refuse(JournalOrder& o, const std::string& why, std::string_view label) {
  journal_->SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  ++m_.orders_rejected;
  JsonFields f;
  f.Add("client_order_id", o.client_order_id).Add("reason", why);
  Log("order_rejected", f.Take(), spdlog::level::warn);
  const auto id = engine_ids_.find(o.client_order_id);
  if (id != engine_ids_.end()) orders_->OnOrderRejected(id->second, label, Now());
}

void Session::Send(JournalOrder& o, bool resized) {
  // Look before sending: a previous attempt may have reached the broker. What is found is
  // adopted only when it is this order (same symbol, side and quantity).
  if (auto existing = broker_->FindOrder(o.client_order_id)) {
    if (RefuseForeign(o, *existing)) return;
    journal_->SetOrderState(o.client_order_id, "sent", existing->id);
    o.state = "sent";
    o.broker_id = existing->id;
    JsonFields f;
    f.Add("client_order_id", o.client_order_id).Add("broker_status", existing->status);
    Log("order_already_placed", f.Take());
    poll_after_send_ = true;  // its fills may be done already: no update will come for them
    return;
  }
  if (!CheckAsset(o)) return;
  journal_->SetOrderState(o.client_order_id, "sending");
  broker::OrderRequest req;
  req.client_order_id = o.client_order_id;
  req.symbol = o.symbol;
  req.side = o.side == "sell" ? Side::kSell : Side::kBuy;
  req.qty = o.qty;
  if (o.limit_price > 0.0) {
    req.type = broker::OrderType::kLimit;
    req.limit_price = o.limit_price;
  }
  using Kind = broker::PlaceResult::Kind;
  auto r = broker_->Place(req);
  // Never blind-retry a POST: after an unknown outcome, find out whether it was placed; send
  // once more only when the broker does not know the client order id (a second copy would be
  // refused as a duplicate, so this cannot double the order).
  for (int attempt = 1; r.kind == Kind::kUnknown || r.kind == Kind::kDuplicate; ++attempt) {
    const bool duplicate = r.kind == Kind::kDuplicate;
    JsonFields f;
    f.Add("client_order_id", o.client_order_id)
        .Add("http_status", r.status)
        .Add("detail", r.message);
    Log(duplicate ? "order_duplicate" : "order_uncertain", f.Take(), spdlog::level::warn);
    if (auto existing = broker_->FindOrder(o.client_order_id)) {
      if (RefuseForeign(o, *existing)) return;
      r.kind = Kind::kAccepted;
      r.order = *existing;
    } else if (duplicate) {
      // Placed (the broker says so) but not visible yet: sent, found by the poll later.
      r.kind = Kind::kAccepted;
      r.order = {};
      poll_after_send_ = true;
    } else if (attempt < 2) {
      r = broker_->Place(req);
    } else {
      break;
    }
  }
  JsonFields f;
  f.Add("client_order_id", o.client_order_id)
      .Add("symbol", o.symbol)
      .Add("side", o.side)
      .Add("qty", o.qty);
  if (o.limit_price > 0.0) f.Add("type", "limit").Add("limit_price", o.limit_price);
  if (r.kind == Kind::kAccepted) {
    ++m_.orders_sent;
    journal_->SetOrderState(o.client_order_id, "sent", r.order.id);
    o.state = "sent";
    o.broker_id = r.order.id;
    Log("order_sent", f.Add("broker_id", r.order.id).Take());
    return;
  }
  if (r.kind == Kind::kRejected && r.insufficient_buying_power && o.side == "buy" && !resized) {
    // Once: resize to what the broker says it will buy now (less the cash buffer) and resend.
    // The refused POST placed nothing, so the client order id is still free.
    const auto account = broker_->GetAccount();
    const double power = account.buying_power > 0.0 ? account.buying_power : account.cash;
    const double qty = RoundQty(std::min(
        o.qty, (power - live_.cash_buffer * equity_) /
                   (o.limit_price > 0.0 ? std::max(o.limit_price, o.ref_price) : o.ref_price)));
    JsonFields rf;
    rf.Add("client_order_id", o.client_order_id)
        .Add("qty", o.qty)
        .Add("new_qty", qty)
        .Add("buying_power", power);
    Log("order_resized", rf.Take(), spdlog::level::warn);
    if (qty > 0.0 && qty < o.qty &&
        (cfg_.shares == ShareMode::kWhole ||
         qty * o.ref_price >= broker_->Rules().min_fractional_notional)) {
      o.qty = qty;
      journal_->SetOrderQty(o.client_order_id, qty);
      Send(o, /*resized=*/true);
      return;
    }
  }
  ++m_.orders_rejected;
  const std::string why =
      r.kind == Kind::kRejected
          ? (r.status ? fmt::format("HTTP {} {}", r.status, r.message) : r.message)
          : fmt::format("unknown outcome ({}); not at the broker", r.message);
  journal_->SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  Log("order_rejected",
      f.Add("http_status", r.status).Add("code", r.code).Add("reason", why).Take(),
      spdlog::level::warn);
  const auto id = engine_ids_.find(o.client_order_id);
  if (id != engine_ids_.end()) orders_->OnOrderRejected(id->second, "broker_rejected", Now());
}

bool Session::CheckAsset(JournalOrder& o) {
  // Asked once per symbol and process (Alpaca: GET /v2/assets/{symbol}).
  auto [it, fresh] = assets_.try_emplace(o.symbol);
  if (fresh) it->second = broker_->GetAsset(o.symbol);
  const auto& a = it->second;
  std::string why;
  if (!a) {
    why = fmt::format("{} is not an asset {} knows", o.symbol, broker_->Name());
  } else if (!a->tradable) {
    why = fmt::format("{} is not tradable at {}", o.symbol, broker_->Name());
  } else if (!a->fractionable && std::abs(o.qty - std::floor(o.qty + 1e-9)) > 1e-9) {
    // Whole shares only: sells and buys round down (never more than planned).
    const double whole = std::floor(o.qty + 1e-9);
    JsonFields f;
    f.Add("client_order_id", o.client_order_id)
        .Add("symbol", o.symbol)
        .Add("qty", o.qty)
        .Add("new_qty", whole)
        .Add("reason", "not fractionable at the broker");
    Log("order_resized", f.Take(), spdlog::level::warn);
    if (whole < 1.0) {
      why = fmt::format("{} trades in whole shares only and {} is less than one", o.symbol,
                        JsonNumber(o.qty));
    } else {
      o.qty = whole;
      journal_->SetOrderQty(o.client_order_id, whole);
    }
  }
  if (why.empty()) return true;
  Refuse(o, why, "not_tradable");
  return false;
}

double Session::RoundQty(double qty) const {
  if (cfg_.shares == ShareMode::kWhole)
    return std::floor(qty / cfg_.lot_size + 1e-9) * cfg_.lot_size;
  // Down to the broker's increment (Alpaca: 9 decimals): never round up.
  const int decimals = broker_->Rules().fractional_decimals;
  if (decimals < 0) return qty;
  const double scale = std::pow(10.0, decimals);
  return std::floor(qty * scale + 1e-6) / scale;
}

double Session::BuyingPower(double cash) const {
  return cash + (cfg_.max_leverage - 1.0) * equity_ - live_.cash_buffer * equity_;
}

std::vector<Order> Session::Sendable(std::vector<Order> queued) {
  // What the broker accepts: quantities rounded down to its precision; a sell of (nearly) the
  // whole position sells exactly what the broker holds; nothing below its minimum ($1 for a
  // fractional order) or below min_trade: drift that small is no drift.
  const double min_notional = std::max(
      cfg_.shares == ShareMode::kFractional ? broker_->Rules().min_fractional_notional : 0.0,
      backtests::MakePlannerOptions(cfg_).min_trade_notional);
  double cash = broker_cash_;
  std::vector<Order> out;
  for (auto q : queued) {
    double qty = RoundQty(q.quantity);
    if (q.side == Side::kSell) {
      const double held = broker_qty_[q.symbol];
      if (qty >= held - 1e-9 * std::max(1.0, held)) qty = held;
      cash += qty * marks_[q.symbol];
    }
    if (!(qty > 0.0) || qty * marks_[q.symbol] < min_notional) {
      JsonFields f;
      f.Add("symbol", symbols_[q.symbol])
          .Add("side", ToString(q.side))
          .Add("qty", q.quantity)
          .Add("reason", fmt::format("below the broker's minimum order ({} notional)",
                                     JsonNumber(min_notional)));
      Log("order_skipped", f.Take());
      orders_->OnOrderCanceled(q.id, "below_broker_minimum", Now());
      continue;
    }
    q.quantity = qty;
    out.push_back(q);
  }
  // Buys fit the cash the sells will bring, less live.cash_buffer: a market order fills at a
  // price not known now, and the broker refuses a buy that exceeds its buying power by a cent.
  // A limit buy may cost up to its limit.
  double need = 0.0;
  for (const auto& q : out) {
    if (q.side == Side::kBuy) need += q.quantity * std::max(q.limit_price, marks_[q.symbol]);
  }
  const double room = BuyingPower(cash);
  if (need > room && need > 0.0) {
    const double k = std::max(0.0, room) / need;
    for (auto& q : out) {
      if (q.side == Side::kBuy) q.quantity = RoundQty(q.quantity * k);
    }
    JsonFields f;
    f.Add("buy_scale", k).Add("cash_buffer", live_.cash_buffer);
    Log("buys_scaled_to_cash", f.Take());
    // A buy scaled below the broker's minimum is dust: dropped, not sent to be refused.
    std::erase_if(out, [&](const Order& q) {
      if (q.side != Side::kBuy ||
          (q.quantity > 0.0 && q.quantity * marks_[q.symbol] >= min_notional))
        return false;
      JsonFields d;
      d.Add("symbol", symbols_[q.symbol])
          .Add("side", ToString(q.side))
          .Add("qty", q.quantity)
          .Add("reason", fmt::format("scaled to the cash below the broker's minimum order ({} "
                                     "notional)",
                                     JsonNumber(min_notional)));
      Log("order_skipped", d.Take());
      orders_->OnOrderCanceled(q.id, "below_broker_minimum", Now());
      return true;
    });
  }
  return out;
}

void Session::SendOrders(std::vector<JournalOrder>& planned, bool blocking) {
  // Sells first; buys go out once they have filled, resized to the cash the broker then has.
  pending_buys_.clear();
  for (auto& o : planned) {
    if (o.state != "planned") continue;
    if (o.side == "buy") {
      pending_buys_.push_back(o);
      continue;
    }
    if (stopping_) {
      journal_->SetOrderState(o.client_order_id, "abandoned", {}, "shutdown before sending");
      continue;
    }
    Send(o);
    if (!IsTerminalState(o.state)) open_[o.client_order_id] = o;
  }
  if (poll_after_send_) PollOpenOrders();
  poll_after_send_ = false;
  if (pending_buys_.empty()) return;
  if (SellsOpen() && blocking) WaitForOrders(live_.fill_timeout_s, /*sells_only=*/true);
  if (!SellsOpen()) SendPendingBuys();  // else the trade update that closes the last sell does
}

bool Session::SellsOpen() const {
  return std::any_of(open_.begin(), open_.end(),
                     [](const auto& kv) { return kv.second.side == "sell"; });
}

void Session::SendPendingBuys() {
  auto buys = std::exchange(pending_buys_, {});
  if (buys.empty()) return;
  // The cash there is now, after the sells' fills.
  broker_cash_ = broker_->GetAccount().cash;
  double need = 0.0;
  for (const auto& o : buys)
    need += o.qty * std::max(o.limit_price, o.ref_price);  // a limit buy may cost its limit
  const double room = BuyingPower(broker_cash_);
  const double k = need > room && need > 0.0 ? std::max(0.0, room) / need : 1.0;
  for (auto& o : buys) {
    if (stopping_) {
      journal_->SetOrderState(o.client_order_id, "abandoned", {}, "shutdown before sending");
      continue;
    }
    if (k < 1.0) {
      o.qty = RoundQty(o.qty * k);
      journal_->SetOrderQty(o.client_order_id, o.qty);
    }
    if (!(o.qty > 0.0) || (cfg_.shares == ShareMode::kFractional &&
                           o.qty * o.ref_price < broker_->Rules().min_fractional_notional)) {
      journal_->SetOrderState(o.client_order_id, "skipped", {},
                              "no cash left for it after the sells");
      continue;
    }
    Send(o);
    if (!IsTerminalState(o.state)) open_[o.client_order_id] = o;
  }
  if (poll_after_send_) PollOpenOrders();
  poll_after_send_ = false;
}

bool Session::WaitForOrders(double timeout_s, bool sells_only) {
  // Runs the loop until every open order is final, or the timeout (0: until the trade stream is
  // up, at most live.stream_connect_seconds: a stream refused with 429 backs off for seconds).
  const bool for_stream = timeout_s <= 0.0;
  boost::asio::steady_timer deadline(io_);
  deadline.expires_after(std::chrono::milliseconds(
      static_cast<long long>((for_stream ? live_.stream_connect_s : timeout_s) * 1000)));
  bool expired = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) expired = true;
  });
  while (!expired && fatal_.empty() && !(o_.stop && o_.stop->load())) {
    if (for_stream ? broker_->UpdatesReady() : (sells_only ? !SellsOpen() : open_.empty())) break;
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }
  deadline.cancel();
  io_.restart();
  io_.poll();
  if (!fatal_.empty()) throw Error(ErrorKind::kBroker, fatal_);
  return for_stream ? broker_->UpdatesReady() : open_.empty();
}

void Session::PollOpenOrders() {
  // Updates missed on the stream: ask for each open order's state.
  std::vector<std::string> ids;
  for (const auto& [coid, o] : open_)
    ids.push_back(coid);
  for (const auto& coid : ids) {
    auto b = broker_->FindOrder(coid);
    if (!b) continue;
    auto& o = open_[coid];
    const double known = journal_->FilledQty(coid);
    if (b->filled_qty > known + 1e-9) {
      ApplyFill(coid, o.symbol, o.side == "sell" ? Side::kSell : Side::kBuy, b->filled_qty - known,
                NewFillPrice(coid, b->filled_qty, b->filled_avg_price, o.ref_price), 0.0,
                b->updated_at ? b->updated_at : Now(),
                fmt::format("poll-{}-{}", coid, b->filled_qty), b->filled_qty);
    }
    journal_->SetOrderProgress(coid, b->filled_qty, b->filled_avg_price);
    if (broker::IsFinal(b->phase)) {
      journal_->SetOrderState(coid, JournalState(b->phase), b->id, b->reason);
      open_.erase(coid);
    } else {
      JsonFields f;
      f.Add("client_order_id", coid)
          .Add("broker_status", b->status)
          .Add("phase", broker::ToString(b->phase))
          .Add("filled_qty", b->filled_qty);
      Log("order_still_open", f.Take(), spdlog::level::warn);
    }
  }
  if (!pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
}

}  // namespace ballast::live::detail
