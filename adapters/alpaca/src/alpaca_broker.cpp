#include "ballast/adapters/alpaca/alpaca_broker.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ballast::alpaca {

using broker::OrderPhase;

OrderPhase PhaseOf(std::string_view s, double filled_qty) noexcept {
  if (s == "filled") return OrderPhase::kFilled;
  if (s == "partially_filled") return OrderPhase::kPartiallyFilled;
  // A replaced order lives on under a new id (we never replace; someone did, by hand): this
  // one is over. done_for_day: nothing more fills today, and a day order has no tomorrow.
  if (s == "canceled" || s == "done_for_day" || s == "replaced") return OrderPhase::kCanceled;
  if (s == "expired") return OrderPhase::kExpired;
  if (s == "rejected") return OrderPhase::kRejected;
  if (s == "pending_new" || s == "accepted" || s == "accepted_for_bidding")
    return OrderPhase::kPending;
  if (s == "new" || s == "held" || s == "pending_cancel" || s == "pending_replace" ||
      s == "stopped" || s == "suspended" || s == "calculated") {
    return filled_qty > 0.0 ? OrderPhase::kPartiallyFilled : OrderPhase::kWorking;
  }
  return OrderPhase::kUnknown;
}

std::string_view RejectionLabel(std::string_view m) noexcept {
  auto has = [m](std::string_view w) { return m.find(w) != std::string_view::npos; };
  if (has("buying power")) return "insufficient_buying_power";
  if (has("pattern day") || has("PDT") || has("day trad")) return "pdt";
  if (has("wash trade")) return "wash_trade";
  if (has("not fractionable") || has("fractional")) return "not_fractionable";
  if (has("halt")) return "halted";
  if (has("not tradable") || has("not active")) return "not_tradable";
  if (has("qty must be")) return "bad_quantity";
  if (has("market hours") || has("market is closed")) return "market_closed";
  return {};
}

broker::BrokerOrder ToBrokerOrder(const OrderInfo& o) {
  broker::BrokerOrder b;
  b.id = o.id;
  b.client_order_id = o.client_order_id;
  b.symbol = o.symbol;
  b.side = o.side == "sell" ? Side::kSell : Side::kBuy;
  b.qty = o.qty;
  b.filled_qty = o.filled_qty;
  b.filled_avg_price = o.filled_avg_price;
  b.phase = PhaseOf(o.status, o.filled_qty);
  b.status = o.status;
  if (o.status == "replaced") b.reason = "replaced by another order";
  if (o.status == "done_for_day") b.reason = "done_for_day";
  b.updated_at = o.updated_at;
  return b;
}

broker::OrderUpdate UpdateOf(const TradeMessage& m) {
  broker::OrderUpdate u;
  u.event = m.event;
  u.order = ToBrokerOrder(m.order);
  u.at = m.timestamp;
  const std::string_view e = m.event;
  if (e == "fill" || e == "partial_fill") {
    u.execution = true;
    u.execution_id = m.execution_id;
    u.qty = m.qty;
    u.price = m.price;
    u.phase = e == "fill" ? OrderPhase::kFilled : OrderPhase::kPartiallyFilled;
  } else if (e == "canceled" || e == "done_for_day" || e == "replaced") {
    u.phase = OrderPhase::kCanceled;
    u.order.reason = e == "replaced" ? "replaced by another order" : std::string(e);
  } else if (e == "expired") {
    u.phase = OrderPhase::kExpired;
  } else if (e == "rejected") {
    u.phase = OrderPhase::kRejected;
    u.order.reason = "broker_rejected";
  } else if (e == "order_cancel_rejected" || e == "order_replace_rejected") {
    // The order lives on in whatever state it had.
    u.phase = PhaseOf(m.order.status, m.order.filled_qty);
    if (broker::IsFinal(u.phase) && m.order.status != "filled") u.phase = OrderPhase::kWorking;
    u.order.reason = std::string(e);
  } else {
    u.phase =
        PhaseOf(!m.order.status.empty() ? std::string_view(m.order.status) : e, m.order.filled_qty);
  }
  u.order.phase = u.phase;
  return u;
}

AlpacaBroker::AlpacaBroker(boost::asio::io_context& io, const Clock& clock, Endpoints endpoints,
                           Credentials credentials, StreamOptions stream_options,
                           Rest::EventFn on_event)
    : io_(io),
      endpoints_(std::move(endpoints)),
      credentials_(std::move(credentials)),
      stream_options_(stream_options),
      on_event_(std::move(on_event)) {
  rest_ = std::make_unique<Rest>(clock, endpoints_, credentials_,
                                 [this](std::string_view kind, const std::string& detail) {
                                   if (listener_) {
                                     listener_->OnBrokerEvent(kind, detail);
                                   } else if (on_event_) {
                                     on_event_(kind, detail);
                                   }
                                 });
}

AlpacaBroker::~AlpacaBroker() {
  // The stream's handlers run on its thread: stop that first, then the stream can go.
  if (stream_thread_) stream_thread_->Join();
  trades_.reset();
}

template <class F>
auto AlpacaBroker::Call(F&& f) {
  try {
    return f();
  } catch (const RestError& e) {
    throw broker::BrokerError(e.status(), fmt::format("Alpaca {}", e.what()));
  } catch (const net::TransportError& e) {
    throw broker::BrokerError(
        0, fmt::format("cannot reach Alpaca at {}: {}", endpoints_.trading_url, e.what()));
  }
}

std::string AlpacaBroker::Endpoint() const {
  return endpoints_.trading_url;
}

broker::Account AlpacaBroker::GetAccount() {
  const Account a = Call([&] { return rest_->GetAccount(); });
  broker::Account out;
  out.status = a.status;
  out.currency = a.currency;
  out.cash = a.cash;
  out.equity = a.equity;
  out.buying_power = a.buying_power;
  out.can_trade =
      !a.trading_blocked && !a.account_blocked && (a.status.empty() || a.status == "ACTIVE");
  if (!out.can_trade) {
    out.blocked_reason = fmt::format("status {}{}{}", a.status.empty() ? "?" : a.status,
                                     a.trading_blocked ? ", trading blocked" : "",
                                     a.account_blocked ? ", account blocked" : "");
  }
  return out;
}

std::vector<broker::Position> AlpacaBroker::GetPositions() {
  const auto ps = Call([&] { return rest_->GetPositions(); });
  std::vector<broker::Position> out;
  out.reserve(ps.size());
  for (const auto& p : ps)
    out.push_back({p.symbol, p.qty, p.avg_entry_price, p.market_value});
  return out;
}

std::vector<broker::BrokerOrder> AlpacaBroker::GetOpenOrders() {
  const auto os = Call([&] { return rest_->ListOrders("open"); });
  std::vector<broker::BrokerOrder> out;
  out.reserve(os.size());
  for (const auto& o : os)
    out.push_back(ToBrokerOrder(o));
  return out;
}

std::optional<broker::BrokerOrder> AlpacaBroker::FindOrder(std::string_view client_order_id) {
  const auto o = Call([&] { return rest_->GetOrderByClientId(client_order_id); });
  if (!o) return std::nullopt;
  return ToBrokerOrder(*o);
}

std::optional<broker::Asset> AlpacaBroker::GetAsset(std::string_view symbol) {
  const auto a = Call([&] { return rest_->GetAsset(symbol); });
  if (!a) return std::nullopt;
  return broker::Asset{a->symbol, a->tradable && (a->status.empty() || a->status == "active"),
                       a->fractionable};
}

broker::PlaceResult AlpacaBroker::Place(const broker::OrderRequest& r) {
  OrderRequest req{r.symbol,        std::string(ToString(r.side)),
                   r.qty,           r.client_order_id,
                   r.time_in_force, r.type == broker::OrderType::kLimit ? r.limit_price : 0.0};
  const PostOutcome p = rest_->PostOrder(req);  // never throws: an unknown outcome is a kind
  broker::PlaceResult out;
  out.status = p.status;
  out.code = p.error.code;
  out.message = p.error.message;
  switch (p.kind) {
    case PostOutcome::Kind::kAccepted:
      out.kind = broker::PlaceResult::Kind::kAccepted;
      out.order = ToBrokerOrder(p.order);
      break;
    case PostOutcome::Kind::kDuplicate:
      out.kind = broker::PlaceResult::Kind::kDuplicate;
      break;
    case PostOutcome::Kind::kRejected:
      out.kind = broker::PlaceResult::Kind::kRejected;
      out.insufficient_buying_power =
          p.status == 403 && RejectionLabel(p.error.message) == "insufficient_buying_power";
      break;
    case PostOutcome::Kind::kUnknown:
      out.kind = broker::PlaceResult::Kind::kUnknown;
      break;
  }
  return out;
}

bool AlpacaBroker::Cancel(const broker::BrokerOrder& order) {
  return Call([&] { return rest_->CancelOrder(order.id); });
}

void AlpacaBroker::StartUpdates(broker::BrokerListener& listener) {
  listener_ = &listener;
  if (!stream_thread_) stream_thread_ = std::make_unique<IoThread>();
  // Read on the stream's thread; handled on the session's io_context (the listener's).
  auto to_session = [this](auto fn) {
    boost::asio::post(io_, [this, fn = std::move(fn)] {
      if (listener_) fn(*listener_);
    });
  };
  stream_thread_->Run([&] {
    if (trades_) {  // started before: connect again (its handlers stay on its io_context)
      trades_->Start();
      return;
    }
    trades_ = std::make_unique<TradeStream>(
        stream_thread_->Io(), endpoints_, credentials_,
        TradeStream::Handlers{
            [to_session](bool reconnected) {
              to_session([reconnected](auto& l) { l.OnUpdatesReady(reconnected); });
            },
            [to_session](const TradeMessage& m) {
              to_session([u = UpdateOf(m)](auto& l) { l.OnOrderUpdate(u); });
            },
            [to_session] { to_session([](auto& l) { l.OnUpdatesDown(); }); },
            [to_session](std::string_view kind, const std::string& detail) {
              to_session([k = std::string(kind), detail](auto& l) { l.OnBrokerEvent(k, detail); });
            },
            [to_session](const std::string& why) {
              to_session([why](auto& l) { l.OnBrokerFatal(why); });
            }},
        stream_options_);
    trades_->Start();
  });
}

void AlpacaBroker::StopUpdates() {
  if (stream_thread_ && trades_) stream_thread_->Run([&] { trades_->Stop(); });
}

broker::Broker::Stats AlpacaBroker::GetStats() const noexcept {
  Stats s;
  s.requests = rest_->Requests();
  if (trades_) {
    s.update_reconnects = trades_->Reconnects();
    s.outages = s.update_reconnects;  // each reconnect follows a drop
    s.update_messages = trades_->Messages();
    s.update_malformed = trades_->Malformed();
  }
  return s;
}

bool AlpacaBroker::UpdatesReady() const noexcept {
  return trades_ && trades_->Ready();
}

std::vector<broker::AccountAction> AlpacaBroker::GetAccountActions(
    const std::vector<std::string>& symbols, Days from, Days to) {
  std::vector<broker::AccountAction> out;
  const auto actions = Call([&] { return rest_->GetCorporateActions(symbols, from, to); });
  for (const auto& a : actions) {
    if (a.kind != CorporateActionInfo::Kind::kSplit || a.value == 1.0) continue;
    broker::AccountAction s;
    s.kind = broker::AccountAction::Kind::kSplit;
    s.id = fmt::format("{}:{}:{}", a.type, a.symbol, FormatDate(a.ex_date));
    s.symbol = a.symbol;
    s.date = a.ex_date;
    s.ratio = a.value;
    out.push_back(std::move(s));
  }
  // Every dividend credited is the account's cash, held by the strategy or not.
  for (const auto& d : Call([&] { return rest_->GetDividendActivities(from, to); })) {
    broker::AccountAction v;
    v.kind = broker::AccountAction::Kind::kDividend;
    v.id = d.id;
    v.symbol = d.symbol;
    v.date = d.date;
    v.amount = d.net_amount;
    out.push_back(std::move(v));
  }
  return out;
}

broker::MarketClock AlpacaBroker::GetClock() {
  const MarketClock c = Call([&] { return rest_->GetClock(); });
  return broker::MarketClock{c.timestamp, c.is_open, c.next_open, c.next_close};
}

std::vector<broker::DailyBar> AlpacaBroker::GetDailyBars(const std::vector<std::string>& symbols,
                                                         Days start, std::optional<Days> end) {
  const auto bars = Call([&] { return rest_->GetDailyBars(symbols, start, end); });
  std::vector<broker::DailyBar> out;
  out.reserve(bars.size());
  for (const auto& b : bars)
    out.push_back({b.symbol, b.t, b.open, b.high, b.low, b.close, b.volume});
  return out;
}

}  // namespace ballast::alpaca
