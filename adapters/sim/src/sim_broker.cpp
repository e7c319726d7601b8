#include "ballast/adapters/sim/sim_broker.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ballast::sim {

using broker::OrderPhase;

SimBroker::SimBroker(boost::asio::io_context& io, SimBrokerOptions options, PriceFn price)
    : io_(io), options_(options), price_(std::move(price)), cash_(options.initial_cash) {}

double SimBroker::Equity() const {
  double e = cash_;
  for (const auto& [sym, h] : holdings_) {
    const auto px = price_(sym);
    e += h.qty * (px ? *px : h.cost);
  }
  return e;
}

double SimBroker::BuyingPower() const {
  double reserved = 0.0;
  for (const auto& [coid, o] : orders_) {
    if (o.side != Side::kBuy || broker::IsFinal(o.phase)) continue;
    const auto px = price_(o.symbol);
    reserved += (o.qty - o.filled_qty) * (px ? *px : 0.0);
  }
  return cash_ + (options_.max_leverage - 1.0) * std::max(0.0, Equity()) - reserved;
}

broker::Account SimBroker::GetAccount() {
  ++requests_;
  broker::Account a;
  a.status = "ACTIVE";
  a.currency = "USD";
  a.cash = cash_;
  a.equity = Equity();
  a.buying_power = std::max(0.0, BuyingPower());
  return a;
}

std::vector<broker::Position> SimBroker::GetPositions() {
  ++requests_;
  std::vector<broker::Position> out;
  for (const auto& [sym, h] : holdings_) {
    if (h.qty == 0.0) continue;
    const auto px = price_(sym);
    out.push_back({sym, h.qty, h.cost, h.qty * (px ? *px : h.cost)});
  }
  return out;
}

std::vector<broker::BrokerOrder> SimBroker::GetOpenOrders() {
  ++requests_;
  std::vector<broker::BrokerOrder> out;
  for (const auto& [coid, o] : orders_) {
    if (!broker::IsFinal(o.phase)) out.push_back(o);
  }
  return out;
}

std::optional<broker::BrokerOrder> SimBroker::FindOrder(std::string_view client_order_id) {
  ++requests_;
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second;
}

std::optional<broker::Asset> SimBroker::GetAsset(std::string_view symbol) {
  ++requests_;
  if (!price_(symbol)) return std::nullopt;  // no price: nothing to trade it at
  return broker::Asset{std::string(symbol), true, options_.shares == ShareMode::kFractional};
}

broker::PlaceResult SimBroker::Place(const broker::OrderRequest& r) {
  ++requests_;
  broker::PlaceResult out;
  if (orders_.count(r.client_order_id)) {
    out.kind = broker::PlaceResult::Kind::kDuplicate;
    out.message = "client_order_id must be unique";
    return out;
  }
  auto reject = [&](std::string message) {
    out.kind = broker::PlaceResult::Kind::kRejected;
    out.message = std::move(message);
    return out;
  };
  const auto px = price_(r.symbol);
  if (!px || !(*px > 0.0)) return reject("no price for " + r.symbol);
  if (!(r.qty > 0.0) || !std::isfinite(r.qty)) return reject("qty must be > 0");
  if (options_.shares == ShareMode::kWhole &&
      std::abs(r.qty / options_.lot_size - std::round(r.qty / options_.lot_size)) > 1e-9) {
    return reject("qty must be a whole number of lots");
  }
  if (r.side == Side::kSell) {
    const auto h = holdings_.find(r.symbol);
    double held = h == holdings_.end() ? 0.0 : h->second.qty;
    for (const auto& [coid, o] : orders_) {
      if (o.side == Side::kSell && o.symbol == r.symbol && !broker::IsFinal(o.phase))
        held -= o.qty - o.filled_qty;
    }
    if (r.qty > held * (1 + 1e-9) + 1e-9 && options_.max_leverage <= 1.0) {
      return reject("insufficient qty available for order (short sales are not simulated)");
    }
  } else {
    const double fill_px = SlippedPrice(*px, true, options_.slippage_bps);
    const double cost = r.qty * fill_px + options_.commission.Fee(r.qty, fill_px);
    const double power = BuyingPower();
    if (cost > power + 1e-9 * std::max(1.0, std::abs(power))) {
      out.insufficient_buying_power = true;
      out.status = 403;
      return reject("insufficient buying power");
    }
  }
  broker::BrokerOrder o;
  o.id = "sim-" + std::to_string(next_id_++);
  o.client_order_id = r.client_order_id;
  o.symbol = r.symbol;
  o.side = r.side;
  o.qty = r.qty;
  o.phase = OrderPhase::kWorking;
  o.status = "new";
  orders_[r.client_order_id] = o;
  out.kind = broker::PlaceResult::Kind::kAccepted;
  out.status = 200;
  out.order = o;
  // As SimVenue's close fills: a limit order fills when the price after slippage is at its limit
  // or better; else its day ends unfilled (this broker sees one price, not the day's path).
  const double slipped = SlippedPrice(*px, r.side == Side::kBuy, options_.slippage_bps);
  const bool marketable =
      r.type == broker::OrderType::kMarket ||
      (r.side == Side::kBuy ? slipped <= r.limit_price : slipped >= r.limit_price);
  std::string coid = r.client_order_id;
  if (marketable) {
    boost::asio::post(io_, [this, coid] { Execute(coid); });
  } else {
    boost::asio::post(io_, [this, coid] { Expire(coid); });
  }
  return out;
}

void SimBroker::Execute(const std::string& coid) {
  const auto it = orders_.find(coid);
  if (it == orders_.end() || broker::IsFinal(it->second.phase)) return;
  auto& o = it->second;
  const auto px = price_(o.symbol);
  if (!px) return;
  const double fill_px = SlippedPrice(*px, o.side == Side::kBuy, options_.slippage_bps);
  const double qty = o.qty - o.filled_qty;
  const double fee = options_.commission.Fee(qty, fill_px);
  Book(o.side, o.symbol, qty, fill_px, fee);
  o.filled_avg_price = (o.filled_avg_price * o.filled_qty + fill_px * qty) / (o.filled_qty + qty);
  o.filled_qty = o.qty;
  o.phase = OrderPhase::kFilled;
  o.status = "filled";
  broker::OrderUpdate u;
  u.event = "fill";
  u.phase = OrderPhase::kFilled;
  u.order = o;
  u.execution = true;
  u.execution_id = coid + "-sim";
  u.qty = qty;
  u.price = fill_px;
  u.commission = fee;
  Post(std::move(u));
}

void SimBroker::Expire(const std::string& coid) {
  const auto it = orders_.find(coid);
  if (it == orders_.end() || broker::IsFinal(it->second.phase)) return;
  it->second.phase = OrderPhase::kExpired;
  it->second.status = "expired";
  it->second.reason = "limit not reached";
  broker::OrderUpdate u;
  u.event = "expired";
  u.phase = OrderPhase::kExpired;
  u.order = it->second;
  Post(std::move(u));
}

void SimBroker::Post(broker::OrderUpdate update) {
  if (listener_) listener_->OnOrderUpdate(update);
}

bool SimBroker::Cancel(const broker::BrokerOrder& order) {
  ++requests_;
  const auto it = orders_.find(order.client_order_id);
  if (it == orders_.end() || broker::IsFinal(it->second.phase)) return false;
  it->second.phase = OrderPhase::kCanceled;
  it->second.status = "canceled";
  broker::OrderUpdate u;
  u.event = "canceled";
  u.phase = OrderPhase::kCanceled;
  u.order = it->second;
  boost::asio::post(io_, [this, u] { Post(u); });
  return true;
}

void SimBroker::Book(Side side, const std::string& symbol, double qty, double price,
                     double commission) {
  auto& h = holdings_[symbol];
  if (side == Side::kBuy) {
    h.cost = h.qty + qty > 0.0 ? (h.cost * h.qty + price * qty) / (h.qty + qty) : 0.0;
    h.qty += qty;
    cash_ -= qty * price + commission;
  } else {
    h.qty -= qty;
    cash_ += qty * price - commission;
    if (std::abs(h.qty) < 1e-12) h.qty = 0.0;
  }
}

void SimBroker::Restore(const broker::BookedAccount& booked) {
  cash_ = options_.initial_cash + booked.net_transfers;
  holdings_.clear();
  orders_.clear();
  for (const auto& f : booked.fills) {
    Book(f.side, f.symbol, f.qty, f.price, f.commission);
    auto& o = orders_[f.client_order_id];
    if (o.client_order_id.empty()) {
      o.id = "sim-restored-" + std::to_string(next_id_++);
      o.client_order_id = f.client_order_id;
      o.symbol = f.symbol;
      o.side = f.side;
    }
    o.filled_avg_price =
        (o.filled_avg_price * o.filled_qty + f.price * f.qty) / (o.filled_qty + f.qty);
    o.filled_qty += f.qty;
    o.qty = o.filled_qty;
    o.phase = OrderPhase::kFilled;
    o.status = "filled";
  }
  for (const auto& open : booked.open_orders) {
    auto& o = orders_[open.client_order_id];
    const double filled = o.filled_qty;  // what the fills above booked of it
    const double avg = o.filled_avg_price;
    o = open;
    o.filled_qty = filled;
    o.filled_avg_price = avg;
    if (o.id.empty()) o.id = "sim-restored-" + std::to_string(next_id_++);
    if (o.filled_qty >= o.qty - 1e-12) {
      o.phase = OrderPhase::kFilled;
      o.status = "filled";
      continue;
    }
    o.phase = o.filled_qty > 0.0 ? OrderPhase::kPartiallyFilled : OrderPhase::kWorking;
    o.status = "new";
    std::string coid = o.client_order_id;
    boost::asio::post(io_, [this, coid] { Execute(coid); });
  }
}

void SimBroker::Transfer(double amount) {
  ++requests_;
  cash_ += amount;
}

void SimBroker::StartUpdates(broker::BrokerListener& listener) {
  listener_ = &listener;
  boost::asio::post(io_, [this] {
    if (listener_) listener_->OnUpdatesReady(false);
  });
}

void SimBroker::StopUpdates() {
  listener_ = nullptr;
}

}  // namespace ballast::sim
