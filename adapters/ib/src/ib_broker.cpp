#include "ballast/adapters/ib/ib_broker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ballast::ib {

namespace {

constexpr double kEps = 1e-9;

Timestamp NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Number(const std::string& s) {
  double v = 0.0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() ? v : std::nan("");
}

std::int64_t OrderIdOf(const std::string& s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : -1;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

broker::BrokerOrder FromOpen(const TwsClient::Open& o) {
  broker::BrokerOrder b;
  b.id = std::to_string(o.order.order_id);
  b.client_order_id = o.order.order_ref;
  b.symbol = o.order.symbol;
  b.side = o.order.action == "SELL" ? Side::kSell : Side::kBuy;
  b.qty = o.order.quantity;
  b.status = o.status ? o.status->status : "Submitted";
  b.filled_qty = o.status ? o.status->filled : 0.0;
  b.filled_avg_price = o.status ? o.status->avg_fill_price : 0.0;
  b.phase = PhaseOf(b.status, b.filled_qty, b.qty);
  return b;
}

}  // namespace

bool IsPaperAccount(std::string_view account) noexcept {
  return account.rfind("DU", 0) == 0 || account.rfind("DF", 0) == 0;
}

IbBroker::IbBroker(boost::asio::io_context& io, IbOptions options,
                   std::function<void(std::string_view, const std::string&)> on_event)
    : io_(io), o_(std::move(options)), on_event_(std::move(on_event)) {}

IbBroker::~IbBroker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  std::shared_ptr<TwsClient> c;
  {
    std::lock_guard lock(mu_);
    c = std::move(client_);
  }
  if (c) c->Close();  // outside the lock: its reader thread may be waiting for it
}

broker::OrderRules IbBroker::Rules() const noexcept {
  // Whole shares unless the account trades fractions (then IB takes up to 4 decimals).
  return {o_.fractional ? 4 : 0, 0.0};
}

std::string IbBroker::Endpoint() const {
  return fmt::format("ib://{}:{}", o_.connect.host, o_.connect.port);
}

std::string IbBroker::AccountId() const {
  std::lock_guard lock(mu_);
  return account_;
}

std::shared_ptr<TwsClient> IbBroker::Open() {
  std::uint64_t gen = 0;
  {
    std::lock_guard lock(mu_);
    gen = ++generation_;
  }
  auto c = std::make_shared<TwsClient>(
      o_.connect, [this](int id, const Fields& f) { OnMessage(id, f); },
      [this, gen](const std::string& why) { OnDown(gen, why); });
  c->Connect();
  const auto accounts = c->Accounts();
  std::string pick = o_.account;
  std::string all;
  for (const auto& a : accounts)
    all += (all.empty() ? "" : ", ") + a;
  if (pick.empty()) {
    if (accounts.size() != 1) {
      throw TwsError(0, fmt::format("the IB login at {}:{} manages {} accounts ({}): name the one "
                                    "to trade in broker.ib.account (or IB_ACCOUNT)",
                                    o_.connect.host, o_.connect.port, accounts.size(), all));
    }
    pick = accounts.front();
  } else if (std::find(accounts.begin(), accounts.end(), pick) == accounts.end()) {
    throw TwsError(0, fmt::format("broker.ib.account {} is not an account of the IB login at {}:{} "
                                  "(it manages {})",
                                  pick, o_.connect.host, o_.connect.port, all));
  }
  // Ids this client used that IB still shows (today's executions, open orders): above them, even
  // when the journal lost the last one (a crash between sending and journaling).
  std::int64_t highest = 0;
  ExecutionFilter filter;
  filter.client_id = o_.connect.client_id;
  filter.account = pick;
  for (const auto& e : c->Executions(filter)) {
    if (e.client_id == o_.connect.client_id) highest = std::max(highest, e.order_id);
  }
  for (const auto& o : c->OpenOrders()) {
    if (o.order.client_id == o_.connect.client_id) highest = std::max(highest, o.order.order_id);
  }
  std::lock_guard lock(mu_);
  account_ = pick;
  server_version_ = c->ServerVersion();
  next_order_id_ = std::max({next_order_id_, c->NextValidId(), highest + 1});
  current_generation_ = gen;
  return c;
}

void IbBroker::Connect() {
  {
    std::lock_guard lock(mu_);
    if (client_) return;
  }
  auto c = Open();
  std::lock_guard lock(mu_);
  client_ = std::move(c);
  down_.clear();
  reconnect_ = !client_->Connected();  // dropped while it was being set up
  if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
}

std::shared_ptr<TwsClient> IbBroker::Client() {
  Connect();
  std::unique_lock lock(mu_);
  // A connection being re-made: wait for it (as long as a connect may take), so a blip costs a
  // request its latency, not the cycle.
  (void)cv_.wait_for(lock, o_.connect.timeout, [&] {
    return stopping_ || (client_ && client_->Connected() && !reconnect_) ||
           (!reconnect_ && !(client_ && client_->Connected()));
  });
  if (!client_ || !client_->Connected()) {
    throw TwsError(
        0, fmt::format("not connected to IB Gateway at {}:{} ({}); reconnecting", o_.connect.host,
                       o_.connect.port, down_.empty() ? "connection ended" : down_));
  }
  return client_;
}

void IbBroker::Notify(std::string kind, std::string detail) {
  boost::asio::post(io_, [this, kind = std::move(kind), detail = std::move(detail)] {
    if (listener_) {
      listener_->OnBrokerEvent(kind, detail);
    } else if (on_event_) {
      on_event_(kind, detail);
    }
  });
}

void IbBroker::Deliver(OrderTracker::Updates updates) {
  for (auto& u : updates) {
    boost::asio::post(io_, [this, u = std::move(u)] {
      if (listener_) listener_->OnOrderUpdate(u);
    });
  }
}

void IbBroker::OnMessage(int id, const Fields& f) {
  ++messages_;
  const int me = o_.connect.client_id;
  try {
    std::unique_lock lock(mu_);
    auto ours = [&](std::int64_t client_id, const std::string& account) {
      return client_id == me && (account.empty() || account_.empty() || account == account_);
    };
    switch (id) {
      case in::kOrderStatus: {
        const OrderStatus s = ParseOrderStatus(f);
        if (s.client_id != me) return;
        Deliver(tracker_.OnStatus(s));
        break;
      }
      case in::kOpenOrder: {
        const OpenOrder o = ParseOpenOrder(f);
        if (!ours(o.client_id, o.account)) return;
        Deliver(tracker_.OnOpenOrder(o));
        break;
      }
      case in::kExecDetails: {
        const Execution e = ParseExecDetails(f, server_version_);
        if (e.req_id != -1 || !ours(e.client_id, e.account)) return;
        Deliver(tracker_.OnExecution(e, NowNs()));
        break;
      }
      case in::kCommissionReport: {
        const CommissionReport c = ParseCommissionReport(f);
        commissions_[c.exec_id] = c.commission.value_or(0.0);
        Deliver(tracker_.OnCommission(c));
        break;
      }
      case in::kNextValidId:
        next_order_id_ = std::max(next_order_id_, ParseNextValidId(f).order_id);
        break;
      case in::kError: {
        const ErrorMessage e = ParseError(f);
        const ErrorClass k = Classify(e.code);
        const std::string text =
            fmt::format("IB {} {}: {}", e.req_id >= 0 ? "order" : "notice", e.code, e.text);
        if (e.req_id >= 0) {
          if (e.code == 10147 || e.code == 10148 || e.code == 10149 || e.code == 161) {
            Notify("cancel_refused", fmt::format("order {}: {}", e.req_id, text));
          } else if (k == ErrorClass::kWarning) {
            Notify("order_warning", fmt::format("order {}: {}", e.req_id, text));
          }
          Deliver(tracker_.OnError(e));
        } else if (k == ErrorClass::kLinkLost) {
          if (!link_lost_) ++outages_;
          link_lost_ = true;
          down_ = "IB Gateway lost its connection to IB (1100); orders are held";
          boost::asio::post(io_, [this] {
            if (listener_) listener_->OnUpdatesDown();
          });
          Notify("link_lost", text);
        } else if (k == ErrorClass::kLinkRestored) {
          const bool was = link_lost_;
          link_lost_ = false;
          down_.clear();
          if (was) {
            // 1101: data lost (resubscribe); 1102: kept. Either way the session reconciles.
            boost::asio::post(io_, [this] {
              if (listener_) listener_->OnUpdatesReady(true);
            });
          }
          Notify("link_restored", text);
        } else if (k == ErrorClass::kDataDegraded || k == ErrorClass::kFatal) {
          Notify(k == ErrorClass::kFatal ? "gateway_error" : "data_degraded", text);
        }
        break;
      }
      default:
        return;
    }
    cv_.notify_all();
  } catch (const WireError& e) {
    ++malformed_;
    Notify("malformed", fmt::format("IB message {}: {}", id, e.what));
  }
}

void IbBroker::OnDown(std::uint64_t gen, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || gen != current_generation_) return;
    down_ = fmt::format("connection to IB Gateway lost: {}", why);
    ++outages_;
    reconnect_ = true;
    cv_.notify_all();
  }
  boost::asio::post(io_, [this] {
    if (listener_) listener_->OnUpdatesDown();
  });
  Notify("disconnected", why);
}

void IbBroker::Work() {
  std::mt19937 rng(std::random_device{}());
  auto backoff = o_.reconnect_min;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (stopping_) break;
    const auto waited = std::chrono::duration_cast<std::chrono::nanoseconds>(o_.commission_wait);
    auto late = tracker_.Flush(NowNs() - waited.count());
    if (!late.empty()) {
      Notify("commission_missing",
             fmt::format("{} execution(s) booked without a commission report after {} ms",
                         late.size(), o_.commission_wait.count()));
      Deliver(std::move(late));
    }
    if (!reconnect_) continue;
    // Capped exponential backoff with jitter (half to all of it), cut short by the destructor.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const auto wait = std::chrono::milliseconds(
        static_cast<long long>(static_cast<double>(backoff.count()) * jitter(rng)));
    if (cv_.wait_for(lock, wait, [&] { return stopping_; })) break;
    lock.unlock();
    std::shared_ptr<TwsClient> fresh, old;
    std::string failed;
    try {
      fresh = Open();
    } catch (const std::exception& e) {
      failed = e.what();
    }
    lock.lock();
    if (stopping_) break;
    if (!fresh) {
      cv_.notify_all();
      Notify("reconnect_failed", failed);
      backoff = std::min(backoff * 2, o_.reconnect_max);
      continue;
    }
    old = std::exchange(client_, fresh);
    if (old) retired_requests_ += old->Requests();
    // A drop while it was being set up went unheard (it was not the current connection yet).
    reconnect_ = !fresh->Connected();
    link_lost_ = false;
    down_.clear();
    ++reconnects_;
    backoff = o_.reconnect_min;
    cv_.notify_all();
    lock.unlock();
    if (old) old->Close();
    boost::asio::post(io_, [this] {
      if (listener_) listener_->OnUpdatesReady(true);
    });
    Notify("reconnected", fmt::format("IB Gateway at {}:{}", o_.connect.host, o_.connect.port));
    lock.lock();
  }
}

broker::Account IbBroker::GetAccount() {
  auto c = Client();
  const auto values = c->AccountSummary("NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds");
  const std::string account = AccountId();
  broker::Account a;
  a.status = "ACTIVE";
  bool have_equity = false, have_cash = false;
  for (const auto& v : values) {
    if (v.account != account) continue;
    const double x = Number(v.value);
    if (v.tag == "NetLiquidation") {
      a.equity = x;
      have_equity = std::isfinite(x);
    } else if (v.tag == "TotalCashValue") {
      a.cash = x;
      a.currency = v.currency;
      have_cash = std::isfinite(x);
    } else if (v.tag == "BuyingPower") {
      a.buying_power = x;
    }
  }
  if (!have_equity || !have_cash) {
    throw TwsError(0, fmt::format("IB's account summary for {} has no {}: the account is unknown",
                                  account, !have_equity ? "NetLiquidation" : "TotalCashValue"));
  }
  return a;
}

std::vector<broker::Position> IbBroker::GetPositions() {
  auto c = Client();
  const std::string account = AccountId();
  std::vector<broker::Position> out;
  for (const auto& p : c->Positions()) {
    // IB also lists positions closed today, at zero.
    if (p.account != account || p.sec_type != "STK" || std::abs(p.position) < kEps) continue;
    // reqPositions gives the average cost, not the market value: cost stands in for it.
    out.push_back({p.symbol, p.position, p.avg_cost, p.position * p.avg_cost});
  }
  return out;
}

std::vector<broker::BrokerOrder> IbBroker::GetOpenOrders() {
  auto c = Client();
  const std::string account = AccountId();
  std::vector<broker::BrokerOrder> out;
  for (const auto& o : c->OpenOrders()) {
    if (!o.order.account.empty() && o.order.account != account) continue;
    out.push_back(FromOpen(o));
  }
  return out;
}

std::optional<broker::BrokerOrder> IbBroker::LookUp(TwsClient& c,
                                                    std::string_view client_order_id) {
  // Open orders first, then today's executions (reqAllOpenOrders before reqExecutions, so a
  // fill between the two is not missed), by orderRef.
  std::optional<broker::BrokerOrder> found;
  for (const auto& o : c.OpenOrders()) {
    if (o.order.order_ref == client_order_id) found = FromOpen(o);
  }
  ExecutionFilter filter;
  filter.account = AccountId();
  double filled = 0.0, notional = 0.0, cum = 0.0;
  std::int64_t order_id = -1;
  std::string symbol;
  Side side = Side::kBuy;
  std::set<std::string> seen, counted;
  const auto executions = c.Executions(filter);
  for (const auto& e : executions) {
    if (e.order_ref != client_order_id || !seen.insert(e.exec_id).second) continue;
    if (e.cum_qty > 0.0 && e.cum_qty <= cum + kEps) continue;  // a correction of shares booked
    counted.insert(e.exec_id);
    cum = std::max(cum, e.cum_qty);
    filled += e.shares;
    notional += e.shares * e.price;
    order_id = e.order_id;
    symbol = e.symbol;
    side = e.side == "SLD" ? Side::kSell : Side::kBuy;
  }
  // Their commission reports follow the reply: wait for them (a fill is booked with its fee).
  double commission = 0.0;
  if (!counted.empty()) {
    std::unique_lock lock(mu_);
    (void)cv_.wait_for(lock, o_.commission_wait, [&] {
      return std::all_of(counted.begin(), counted.end(),
                         [&](const std::string& id) { return commissions_.count(id) != 0; });
    });
    for (const auto& id : counted) {
      if (const auto it = commissions_.find(id); it != commissions_.end()) commission += it->second;
    }
  }
  if (found) {
    found->commission = commission;
    if (filled > found->filled_qty + kEps) {
      found->filled_qty = filled;
      found->filled_avg_price = notional / filled;
      found->phase = PhaseOf(found->status, filled, found->qty);
    }
    return found;
  }
  std::optional<broker::BrokerOrder> mine;
  {
    std::lock_guard lock(mu_);
    mine = tracker_.FindByRef(client_order_id);
  }
  if (order_id >= 0) {
    // Not open any more, with fills: done (all of it, or the rest was canceled).
    broker::BrokerOrder b;
    b.id = std::to_string(order_id);
    b.client_order_id = std::string(client_order_id);
    b.symbol = symbol;
    b.side = side;
    b.qty = mine && mine->qty > 0.0 ? mine->qty : filled;
    b.filled_qty = filled;
    b.filled_avg_price = notional / filled;
    b.commission = commission;
    const bool all = filled >= b.qty - kEps;
    b.phase = all ? broker::OrderPhase::kFilled : broker::OrderPhase::kCanceled;
    b.status = all ? "Filled" : "Cancelled";
    return b;
  }
  // Ended without fills while this process watched (rejected, canceled).
  if (mine && broker::IsFinal(mine->phase)) return mine;
  return std::nullopt;
}

std::optional<broker::BrokerOrder> IbBroker::FindOrder(std::string_view client_order_id) {
  auto c = Client();
  return LookUp(*c, client_order_id);
}

std::int64_t IbBroker::Contract(const std::string& symbol) {
  {
    std::lock_guard lock(mu_);
    if (const auto it = con_ids_.find(symbol); it != con_ids_.end()) return it->second;
  }
  const auto primary = o_.primary_exchanges.find(symbol);
  const ContractDetails d = Client()->ResolveStock(
      symbol, primary == o_.primary_exchanges.end() ? std::string() : primary->second);
  std::lock_guard lock(mu_);
  con_ids_[symbol] = d.con_id;
  return d.con_id;
}

std::optional<broker::Asset> IbBroker::GetAsset(std::string_view symbol) {
  try {
    (void)Contract(std::string(symbol));
  } catch (const TwsError& e) {
    if (e.code() != 200) throw;
    if (std::string_view(e.what()).find(" is ambiguous at IB") != std::string_view::npos) {
      throw;  // several contracts: the text names their exchanges
    }
    return std::nullopt;
  }
  return broker::Asset{std::string(symbol), true, o_.fractional};
}

broker::PlaceResult IbBroker::Place(const broker::OrderRequest& r) {
  broker::PlaceResult out;
  std::shared_ptr<TwsClient> c;
  ib::Contract k;
  try {
    c = Client();
    k.con_id = Contract(r.symbol);
  } catch (const TwsError& e) {
    out.kind = e.code() == 200 ? broker::PlaceResult::Kind::kRejected
                               : broker::PlaceResult::Kind::kUnknown;
    out.code = e.code();
    out.message = e.what();
    return out;
  }
  k.symbol = r.symbol;
  OrderTicket t;
  t.action = r.side == Side::kSell ? "SELL" : "BUY";
  t.quantity = r.qty;
  if (r.type == broker::OrderType::kLimit) {
    t.order_type = "LMT";
    t.limit_price = r.limit_price;
  }
  t.tif = "DAY";
  t.account = AccountId();
  t.order_ref = r.client_order_id;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::int64_t id = 0;
    {
      std::lock_guard lock(mu_);
      id = std::max(next_order_id_, c->NextValidId());
      next_order_id_ = id + 1;
      tracker_.Placed(id, r);
    }
    t.order_id = id;
    try {
      c->Send(PlaceOrder(k, t, c->ServerVersion()));
    } catch (const TwsError& e) {
      out.kind = broker::PlaceResult::Kind::kUnknown;
      out.message = e.what();
      return out;
    }
    std::unique_lock lock(mu_);
    const bool answered = cv_.wait_for(lock, o_.connect.timeout, [&] {
      return tracker_.Answered(id) || stopping_ || !c->Connected();
    });
    if (!answered || !tracker_.Answered(id)) {
      out.kind = broker::PlaceResult::Kind::kUnknown;
      out.message =
          fmt::format("no reply to placeOrder {} within {} ms{}", id, o_.connect.timeout.count(),
                      c->Connected() ? "" : " (the connection ended)");
      return out;
    }
    if (const auto refusal = tracker_.Refusal(id)) {
      if (refusal->code == 103) continue;  // the id was taken: nothing placed; the next one
      out.kind = broker::PlaceResult::Kind::kRejected;
      out.code = refusal->code;
      out.message = fmt::format("IB error {}: {}", refusal->code, refusal->text);
      if (Lower(refusal->text).find("fraction") != std::string::npos) {
        out.message += o_.fractional ? "; this account may not trade fractions through the API: "
                                       "set broker.ib.fractional to false"
                                     : "";
      }
      return out;
    }
    out.kind = broker::PlaceResult::Kind::kAccepted;
    out.order = *tracker_.Find(id);
    return out;
  }
  out.kind = broker::PlaceResult::Kind::kUnknown;
  out.message = "IB refused four order ids as duplicates (error 103)";
  return out;
}

bool IbBroker::Cancel(const broker::BrokerOrder& order) {
  const std::int64_t id = OrderIdOf(order.id);
  if (id < 0) return false;
  auto c = Client();
  c->Send(CancelOrder(id, c->ServerVersion()));
  return true;
}

void IbBroker::Restore(const broker::BookedAccount& booked) {
  std::lock_guard lock(mu_);
  for (const auto& id : booked.order_ids) {
    const std::int64_t v = OrderIdOf(id);
    if (v >= 0) next_order_id_ = std::max(next_order_id_, v + 1);
  }
  for (const auto& o : booked.open_orders) {
    const std::int64_t v = OrderIdOf(o.id);
    if (v >= 0) next_order_id_ = std::max(next_order_id_, v + 1);
  }
}

void IbBroker::StartUpdates(broker::BrokerListener& listener) {
  listener_ = &listener;
  if (UpdatesReady()) {
    boost::asio::post(io_, [this] {
      if (listener_) listener_->OnUpdatesReady(false);
    });
  }
}

void IbBroker::StopUpdates() {
  listener_ = nullptr;
}

bool IbBroker::UpdatesReady() const noexcept {
  std::lock_guard lock(mu_);
  return client_ && client_->Connected() && !link_lost_;
}

std::string IbBroker::DownReason() const {
  std::lock_guard lock(mu_);
  if (!client_) return "not connected to IB Gateway yet";
  return down_;
}

broker::Broker::Stats IbBroker::GetStats() const noexcept {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.requests = retired_requests_ + (client_ ? client_->Requests() : 0);
  }
  s.update_reconnects = reconnects_;
  s.update_messages = messages_;
  s.update_malformed = malformed_;
  s.outages = outages_;
  return s;
}

broker::MarketClock IbBroker::GetClock() {
  const Timestamp now = Client()->CurrentTime() * 1'000'000'000LL;
  if (o_.market_hours) return o_.market_hours(now);
  broker::MarketClock c;
  c.now = now;
  return c;
}

std::vector<broker::DailyBar> IbBroker::GetDailyBars(const std::vector<std::string>& symbols,
                                                     Days start, std::optional<Days> end) {
  auto c = Client();
  // Today as IB's clock has it, in New York (UTC-5 is close enough for a duration).
  const std::int64_t now_s = c->CurrentTime();
  const Days today{std::chrono::days{(now_s - 5 * 3600) / 86400}};
  const std::string duration = HistoryDuration(start, today);
  Pacing pacing = o_.pacing;
  pacing.on_wait = [this](const std::string& symbol, double wait) {
    Notify("rate_limited",
           fmt::format("IB historical data pacing for {}: waiting {} s", symbol, wait));
  };
  std::vector<broker::DailyBar> out;
  for (const auto& symbol : symbols) {
    ib::Contract k;
    k.con_id = Contract(symbol);
    k.symbol = symbol;
    const HistoricalData h = DailyBarsPaced(*c, k, duration, "ADJUSTED_LAST", pacing);
    for (const auto& b : h.bars) {
      const auto day = BarDay(b.date);
      if (!day) {
        ++malformed_;
        Notify("malformed", fmt::format("IB daily bar of {} dated '{}'", symbol, b.date));
        continue;
      }
      if (*day < start || (end && *day > *end)) continue;
      // IB's daily bars carry a date only: noon UTC is that date in New York.
      const Timestamp t = DayToTimestamp(*day) + 12LL * 3'600'000'000'000LL;
      out.push_back({symbol, t, b.open, b.high, b.low, b.close, b.volume});
    }
  }
  return out;
}

}  // namespace ballast::ib
