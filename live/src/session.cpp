// `ballast live`: one decision cycle (--once) or a service that checks the strategy at its time on
// every NYSE session. The strategy, planner, risk gate, order manager and ledger are the
// backtest's; this file swaps in the wall clock, Alpaca's bars and Alpaca's venue (or SimVenue).
#include "ballast/live/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ballast/adapters/alpaca/rest.hpp"
#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/adapters/sim/sim_venue.hpp"
#include "ballast/backtests/backtest_config.hpp"
#include "ballast/backtests/outputs.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/kernel.hpp"
#include "ballast/live/journal.hpp"
#include "ballast/live/ops_server.hpp"
#include "ballast/live/time_ny.hpp"

namespace ballast::live {
namespace fs = std::filesystem;
namespace {

struct RiskLimits {
  double max_order_notional = 0.0;  ///< currency; 0 = none
  double max_daily_turnover = 0.0;  ///< fraction of equity sent per session day; 0 = none
  double max_weight = 0.0;          ///< post-trade weight of one symbol; 0 = none
  std::string kill_switch_file;     ///< while this file exists no new orders are sent
  bool cancel_on_kill = true;       ///< and open orders are canceled
};

struct LiveConfig {
  alpaca::Endpoints endpoints;
  int check_minutes = 15 * 60 + 45;  ///< New York time; kept the same distance from early closes
  int history_days = 400;            ///< calendar days of daily bars loaded for the strategy
  double fill_timeout_s = 120.0;
  int metrics_port = 0;
  bool confirm_live = false;
  double stale_data_s = 120.0;
  /// Fraction of equity left in cash when buys are sized to the broker's cash (market orders
  /// fill at a price not known when they are sent).
  double cash_buffer = 0.002;
  /// How long a cycle waits for the trade stream before deferring its orders.
  double stream_connect_s = 60.0;
  /// Service mode: a deferred cycle is retried this often until the session's close.
  double retry_s = 60.0;
  RiskLimits risk;
};

// Whether the broker's order under our client order id is the order we mean to send.
bool SameOrder(const alpaca::OrderInfo& b, const JournalOrder& o) {
  return b.symbol == o.symbol && b.side == o.side &&
         (b.qty <= 0.0 || std::abs(b.qty - o.qty) <= 1e-6 * std::max(1.0, o.qty));
}

bool IsAlpacaHost(std::string_view url, std::string_view host) {
  return url.find(std::string("://").append(host)) != std::string_view::npos;
}

LiveConfig ParseLiveConfig(const ConfigDocument& doc, const LiveOptions& o) {
  LiveConfig c;
  const ConfigNode root = doc.Root();
  auto& e = c.endpoints;
  if (o.live) {
    e.trading_url = "https://api.alpaca.markets";
    e.trading_stream_url = "wss://api.alpaca.markets/stream";
  }
  if (auto b = root.Find("broker")) {
    b->ExpectKeys({"alpaca"});
    if (auto a = b->Find("alpaca")) {
      a->ExpectKeys(
          {"trading_url", "data_url", "trading_stream_url", "data_stream_url", "feed", "ca_file"});
      e.trading_url = a->StringOr("trading_url", e.trading_url);
      e.data_url = a->StringOr("data_url", e.data_url);
      e.trading_stream_url = a->StringOr("trading_stream_url", e.trading_stream_url);
      e.data_stream_url = a->StringOr("data_stream_url", e.data_stream_url);
      e.feed = a->EnumOr("feed", {"iex", "sip", "test", "delayed_sip"}, e.feed);
      if (auto ca = a->Find("ca_file")) {
        e.tls.ca_file = (fs::path(doc.Origin()).parent_path() / ca->String()).string();
      }
    }
  }
  if (auto l = root.Find("live")) {
    l->ExpectKeys({"check_time", "history_days", "fill_timeout_seconds", "metrics_port",
                   "confirm_live", "stale_data_seconds", "cash_buffer", "stream_connect_seconds",
                   "retry_seconds", "risk"});
    c.cash_buffer = l->NumberOr("cash_buffer", c.cash_buffer);
    if (!(c.cash_buffer >= 0.0 && c.cash_buffer < 0.5))
      l->At("cash_buffer").Fail("a fraction of equity in [0, 0.5)");
    c.stream_connect_s = l->NumberOr("stream_connect_seconds", c.stream_connect_s);
    if (!(c.stream_connect_s >= 1.0 && c.stream_connect_s <= 3600.0))
      l->At("stream_connect_seconds").Fail("seconds from 1 to 3600");
    c.retry_s = l->NumberOr("retry_seconds", c.retry_s);
    if (!(c.retry_s >= 1.0 && c.retry_s <= 3600.0))
      l->At("retry_seconds").Fail("seconds from 1 to 3600");
    if (auto t = l->Find("check_time")) {
      const std::string s = t->String();
      int h = -1, m = -1;
      if (s.size() == 5 && s[2] == ':') {
        h = std::stoi(s.substr(0, 2));
        m = std::stoi(s.substr(3, 2));
      }
      if (h < 9 || h > 16 || m < 0 || m > 59 || h * 60 + m < 9 * 60 + 30 || h * 60 + m > 16 * 60)
        t->Fail("a New York time between 09:30 and 16:00 as HH:MM, e.g. \"15:45\"");
      c.check_minutes = h * 60 + m;
    }
    if (auto v = l->Find("history_days")) {
      c.history_days = static_cast<int>(v->Integer());
      if (c.history_days < 5 || c.history_days > 3650) v->Fail("calendar days in [5, 3650]");
    }
    c.fill_timeout_s = l->NumberOr("fill_timeout_seconds", c.fill_timeout_s);
    if (!(c.fill_timeout_s >= 1.0 && c.fill_timeout_s <= 86400.0))
      l->At("fill_timeout_seconds").Fail("seconds from 1 to 86400");
    if (auto v = l->Find("metrics_port")) {
      c.metrics_port = static_cast<int>(v->Integer());
      if (c.metrics_port < 0 || c.metrics_port > 65535) v->Fail("a TCP port, or 0 for none");
    }
    c.confirm_live = l->BoolOr("confirm_live", false);
    c.stale_data_s = l->NumberOr("stale_data_seconds", c.stale_data_s);
    if (!(c.stale_data_s > 0.0 && c.stale_data_s <= 86400.0))
      l->At("stale_data_seconds").Fail("seconds > 0, at most 86400");
    if (auto r = l->Find("risk")) {
      r->ExpectKeys({"max_order_notional", "max_daily_turnover", "max_weight", "kill_switch_file",
                     "cancel_on_kill"});
      c.risk.max_order_notional = r->NumberOr("max_order_notional", 0.0);
      c.risk.max_daily_turnover = r->NumberOr("max_daily_turnover", 0.0);
      c.risk.max_weight = r->NumberOr("max_weight", 0.0);
      if (c.risk.max_order_notional < 0.0) r->At("max_order_notional").Fail("an amount >= 0");
      if (c.risk.max_daily_turnover < 0.0) r->At("max_daily_turnover").Fail("a fraction >= 0");
      if (c.risk.max_weight < 0.0 || c.risk.max_weight > 1.0)
        r->At("max_weight").Fail("a weight in [0, 1]");
      if (auto k = r->Find("kill_switch_file")) {
        c.risk.kill_switch_file = (fs::path(doc.Origin()).parent_path() / k->String()).string();
      }
      c.risk.cancel_on_kill = r->BoolOr("cancel_on_kill", true);
    }
  }
  // The environment wins over the config (as Alpaca's SDKs read it).
  auto env = [](const char* name, std::string& into) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') into = v;
  };
  env("APCA_API_BASE_URL", e.trading_url);
  env("APCA_API_DATA_URL", e.data_url);
  env("APCA_API_STREAM_URL", e.trading_stream_url);
  env("APCA_API_DATA_STREAM_URL", e.data_stream_url);
  // Refuse a mode/endpoint mismatch before any request: paper keys on the live host or the other
  // way round would fail at best and trade real money at worst.
  if (!o.live && IsAlpacaHost(e.trading_url, "api.alpaca.markets")) {
    throw Error(ErrorKind::kUsage,
                fmt::format("--paper, but the trading URL is Alpaca's live endpoint ({}); unset "
                            "APCA_API_BASE_URL or broker.alpaca.trading_url, or pass --live",
                            e.trading_url));
  }
  if (o.live && IsAlpacaHost(e.trading_url, "paper-api.alpaca.markets")) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("--live, but the trading URL is Alpaca's paper endpoint ({})", e.trading_url));
  }
  // Every endpoint is checked here, before anything is sent: a plain http URL to a host that is
  // not loopback would carry the keys in clear.
  const std::string data_stream = alpaca::DataStream::Url(e);
  const std::pair<const std::string*, const char*> urls[] = {
      {&e.trading_url, "broker.alpaca.trading_url (or APCA_API_BASE_URL)"},
      {&e.data_url, "broker.alpaca.data_url (or APCA_API_DATA_URL)"},
      {&e.trading_stream_url, "broker.alpaca.trading_stream_url (or APCA_API_STREAM_URL)"},
      {&data_stream, "broker.alpaca.data_stream_url (or APCA_API_DATA_STREAM_URL)"}};
  for (const auto& [url, key] : urls) {
    try {
      (void)net::ParseUrl(*url);
    } catch (const std::invalid_argument& ex) {
      throw Error(ErrorKind::kConfig, fmt::format("{}: {}: {}", doc.Origin(), key, ex.what()));
    }
  }
  return c;
}

/// Orders wait here until the session has previewed, checked and journaled them.
class QueueVenue final : public Venue {
 public:
  void SetListener(VenueListener* l) override { listener_ = l; }
  void Submit(const Order& order) override { queue_.push_back(order); }
  void Cancel(OrderId id, std::string_view reason) override {
    if (listener_) listener_->OnOrderCanceled(id, reason, 0);
  }
  void OnSliceOpen(std::size_t) override {}
  void OnSliceClose(std::size_t) override {}
  std::vector<Order> Take() { return std::exchange(queue_, {}); }
  [[nodiscard]] VenueListener* Listener() const noexcept { return listener_; }

 private:
  VenueListener* listener_ = nullptr;
  std::vector<Order> queue_;
};

struct Metrics {
  std::uint64_t orders_sent = 0, orders_rejected = 0, orders_denied = 0, fills = 0, cycles = 0,
                malformed = 0, rate_limited = 0;
  double equity = 0.0, drift = 0.0;
};

class Session {
 public:
  Session(const LiveOptions& o) : o_(o), clock_(io_) {}
  int Run();

 private:
  // Set-up.
  void Load();
  void ConnectBroker();
  void Open();
  void LoadPrices(Days today);
  void Reconcile();
  void Recover(Days today);
  void CarryDeferred(Days today);
  // One cycle.
  /// `blocking` (--once): waits for fills here. Otherwise (service) returns after sending and a
  /// timer finishes the cycle, so the io_context is never run from inside one of its handlers.
  int Cycle(bool force, bool blocking);
  int FinishCycle(std::int64_t cycle_id, bool timed_out);
  void SendOrders(std::int64_t cycle, std::vector<JournalOrder>& planned, std::size_t row,
                  bool blocking);
  /// The planned orders as the broker will take them (rounded, dust dropped, buys fit the cash).
  std::vector<Order> Sendable(std::vector<Order> queued);
  [[nodiscard]] double RoundQty(double qty) const;
  /// What buys may spend given `cash`: margin's borrowing, less live.cash_buffer of equity.
  [[nodiscard]] double BuyingPower(double cash) const;
  /// Buys wait for the sells that fund them (Alpaca counts no unfilled sell as buying power).
  std::vector<JournalOrder> pending_buys_;
  void SendPendingBuys();
  [[nodiscard]] bool SellsOpen() const;
  /// `resized`: this is the one resend after a buying-power refusal.
  void Send(JournalOrder& o, bool resized = false);
  /// Rejects `o` (journal, event, order manager) when the broker's order under its client order
  /// id is a different order; false when it is the same.
  bool RefuseForeign(JournalOrder& o, const alpaca::OrderInfo& broker_order);
  void OnTradeUpdate(const alpaca::TradeMessage& m);
  /// Books one execution. `cumulative`: the order's filled quantity after it, as the broker
  /// reports it (< 0 when unknown); only what goes beyond the journal's fills is booked.
  void ApplyFill(const std::string& coid, const std::string& symbol, Side side, double qty,
                 double price, Timestamp at, const std::string& exec_key, double cumulative);
  /// Price of the quantity an order filled beyond what the journal holds, from the broker's
  /// cumulative quantity and average price (not the average itself).
  double NewFillPrice(const std::string& coid, double cumulative, double cumulative_avg,
                      double fallback);
  bool WaitForOrders(double timeout_s, bool sells_only = false);
  void PollOpenOrders();
  void CancelOpen(std::string_view reason);
  bool KillSwitch() const;
  // Outputs.
  void Log(std::string_view kind, std::string fields,
           spdlog::level::level_enum level = spdlog::level::info);
  static std::string EventLine(Timestamp at, std::string_view kind, const std::string& fields);
  std::vector<std::tuple<Timestamp, std::string, std::string>> early_events_;
  void FlushKernelEvents();
  void TrackSignals(const std::vector<JournalOrder>& planned);
  void SettleSignals(Days today);
  /// One line of trades.csv (written with its header on first use).
  void AppendTrade(Timestamp at, std::string_view coid, std::string_view symbol,
                   std::string_view side, double qty, double price, std::string_view source);
  void WriteStatus(std::string_view cycle_state);
  double Drift() const;
  OpsReply Ops(std::string_view path);
  // Service mode.
  void ScheduleNext();
  /// One scheduled (or forced) cycle, errors logged; a deferred one is retried every
  /// live.retry_seconds until the session's close.
  void RunScheduledCycle(bool force, bool blocking);
  void WatchStop();

  [[nodiscard]] std::string Coid(std::int64_t cycle, Days day, const std::string& symbol) const {
    std::string date = FormatDate(day);
    date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
    return fmt::format("{}-{}-{}-{}", tag_, date, cycle, symbol).substr(0, 48);
  }
  [[nodiscard]] Timestamp Now() const { return clock_.Now(); }
  /// GET /v2/clock, and keep the session's time by it (the broker's day and hours rule).
  alpaca::MarketClock BrokerClock();
  [[nodiscard]] bool Sim() const { return o_.broker == BrokerKind::kSim; }

  const LiveOptions& o_;
  boost::asio::io_context io_;
  WallClock clock_;
  strategies::StrategyRegistry registry_;
  backtests::BacktestConfig cfg_;
  LiveConfig live_;
  std::string out_, tag_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<alpaca::Rest> rest_;
  std::unique_ptr<alpaca::TradeStream> trades_;
  std::unique_ptr<alpaca::DataStream> data_;
  std::unique_ptr<OpsServer> ops_;
  alpaca::Credentials creds_;
  std::vector<std::string> symbols_;  // tradable, then the benchmark if it is not one of them
  std::size_t tradable_ = 0;
  std::ptrdiff_t bench_col_ = -1;
  std::shared_ptr<BarPanel> panel_;
  std::map<std::string, alpaca::Bar> latest_;  // live bars from the data stream
  std::vector<double> broker_qty_, broker_cost_;
  double broker_cash_ = 0.0;
  double equity_ = 0.0;
  std::vector<double> marks_;
  std::vector<double> targets_;               // last target weights (NaN = none)
  std::map<std::string, JournalOrder> open_;  // by client order id, this process
  std::map<std::string, OrderId> engine_ids_;
  std::map<std::string, Timestamp> cancel_requested_;  // by client order id: when we last asked
  QueueVenue venue_;                                   // before orders_, which refers to it
  std::unique_ptr<OrderManager> orders_;
  std::unique_ptr<Ledger> ledger_;
  RunRecord record_;
  std::size_t flushed_events_ = 0;
  std::string fatal_;
  bool reconciled_ = false;
  bool poll_after_send_ = false;
  bool stopping_ = false;
  Metrics m_;
  std::ofstream events_file_;
  // After io_: timers must be destroyed before the io_context they belong to.
  std::optional<boost::asio::steady_timer> cycle_timer_, stop_timer_, finish_timer_;
};

void Session::Log(std::string_view kind, std::string fields, spdlog::level::level_enum level) {
  fields = Redact(fields);  // events, journal and log: a broker's echo of our keys stops here
  const Timestamp now = Now();
  if (events_file_.is_open()) {
    events_file_ << EventLine(now, kind, fields) << '\n' << std::flush;
  } else {
    early_events_.emplace_back(now, std::string(kind), fields);  // written once Open() runs
  }
  if (journal_) journal_->Event(now, kind, "{" + fields + "}");
  spdlog::log(level, "{}: {}", kind, fields);
}

std::string Session::EventLine(Timestamp at, std::string_view kind, const std::string& fields) {
  std::string line = R"({"time":")" + alpaca::FormatRfc3339(at) + R"(","type":)";
  AppendJsonString(line, kind);
  if (!fields.empty()) line += "," + fields;
  line += "}";
  return line;
}

void Session::AppendTrade(Timestamp at, std::string_view coid, std::string_view symbol,
                          std::string_view side, double qty, double price,
                          std::string_view source) {
  const std::string path = out_ + "/trades.csv";
  const bool fresh = !fs::exists(path);
  std::ofstream f(path, std::ios::app);
  if (fresh) f << "time,client_order_id,symbol,side,qty,price,source\n";
  f << fmt::format("{},{},{},{},{},{},{}\n", alpaca::FormatRfc3339(at), coid, symbol, side,
                   JsonNumber(qty), JsonNumber(price), source);
}

void Session::TrackSignals(const std::vector<JournalOrder>& planned) {
  // signal_swap decisions: their signals go to the run directory's tracker database, acted on
  // when this cycle planned an order for the symbol in the same direction (denied and dry-run
  // orders are not acted on).
  if (record_.signals.empty() && record_.recommendations.empty()) return;
  std::vector<bool> acted;
  for (const auto& s : record_.signals) {
    bool a = false;
    for (const auto& o : planned) {
      a = a || (o.symbol == cfg_.strategy.symbols[s.symbol] && o.side == s.action &&
                o.state != "denied" && o.state != "dry_run");
    }
    acted.push_back(a);
  }
  try {
    backtests::AppendSignalsDb(
        out_ + "/signals.sqlite", fmt::format("{}:{}", Sim() ? "sim" : "alpaca", cfg_.name),
        cfg_.strategy.symbols, record_.signals, record_.recommendations, &acted);
  } catch (const Error& e) {
    JsonFields f;
    f.Add("detail", e.what());
    Log("signals_not_tracked", f.Take(), spdlog::level::warn);
  }
  record_.signals.clear();
  record_.recommendations.clear();
}

void Session::SettleSignals(Days today) {
  // Outcomes of signals tracked in earlier cycles, from the journal's fills and the daily bars.
  const std::string path = out_ + "/signals.sqlite";
  if (!fs::exists(path)) return;
  std::vector<backtests::TrackedFill> fills;
  for (const auto& f : journal_->Fills())
    fills.push_back({f.symbol, f.side == "buy", f.qty, f.price, f.commission, NyDate(f.at)});
  auto col_of = [this](const std::string& symbol) { return panel_->IndexOf(symbol); };
  try {
    const std::size_t settled = backtests::SettleLiveOutcomes(
        path, today, fills,
        [&](const std::string& symbol) {
          const auto c = col_of(symbol);
          return c >= 0 && static_cast<std::size_t>(c) < tradable_
                     ? ledger_->Quantity(static_cast<SymbolIndex>(c))
                     : 0.0;
        },
        [&](const std::string& symbol) {
          std::vector<std::pair<Days, double>> out;
          const auto c = col_of(symbol);
          if (c < 0) return out;
          for (std::size_t r = 0; r < panel_->Rows(); ++r) {
            if (panel_->HasBar(r, static_cast<std::size_t>(c)))
              out.emplace_back(panel_->Day(r), panel_->Close(r, static_cast<std::size_t>(c)));
          }
          return out;
        });
    if (settled > 0) {
      JsonFields f;
      f.Add("signals", static_cast<std::uint64_t>(settled));
      Log("signal_outcomes_updated", f.Take(), spdlog::level::debug);
    }
  } catch (const Error& e) {
    JsonFields f;
    f.Add("detail", e.what());
    Log("signals_not_tracked", f.Take(), spdlog::level::warn);
  }
}

void Session::FlushKernelEvents() {
  for (; flushed_events_ < record_.events.size(); ++flushed_events_) {
    const auto& e = record_.events[flushed_events_];
    Log(e.type, e.fields_json, spdlog::level::debug);
  }
}

void Session::Load() {
  strategies::RegisterBuiltinStrategies(registry_);
  ConfigDocument doc = ConfigDocument::FromFile(o_.config_path);
  for (const auto& s : o_.sets)
    doc.ApplySet(s);
  cfg_ = backtests::ParseBacktestConfig(doc, registry_);
  live_ = ParseLiveConfig(doc, o_);
  if (o_.fill_timeout_s > 0.0) live_.fill_timeout_s = o_.fill_timeout_s;
  if (o_.metrics_port >= 0) live_.metrics_port = o_.metrics_port;
  if (o_.live && !(o_.confirm_live || live_.confirm_live)) {
    throw Error(ErrorKind::kUsage,
                "--live trades real money: add --i-understand-this-is-real-money or set "
                "live.confirm_live: true in the config");
  }
  if (!cfg_.cash_flows.empty()) {
    spdlog::warn("cash_flows are ignored live: deposit and withdraw at the broker");
  }
  // Everything that can be checked here is checked before the session directory and the journal
  // are created: a run refused for missing keys leaves nothing behind.
  creds_ = alpaca::LoadCredentials(o_.env_file);
  out_ = o_.out_dir.empty() ? "runs/live-" + backtests::Slug(cfg_.name) : o_.out_dir;
  // Client order ids: a hash of the portfolio's name, so they stay stable across config edits
  // and restarts and say nothing about the account.
  std::uint32_t h = 2166136261u;
  for (unsigned char ch : cfg_.name + (Sim() ? "/sim" : "/alpaca")) {
    h ^= ch;
    h *= 16777619u;
  }
  tag_ = fmt::format("bl{:08x}", h);
  symbols_ = cfg_.strategy.symbols;
  tradable_ = symbols_.size();
  if (!cfg_.benchmark.empty()) {
    const auto it = std::find(symbols_.begin(), symbols_.end(), cfg_.benchmark);
    if (it == symbols_.end()) {
      symbols_.push_back(cfg_.benchmark);
      bench_col_ = static_cast<std::ptrdiff_t>(tradable_);
    } else {
      bench_col_ = it - symbols_.begin();
    }
  }
  targets_.assign(tradable_, kNaN);
}

void Session::Open() {
  // The session directory and the journal exist only once the broker has accepted us.
  fs::create_directories(out_);
  journal_ = std::make_unique<Journal>(o_.journal_path.empty() ? out_ + "/journal.sqlite"
                                                               : o_.journal_path);
  // Client order ids carry a part drawn once per journal, so two sessions of the same portfolio
  // on one account (another --out, another machine) never share an id.
  auto scope = journal_->State("coid_scope");
  if (!scope) {
    std::random_device rd;
    scope = fmt::format("{:04x}", rd() & 0xffffu);
    journal_->SetState("coid_scope", *scope);
  }
  tag_ += *scope;
  events_file_.open(out_ + "/events.jsonl", std::ios::app);
  for (const auto& [at, kind, fields] : early_events_) {
    events_file_ << EventLine(at, kind, fields) << '\n';
    journal_->Event(at, kind, "{" + fields + "}");
  }
  events_file_ << std::flush;
  early_events_.clear();
  if (auto t = journal_->State("targets")) {
    std::size_t i = 0, pos = 0;
    while (i < tradable_ && pos <= t->size()) {
      const auto next = t->find(',', pos);
      const std::string cell = t->substr(pos, next - pos);
      targets_[i++] = cell.empty() || cell == "nan" ? kNaN : std::stod(cell);
      if (next == std::string::npos) break;
      pos = next + 1;
    }
  }
}

void Session::ConnectBroker() {
  rest_ = std::make_unique<alpaca::Rest>(live_.endpoints, creds_,
                                         [this](std::string_view kind, const std::string& detail) {
                                           if (kind == "rate_limited") ++m_.rate_limited;
                                           JsonFields f;
                                           f.Add("detail", detail);
                                           Log(kind, f.Take(), spdlog::level::warn);
                                         });
  alpaca::Account account;
  try {
    account = rest_->GetAccount();
  } catch (const alpaca::RestError& e) {
    if (e.status() == 401 || e.status() == 403) throw Error(ErrorKind::kBroker, e.what());
    throw Error(ErrorKind::kBroker, fmt::format("Alpaca account: {}", e.what()));
  } catch (const net::TransportError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("cannot reach Alpaca at {}: {}",
                                                live_.endpoints.trading_url, e.what()));
  }
  if (!Sim() && (account.trading_blocked || account.account_blocked ||
                 (!account.status.empty() && account.status != "ACTIVE"))) {
    throw Error(ErrorKind::kBroker,
                fmt::format("the Alpaca account cannot trade (status {}{})", account.status,
                            account.trading_blocked ? ", trading blocked" : ""));
  }
  broker_cash_ = account.cash;
  JsonFields f;
  f.Add("broker", Sim() ? "sim" : "alpaca")
      .Add("mode", o_.live ? "live" : "paper")
      .Add("endpoint", live_.endpoints.trading_url)
      .Add("account_status", account.status)
      .Add("equity", account.equity)
      .Add("dry_run", o_.dry_run);
  Log("session_connected", f.Take());
}

void Session::LoadPrices(Days today) {
  const Days from = today - std::chrono::days(live_.history_days);
  std::vector<alpaca::Bar> bars;
  try {
    bars = rest_->GetDailyBars(symbols_, from, std::nullopt);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kData, fmt::format("daily bars from Alpaca: {}", e.what()));
  }
  // Session dates: Alpaca stamps daily bars at midnight New York time.
  std::set<Days> dates;
  for (const auto& b : bars)
    dates.insert(NyDate(b.t));
  for (const auto& [sym, b] : latest_)
    dates.insert(NyDate(b.t));
  dates.insert(today);
  panel_ = std::make_shared<BarPanel>(symbols_);
  std::map<Days, std::size_t> row_of;
  for (const Days d : dates) {
    if (d > today) continue;
    row_of[d] = panel_->AppendRow(DayToTimestamp(d));
  }
  auto put = [&](const alpaca::Bar& b) {
    const auto col = panel_->IndexOf(b.symbol);
    const auto it = row_of.find(NyDate(b.t));
    if (col < 0 || it == row_of.end()) return;
    panel_->SetBar(it->second, static_cast<std::size_t>(col), b.open, b.high, b.low, b.close,
                   b.volume);
  };
  for (const auto& b : bars)
    put(b);
  // The stream's latest bar of the day (minute or daily) is the freshest price.
  for (const auto& [sym, b] : latest_) {
    if (NyDate(b.t) == today) put(b);
  }
  // The decision row is today's: a symbol without a bar today is valued at its last close.
  const std::size_t last = panel_->Rows() - 1;
  for (std::size_t c = 0; c < symbols_.size(); ++c) {
    if (panel_->HasBar(last, c)) continue;
    for (std::size_t r = last; r-- > 0;) {
      if (panel_->HasBar(r, c)) {
        const double px = panel_->Close(r, c);
        panel_->SetBar(last, c, px, px, px, px, 0.0);
        JsonFields f;
        f.Add("kind", "stale_price")
            .Add("symbol", symbols_[c])
            .Add("as_of", FormatDate(panel_->Day(r)));
        Log("market_data_error", f.Take(), spdlog::level::debug);
        break;
      }
    }
    if (c < tradable_ && !panel_->HasBar(last, c)) {
      throw Error(ErrorKind::kData, fmt::format("Alpaca returned no daily bars for {} since {}",
                                                symbols_[c], FormatDate(from)));
    }
  }
  marks_.assign(panel_->CloseRow(last).begin(),
                panel_->CloseRow(last).begin() + static_cast<std::ptrdiff_t>(tradable_));
}

void Session::Reconcile() {
  broker_qty_.assign(tradable_, 0.0);
  broker_cost_.assign(tradable_, 0.0);
  if (Sim()) {
    // Local paper trading: the account is the initial cash plus every journaled fill.
    broker_cash_ = cfg_.initial_cash;
    for (const auto& f : journal_->Fills()) {
      const auto it = std::find(symbols_.begin(), symbols_.end(), f.symbol);
      if (it == symbols_.end() || it - symbols_.begin() >= static_cast<std::ptrdiff_t>(tradable_))
        continue;
      const auto c = static_cast<std::size_t>(it - symbols_.begin());
      const double sign = f.side == "buy" ? 1.0 : -1.0;
      if (sign > 0) {
        broker_cost_[c] =
            (broker_cost_[c] * broker_qty_[c] + f.qty * f.price) / (broker_qty_[c] + f.qty);
      }
      broker_qty_[c] += sign * f.qty;
      broker_cash_ -= sign * f.qty * f.price + f.commission;
    }
  } else {
    const auto account = rest_->GetAccount();
    broker_cash_ = account.cash;
    for (const auto& p : rest_->GetPositions()) {
      const auto it = std::find(
          symbols_.begin(), symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_), p.symbol);
      if (it == symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_)) {
        JsonFields f;
        f.Add("symbol", p.symbol).Add("qty", p.qty).Add("market_value", p.market_value);
        Log("reconcile_untracked_position", f.Take(), spdlog::level::warn);
        continue;
      }
      const auto c = static_cast<std::size_t>(it - symbols_.begin());
      broker_qty_[c] = p.qty;
      broker_cost_[c] = p.avg_entry_price;
      if (p.qty < 0.0) {
        JsonFields f;
        f.Add("symbol", p.symbol).Add("qty", p.qty);
        Log("reconcile_short_position", f.Take(), spdlog::level::warn);
      }
    }
  }
  // What this session's ledger believed (before this process: nothing) vs the broker.
  if (ledger_) {
    for (std::size_t c = 0; c < tradable_; ++c) {
      const double mine = ledger_->Quantity(static_cast<SymbolIndex>(c));
      if (std::abs(mine - broker_qty_[c]) > 1e-6) {
        JsonFields f;
        f.Add("symbol", symbols_[c]).Add("ledger", mine).Add("broker", broker_qty_[c]);
        Log("reconcile_difference", f.Take(), spdlog::level::warn);
      }
    }
    if (std::abs(ledger_->Cash() - broker_cash_) > 0.01) {
      JsonFields f;
      f.Add("symbol", "cash").Add("ledger", ledger_->Cash()).Add("broker", broker_cash_);
      Log("reconcile_difference", f.Take(), spdlog::level::warn);
    }
    ledger_->Reconcile(broker_qty_, broker_cost_, broker_cash_);
  }
  reconciled_ = true;
}

void Session::Recover(Days today) {
  // Orders a previous process journaled but did not see to the end.
  for (auto& o : journal_->OpenOrders()) {
    std::optional<alpaca::OrderInfo> b;
    if (!Sim()) b = rest_->GetOrderByClientId(o.client_order_id);
    JsonFields f;
    f.Add("client_order_id", o.client_order_id).Add("journal_state", o.state);
    if (b && !SameOrder(*b, o)) {
      journal_->SetOrderState(o.client_order_id, "abandoned", {},
                              "the broker's order under this id is a different order");
      f.Add("broker_status", b->status).Add("action", "abandoned_foreign");
      Log("order_recovered", f.Take(), spdlog::level::warn);
      continue;
    }
    if (b) {
      // Fills the broker made while we were away: already in its positions, journal them.
      const double known = journal_->FilledQty(o.client_order_id);
      if (b->filled_qty > known + 1e-9) {
        const double qty = b->filled_qty - known;
        const double px =
            NewFillPrice(o.client_order_id, b->filled_qty, b->filled_avg_price, o.ref_price);
        journal_->RecordFill(JournalFill{
            fmt::format("recovered-{}-{}", o.client_order_id, b->filled_qty), o.client_order_id,
            o.symbol, o.side, qty, px, 0.0, b->updated_at ? b->updated_at : Now()});
        AppendTrade(Now(), o.client_order_id, o.symbol, o.side, qty, px, "recovered");
      }
      journal_->SetOrderProgress(o.client_order_id, b->filled_qty, b->filled_avg_price);
      const std::string state = b->status == "partially_filled" || b->status == "new" ||
                                        b->status == "accepted" || b->status == "pending_new"
                                    ? "sent"
                                    : b->status;
      journal_->SetOrderState(o.client_order_id, state, b->id);
      f.Add("broker_status", b->status).Add("filled_qty", b->filled_qty);
      if (!IsTerminalState(state)) {
        o.state = state;
        o.broker_id = b->id;
        open_[o.client_order_id] = o;
      }
    } else {
      const auto cycle = journal_->LastCycle();
      const bool resumable = cycle && cycle->id == o.cycle && cycle->day == today;
      if (resumable && (o.state == "planned" || o.state == "sending")) {
        f.Add("broker_status", "not_found").Add("action", "resend");
        o.state = "planned";
        open_[o.client_order_id] = o;
      } else {
        journal_->SetOrderState(o.client_order_id, "abandoned", {},
                                "not at the broker and its session day has passed");
        f.Add("broker_status", "not_found").Add("action", "abandoned");
      }
    }
    Log("order_recovered", f.Take());
  }
}

void Session::CarryDeferred(Days today) {
  // A decision of an earlier session whose orders never left (deferred all day: stream down,
  // market closed) is not a rebalance done: its period is decided again today.
  const auto last = journal_->LastCycle();
  if (!last || last->day >= today || last->state != "planned") return;
  const auto before = journal_->State("decision_before").value_or("");
  journal_->SetState("last_decision_day", before);
  journal_->SetCycleState(last->id, "carried",
                          fmt::format("orders not sent on {}; decided again on {}",
                                      FormatDate(last->day), FormatDate(today)));
  JsonFields f;
  f.Add("cycle", last->id)
      .Add("from", FormatDate(last->day))
      .Add("to", FormatDate(today))
      .Add("last_decision_day", before);
  Log("rebalance_carried", f.Take(), spdlog::level::warn);
}

bool Session::KillSwitch() const {
  if (o_.kill != nullptr && o_.kill->load()) return true;
  return !live_.risk.kill_switch_file.empty() && fs::exists(live_.risk.kill_switch_file);
}

void Session::CancelOpen(std::string_view reason) {
  const Timestamp now = Now();
  for (auto& [coid, o] : open_) {
    if (o.broker_id.empty() || Sim()) continue;
    // One request per order; asked again only if the broker has not confirmed in 30 s (the
    // service checks the kill switch ten times a second).
    auto [it, fresh] = cancel_requested_.try_emplace(coid, now);
    if (!fresh && now - it->second < 30'000'000'000LL) continue;
    it->second = now;
    const bool ok = rest_->CancelOrder(o.broker_id);
    JsonFields f;
    f.Add("client_order_id", coid).Add("reason", reason).Add("accepted", ok);
    Log("order_cancel_requested", f.Take(), spdlog::level::warn);
  }
}

double Session::Drift() const {
  // Half the L1 distance between current weights and the last targets (the turnover a full
  // rebalance would need).
  if (equity_ <= 0.0) return 0.0;
  double d = 0.0;
  bool any = false;
  for (std::size_t c = 0; c < tradable_; ++c) {
    if (std::isnan(targets_[c])) continue;
    any = true;
    const double w = ledger_->Quantity(static_cast<SymbolIndex>(c)) * marks_[c] / equity_;
    d += std::abs(w - targets_[c]);
  }
  return any ? d / 2.0 : 0.0;
}

void Session::ApplyFill(const std::string& coid, const std::string& symbol, Side side, double qty,
                        double price, Timestamp at, const std::string& exec_key,
                        double cumulative) {
  // One booking per execution whatever route reports it (stream, poll, recovery): besides the
  // execution key, the order's cumulative filled quantity says what is new.
  if (cumulative >= 0.0) {
    const double fresh = cumulative - journal_->FilledQty(coid);
    if (fresh <= 1e-9 * std::max(1.0, cumulative)) return;
    qty = std::min(qty, fresh);
  }
  if (!journal_->RecordFill(
          JournalFill{exec_key, coid, symbol, std::string(ToString(side)), qty, price, 0.0, at})) {
    return;  // already booked (a duplicate update, or recovered earlier)
  }
  ++m_.fills;
  AppendTrade(at, coid, symbol, ToString(side), qty, price, "fill");
  const auto col = std::find(symbols_.begin(), symbols_.end(), symbol) - symbols_.begin();
  if (col >= static_cast<std::ptrdiff_t>(tradable_)) return;
  const auto id = engine_ids_.find(coid);
  Fill fill{id != engine_ids_.end() ? id->second : 0,
            static_cast<SymbolIndex>(col),
            side,
            qty,
            price,
            0.0,
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

void Session::OnTradeUpdate(const alpaca::TradeMessage& m) {
  const std::string& coid = m.order.client_order_id;
  const auto it = open_.find(coid);
  if (it == open_.end()) {
    if (coid.rfind(tag_, 0) != 0) return;  // not ours (another app on the account)
  }
  JsonFields f;
  f.Add("event", m.event).Add("client_order_id", coid).Add("status", m.order.status);
  const auto side = m.order.side == "sell" ? Side::kSell : Side::kBuy;
  if (m.event == "fill" || m.event == "partial_fill") {
    f.Add("qty", m.qty).Add("price", m.price).Add("filled_qty", m.order.filled_qty);
    ApplyFill(
        coid, m.order.symbol, side, m.qty, m.price, m.timestamp ? m.timestamp : Now(),
        !m.execution_id.empty() ? m.execution_id : fmt::format("{}-{}", coid, m.order.filled_qty),
        m.order.filled_qty > 0.0 ? m.order.filled_qty : -1.0);
    journal_->SetOrderProgress(coid, m.order.filled_qty, m.order.filled_avg_price);
  }
  std::string state;
  if (m.event == "fill") {
    state = "filled";
  } else if (m.event == "partial_fill") {
    state = "partially_filled";
  } else if (m.event == "canceled" || m.event == "expired" || m.event == "rejected" ||
             m.event == "done_for_day") {
    state = m.event;
  } else if (m.event == "new" || m.event == "accepted" || m.event == "pending_new") {
    state = "accepted";
  }
  if (!state.empty() && it != open_.end()) {
    journal_->SetOrderState(coid, state, m.order.id);
    it->second.state = state;
    const auto id = engine_ids_.find(coid);
    if (id != engine_ids_.end()) {
      if (state == "rejected") orders_->OnOrderRejected(id->second, "broker_rejected", Now());
      if (state == "canceled" || state == "expired" || state == "done_for_day") {
        orders_->OnOrderCanceled(id->second, state, Now());
      }
    }
    if (state == "rejected") ++m_.orders_rejected;
    if (IsTerminalState(state)) open_.erase(it);
    if (IsTerminalState(state) && !pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
  }
  Log("trade_update", f.Take(), m.event == "rejected" ? spdlog::level::warn : spdlog::level::info);
}

bool Session::RefuseForeign(JournalOrder& o, const alpaca::OrderInfo& b) {
  if (SameOrder(b, o)) return false;
  const std::string why =
      fmt::format("client order id taken at the broker by a different order ({} {} {})", b.side,
                  JsonNumber(b.qty), b.symbol);
  journal_->SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  ++m_.orders_rejected;
  JsonFields f;
  f.Add("client_order_id", o.client_order_id).Add("reason", why);
  Log("order_rejected", f.Take(), spdlog::level::warn);
  const auto id = engine_ids_.find(o.client_order_id);
  if (id != engine_ids_.end()) orders_->OnOrderRejected(id->second, "client_order_id_taken", Now());
  return true;
}

void Session::Send(JournalOrder& o, bool resized) {
  // Look before sending: a previous attempt may have reached the broker. What is found is
  // adopted only when it is this order (same symbol, side and quantity).
  if (auto existing = rest_->GetOrderByClientId(o.client_order_id)) {
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
  journal_->SetOrderState(o.client_order_id, "sending");
  alpaca::OrderRequest req{o.symbol, o.side, o.qty, o.client_order_id, "day"};
  auto r = rest_->PostOrder(req);
  // Never blind-retry a POST: after an unknown outcome, find out whether it was placed; send
  // once more only when the broker does not know the client order id (a second copy would be
  // refused as a duplicate, so this cannot double the order).
  for (int attempt = 1; r.kind == alpaca::PostOutcome::Kind::kUnknown ||
                        r.kind == alpaca::PostOutcome::Kind::kDuplicate;
       ++attempt) {
    const bool duplicate = r.kind == alpaca::PostOutcome::Kind::kDuplicate;
    JsonFields f;
    f.Add("client_order_id", o.client_order_id)
        .Add("http_status", r.status)
        .Add("detail", r.error.message);
    Log(duplicate ? "order_duplicate" : "order_uncertain", f.Take(), spdlog::level::warn);
    if (auto existing = rest_->GetOrderByClientId(o.client_order_id)) {
      if (RefuseForeign(o, *existing)) return;
      r.kind = alpaca::PostOutcome::Kind::kAccepted;
      r.order = *existing;
    } else if (duplicate) {
      // Placed (the broker says so) but not visible yet: sent, found by the poll later.
      r.kind = alpaca::PostOutcome::Kind::kAccepted;
      r.order = {};
      poll_after_send_ = true;
    } else if (attempt < 2) {
      r = rest_->PostOrder(req);
    } else {
      break;
    }
  }
  JsonFields f;
  f.Add("client_order_id", o.client_order_id)
      .Add("symbol", o.symbol)
      .Add("side", o.side)
      .Add("qty", o.qty);
  if (r.kind == alpaca::PostOutcome::Kind::kAccepted) {
    ++m_.orders_sent;
    journal_->SetOrderState(o.client_order_id, "sent", r.order.id);
    o.state = "sent";
    o.broker_id = r.order.id;
    Log("order_sent", f.Add("broker_id", r.order.id).Take());
    return;
  }
  if (r.kind == alpaca::PostOutcome::Kind::kRejected && r.status == 403 && o.side == "buy" &&
      !resized && r.error.message.find("buying power") != std::string::npos) {
    // Once: resize to what the broker says it will buy now (less the cash buffer) and resend.
    // The refused POST placed nothing, so the client order id is still free.
    const auto account = rest_->GetAccount();
    const double power = account.buying_power > 0.0 ? account.buying_power : account.cash;
    const double qty =
        RoundQty(std::min(o.qty, (power - live_.cash_buffer * equity_) / o.ref_price));
    JsonFields rf;
    rf.Add("client_order_id", o.client_order_id)
        .Add("qty", o.qty)
        .Add("new_qty", qty)
        .Add("buying_power", power);
    Log("order_resized", rf.Take(), spdlog::level::warn);
    if (qty > 0.0 && qty < o.qty &&
        (cfg_.shares == ShareMode::kWhole || qty * o.ref_price >= 1.0)) {
      o.qty = qty;
      journal_->SetOrderQty(o.client_order_id, qty);
      Send(o, /*resized=*/true);
      return;
    }
  }
  ++m_.orders_rejected;
  const std::string why =
      r.kind == alpaca::PostOutcome::Kind::kRejected
          ? fmt::format("HTTP {} {}", r.status, r.error.message)
          : fmt::format("unknown outcome ({}); not at the broker", r.error.message);
  journal_->SetOrderState(o.client_order_id, "rejected", {}, why);
  o.state = "rejected";
  Log("order_rejected",
      f.Add("http_status", r.status).Add("code", r.error.code).Add("reason", why).Take(),
      spdlog::level::warn);
  const auto id = engine_ids_.find(o.client_order_id);
  if (id != engine_ids_.end()) orders_->OnOrderRejected(id->second, "broker_rejected", Now());
}

double Session::RoundQty(double qty) const {
  if (cfg_.shares == ShareMode::kWhole)
    return std::floor(qty / cfg_.lot_size + 1e-9) * cfg_.lot_size;
  return std::floor(qty * 1e9 + 1e-6) / 1e9;  // Alpaca keeps 9 decimals: never round up
}

double Session::BuyingPower(double cash) const {
  return cash + (cfg_.max_leverage - 1.0) * equity_ - live_.cash_buffer * equity_;
}

std::vector<Order> Session::Sendable(std::vector<Order> queued) {
  // What the broker accepts: quantities rounded down to its precision; a sell of (nearly) the
  // whole position sells exactly what the broker holds; nothing below its minimum ($1 for a
  // fractional order) or below min_trade: drift that small is no drift.
  const double min_notional = std::max(cfg_.shares == ShareMode::kFractional ? 1.0 : 0.0,
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
  double need = 0.0;
  for (const auto& q : out) {
    if (q.side == Side::kBuy) need += q.quantity * marks_[q.symbol];
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
  }
  return out;
}

void Session::SendOrders(std::int64_t cycle, std::vector<JournalOrder>& planned, std::size_t row,
                         bool blocking) {
  if (Sim()) {
    // Simulated fills at today's price, through the backtest's fill and cost models.
    sim::SimVenue venue(*panel_,
                        sim::SimVenueOptions{sim::FillModel::kClose, cfg_.commission,
                                             cfg_.slippage_bps, cfg_.shares, cfg_.lot_size},
                        [this] { return ledger_->Cash() + 1e300; });
    struct Relay final : VenueListener {
      Session& s;
      std::map<OrderId, std::string> coids;
      explicit Relay(Session& session) : s(session) {}
      void OnOrderAccepted(OrderId, Timestamp) override {}
      void OnFill(const Fill& f) override {
        const std::string& coid = coids.at(f.order);
        if (!s.journal_->RecordFill(JournalFill{coid + "-sim", coid, s.symbols_[f.symbol],
                                                std::string(ToString(f.side)), f.quantity, f.price,
                                                f.commission, f.time})) {
          return;
        }
        ++s.m_.fills;
        s.AppendTrade(s.Now(), coid, s.symbols_[f.symbol], ToString(f.side), f.quantity, f.price,
                      "sim");
        s.orders_->OnFill(f);
        s.journal_->SetOrderProgress(coid, f.quantity, f.price);
        s.journal_->SetOrderState(coid, "filled");
      }
      void OnOrderRejected(OrderId id, std::string_view reason, Timestamp t) override {
        s.journal_->SetOrderState(coids.at(id), "rejected", {}, reason);
        s.orders_->OnOrderRejected(id, reason, t);
      }
      void OnOrderCanceled(OrderId id, std::string_view reason, Timestamp t) override {
        s.journal_->SetOrderState(coids.at(id), "canceled", {}, reason);
        s.orders_->OnOrderCanceled(id, reason, t);
      }
    } relay(*this);
    venue.SetListener(&relay);
    for (auto& o : planned) {
      if (o.state != "planned") continue;
      if (!engine_ids_.count(o.client_order_id)) {
        // Planned by a process that died before its simulated fills: today's prices may differ,
        // so it is not replayed.
        journal_->SetOrderState(o.client_order_id, "abandoned", {},
                                "sim: planned by an earlier process");
        continue;
      }
      const auto id = engine_ids_.at(o.client_order_id);
      relay.coids[id] = o.client_order_id;
      const auto& st = orders_->Orders()[id - 1];
      journal_->SetOrderState(o.client_order_id, "sending");
      ++m_.orders_sent;
      venue.Submit(st.order);
    }
    venue.OnSliceClose(row);
    for (auto& o : planned)
      o.state = "done";
    (void)cycle;
    return;
  }
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
  broker_cash_ = rest_->GetAccount().cash;
  double need = 0.0;
  for (const auto& o : buys)
    need += o.qty * o.ref_price;
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
    if (!(o.qty > 0.0) || (cfg_.shares == ShareMode::kFractional && o.qty * o.ref_price < 1.0)) {
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

alpaca::MarketClock Session::BrokerClock() {
  const Timestamp before = WallClock::SystemNow();
  auto clock = rest_->GetClock();
  const Timestamp after = WallClock::SystemNow();
  const Timestamp offset = clock.timestamp - before - (after - before) / 2;
  const Timestamp change = offset - clock_.Offset();
  clock_.SetOffset(offset);
  if (std::abs(offset) > 2'000'000'000 && std::abs(change) > 1'000'000'000) {
    JsonFields f;
    f.Add("broker_minus_local_seconds", static_cast<double>(offset) / 1e9);
    Log("clock_skew", f.Take(), spdlog::level::warn);
  }
  return clock;
}

int Session::Cycle(bool force, bool blocking) {
  ++m_.cycles;
  engine_ids_.clear();  // engine order ids belong to one cycle's order manager
  const auto clock = BrokerClock();
  const Days today = NyDate(clock.timestamp);
  const bool trading_day = NyseCalendar::IsTradingDay(today);
  LoadPrices(today);
  ledger_ = std::make_unique<Ledger>(tradable_, 0.0, /*allow_borrowing=*/true);
  Reconcile();
  Recover(today);
  CarryDeferred(today);
  SettleSignals(today);
  const std::size_t row = panel_->Rows() - 1;
  equity_ = ledger_->Equity(marks_);

  // A decision journaled today but not fully sent (crash): resume it, do not decide again.
  const auto last = journal_->LastCycle();
  std::vector<JournalOrder> planned;
  std::int64_t cycle_id = 0;
  bool resumed = false;
  if (last && last->day == today && (last->state == "planned" || last->state == "sending")) {
    cycle_id = last->id;
    for (auto& o : journal_->CycleOrders(cycle_id)) {
      if (open_.count(o.client_order_id)) planned.push_back(open_[o.client_order_id]);
    }
    resumed = true;
    JsonFields f;
    f.Add("cycle", cycle_id).Add("orders", static_cast<std::uint64_t>(planned.size()));
    Log("cycle_resumed", f.Take());
    if (o_.dry_run) {
      // A dry run looks; it never changes what the real run will resume.
      WriteStatus("dry_run");
      return kLiveOk;
    }
  }
  if (!trading_day && !force && !resumed) {
    JsonFields f;
    f.Add("day", FormatDate(today)).Add("reason", "NYSE closed");
    Log("cycle_skipped", f.Take());
    WriteStatus("market_closed");
    return kLiveOk;
  }
  // Market orders are never sent while the market is closed (the broker's clock decides, not
  // the calendar): nothing is decided, so the next check in market hours decides (or resumes).
  if (!clock.is_open && !o_.dry_run) {
    JsonFields f;
    f.Add("day", FormatDate(today))
        .Add("reason", "market closed")
        .Add("next_open", clock.next_open ? alpaca::FormatRfc3339(clock.next_open) : "");
    Log("cycle_deferred", f.Take(), spdlog::level::warn);
    if (!o_.quiet) {
      std::cerr << fmt::format(
          "market closed (next open {}): nothing sent; run during market hours{}\n",
          clock.next_open ? alpaca::FormatRfc3339(clock.next_open) : "unknown",
          resumed ? " to send the resumed cycle" : "");
    }
    WriteStatus("market_closed");
    return kLiveIncomplete;
  }
  if (resumed && KillSwitch()) {
    // The kill switch stops resumed orders as it stops fresh ones.
    for (auto& o : planned) {
      if (o.state != "planned") continue;
      journal_->SetOrderState(o.client_order_id, "denied", {}, "kill_switch");
      o.state = "denied";
      ++m_.orders_denied;
      JsonFields f;
      f.Add("client_order_id", o.client_order_id)
          .Add("symbol", o.symbol)
          .Add("reason", "kill_switch");
      Log("risk_denied", f.Take(), spdlog::level::warn);
    }
    if (live_.risk.cancel_on_kill) CancelOpen("kill_switch");
    journal_->SetCycleState(cycle_id, "failed", "kill switch");
    WriteStatus("killed");
    return kLiveIncomplete;
  }

  if (!resumed) {
    const auto prev_text = journal_->State("last_decision_day");
    // (A plain Days and a flag: GCC 12 warns on optional<Days> here.)
    const auto parsed = prev_text ? ParseIsoDate(*prev_text) : std::nullopt;
    const bool has_prev = parsed.has_value();
    const Days prev_day = parsed.value_or(Days{});
    record_.events_enabled = true;
    record_.weights_enabled = false;
    QueueVenue& venue = venue_;
    orders_ = std::make_unique<OrderManager>(venue, *ledger_, record_, cfg_.strategy.symbols, tag_);
    Planner planner(backtests::MakePlannerOptions(cfg_));
    RiskGate risk(cfg_.slippage_bps, cfg_.commission, cfg_.max_leverage);
    auto strategy = cfg_.strategy.make();
    NyseSessions sessions;
    SimClock sim_clock;  // the kernel fires no timers live; the session owns the wall clock
    Kernel kernel(KernelParts{*panel_, sessions, sim_clock, *strategy, planner, risk, venue,
                              *orders_, *ledger_, record_},
                  KernelOptions{tradable_, bench_col_, false, 0, cfg_.leverage, cfg_.max_leverage,
                                0.0, cfg_.maintenance, /*book_external_flows=*/false});
    // --force decides as on a first day (allocate to targets); otherwise the schedule compares
    // today with the last session the strategy saw, from the journal.
    if (has_prev && !force) kernel.Resume(prev_day);
    if (has_prev && prev_day == today && !force) {
      JsonFields f;
      f.Add("day", FormatDate(today)).Add("reason", "already decided today");
      Log("cycle_skipped", f.Take());
      FlushKernelEvents();
      WriteStatus("already_decided");
      return kLiveOk;
    }
    cycle_id = journal_->BeginCycle(today, force ? "forced" : "scheduled", Now());
    kernel.OnSlice(row);
    FlushKernelEvents();
    // A dry run changes no schedule state: the real run later that day decides afresh.
    if (!o_.dry_run) {
      journal_->SetState("decision_before", prev_text.value_or(""));
      journal_->SetState("last_decision_day", FormatDate(today));
    }
    auto queued = Sendable(venue.Take());
    if (queued.empty()) {
      TrackSignals({});
      journal_->SetCycleState(cycle_id, o_.dry_run ? "dry_run" : "nothing_due");
      JsonFields f;
      f.Add("cycle", cycle_id).Add("day", FormatDate(today)).Add("drift", Drift());
      Log("cycle_nothing_due", f.Take());
      WriteStatus("nothing_due");
      return kLiveOk;
    }
    const Target& t = kernel.LastTarget();
    for (std::size_t c = 0; c < tradable_; ++c)
      targets_[c] = t.weights[c];
    std::string tj;
    for (std::size_t c = 0; c < tradable_; ++c)
      tj +=
          (c ? "," : "") + (std::isnan(targets_[c]) ? std::string("nan") : JsonNumber(targets_[c]));
    if (!o_.dry_run) journal_->SetState("targets", tj);

    // Preview, then the pre-trade limits, then the journal: all before the first order leaves.
    const bool kill = KillSwitch();
    double day_sent = journal_->SentNotional(today);
    std::vector<double> after_qty(ledger_->Quantities().begin(), ledger_->Quantities().end());
    for (const auto& q : queued) {
      after_qty[q.symbol] += q.side == Side::kBuy ? q.quantity : -q.quantity;
    }
    std::string preview_json = "[";
    std::string table =
        fmt::format("rebalance preview {} (equity {:.2f}, cash {:.2f}){}\n", FormatDate(today),
                    equity_, ledger_->Cash(), o_.dry_run ? " [dry run: nothing is sent]" : "");
    table += fmt::format("  {:<8} {:<4} {:>12} {:>10} {:>12} {:>8} {:>8} {:>8}  {}\n", "symbol",
                         "side", "qty", "price", "notional", "weight", "after", "target", "check");
    double est_costs = 0.0;
    for (const auto& q : queued) {
      const std::string& sym = symbols_[q.symbol];
      const double px = marks_[q.symbol];
      const double notional = q.quantity * px;
      const double before = ledger_->Quantity(q.symbol) * px / equity_;
      const double after = after_qty[q.symbol] * px / equity_;
      est_costs += cfg_.commission.Fee(q.quantity, px) + notional * cfg_.slippage_bps / 1e4;
      std::string deny;
      if (kill) {
        deny = "kill_switch";
      } else if (live_.risk.max_order_notional > 0.0 && notional > live_.risk.max_order_notional) {
        deny = fmt::format("max_order_notional {}", live_.risk.max_order_notional);
      } else if (live_.risk.max_daily_turnover > 0.0 &&
                 day_sent + notional > live_.risk.max_daily_turnover * equity_ * (1 + 1e-9)) {
        deny = fmt::format("max_daily_turnover {}", live_.risk.max_daily_turnover);
      } else if (live_.risk.max_weight > 0.0 && q.side == Side::kBuy &&
                 after > live_.risk.max_weight + 1e-9) {
        deny = fmt::format("max_weight {}", live_.risk.max_weight);
      }
      if (deny.empty()) day_sent += notional;
      JournalOrder jo;
      jo.client_order_id = Coid(cycle_id, today, sym);
      jo.cycle = cycle_id;
      jo.symbol = sym;
      jo.side = std::string(ToString(q.side));
      jo.qty = q.quantity;
      jo.ref_price = px;
      jo.state = !deny.empty() ? "denied" : o_.dry_run ? "dry_run" : "planned";
      jo.reason = deny;
      engine_ids_[jo.client_order_id] = q.id;
      planned.push_back(jo);
      table += fmt::format(
          "  {:<8} {:<4} {:>12.4f} {:>10.2f} {:>12.2f} {:>7.2f}% {:>7.2f}% {:>7}  {}\n", sym,
          ToString(q.side), q.quantity, px, notional, before * 100, after * 100,
          std::isnan(targets_[q.symbol]) ? std::string("-")
                                         : fmt::format("{:.2f}%", targets_[q.symbol] * 100),
          deny.empty() ? "ok" : "DENIED " + deny);
      JsonFields pj;
      pj.Add("client_order_id", jo.client_order_id)
          .Add("symbol", sym)
          .Add("side", ToString(q.side))
          .Add("qty", q.quantity)
          .Add("price", px)
          .Add("notional", notional)
          .Add("weight_before", before)
          .Add("weight_after", after)
          .Add("target", targets_[q.symbol])
          .Add("denied", deny);
      preview_json += (preview_json.size() > 1 ? ",{" : "{") + pj.Take() + "}";
    }
    preview_json += "]";
    table += fmt::format("  estimated costs {:.2f}; drift before {:.4f}\n", est_costs, Drift());
    journal_->PlanOrders(cycle_id, planned, preview_json);
    TrackSignals(planned);
    {
      std::ofstream(out_ + "/preview.txt") << table;
      std::ofstream(out_ + "/preview.json")
          << fmt::format(R"({{"cycle":{},"day":"{}","equity":{},"orders":{}}})", cycle_id,
                         FormatDate(today), JsonNumber(equity_), preview_json)
          << '\n';
    }
    if (!o_.quiet) std::cout << table << std::flush;
    for (const auto& jo : planned) {
      if (jo.state == "denied") {
        ++m_.orders_denied;
        JsonFields f;
        f.Add("client_order_id", jo.client_order_id)
            .Add("symbol", jo.symbol)
            .Add("reason", jo.reason);
        Log("risk_denied", f.Take(), spdlog::level::warn);
        orders_->OnOrderRejected(engine_ids_[jo.client_order_id], "risk_denied", Now());
      } else if (jo.state == "dry_run") {
        orders_->OnOrderCanceled(engine_ids_[jo.client_order_id], "dry_run", Now());
      }
    }
    if (kill && live_.risk.cancel_on_kill) CancelOpen("kill_switch");
  } else {
    // Resumed orders have no engine order: their fills go to the ledger directly.
    orders_ =
        std::make_unique<OrderManager>(venue_, *ledger_, record_, cfg_.strategy.symbols, tag_);
  }

  if (o_.dry_run) {
    journal_->SetCycleState(cycle_id, "dry_run");
    WriteStatus("dry_run");
    return kLiveOk;
  }
  journal_->SetCycleState(cycle_id, "sending");
  if (!Sim() && !trades_->Ready() && blocking) {
    // Orders go out only while the trade stream is up (so every fill is seen).
    WaitForOrders(0.0);
  }
  if (!Sim() && !trades_->Ready()) {
    journal_->SetCycleState(cycle_id, "planned", "trade stream down; orders not sent");
    JsonFields f;
    f.Add("cycle", cycle_id).Add("reason", "trade stream not connected; orders kept for resume");
    Log("cycle_deferred", f.Take(), spdlog::level::warn);
    WriteStatus("deferred");
    return kLiveIncomplete;
  }
  SendOrders(cycle_id, planned, row, blocking);
  if (!blocking && !Sim() && !open_.empty()) {
    finish_timer_.emplace(io_);
    finish_timer_->expires_after(
        std::chrono::milliseconds(static_cast<long long>(live_.fill_timeout_s * 1000)));
    finish_timer_->async_wait([this, cycle_id](const boost::system::error_code& ec) {
      if (ec) return;
      try {
        (void)FinishCycle(cycle_id, !open_.empty());
      } catch (const std::exception& e) {
        JsonFields ef;
        ef.Add("detail", e.what());
        Log("cycle_error", ef.Take(), spdlog::level::err);
      }
    });
    return kLiveOk;
  }
  const bool done = Sim() || WaitForOrders(live_.fill_timeout_s);
  return FinishCycle(cycle_id, !done);
}

int Session::FinishCycle(std::int64_t cycle_id, bool timed_out) {
  if (timed_out) PollOpenOrders();
  if (!pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
  for (const auto& o : std::exchange(pending_buys_, {})) {
    journal_->SetOrderState(o.client_order_id, "abandoned", {},
                            "the sells that fund it did not fill in time");
  }
  bool failed = false;
  for (const auto& jo : journal_->CycleOrders(cycle_id)) {
    if (jo.state != "filled") failed = true;
  }
  const std::string state = !open_.empty() ? "incomplete" : failed ? "failed" : "done";
  journal_->SetCycleState(cycle_id, state);
  // The broker is the source of truth: re-read what it holds after the fills.
  if (!Sim()) Reconcile();
  equity_ = ledger_->Equity(marks_);
  JsonFields f;
  f.Add("cycle", cycle_id)
      .Add("state", state)
      .Add("equity", equity_)
      .Add("cash", ledger_->Cash())
      .Add("drift", Drift())
      .Add("open_orders", static_cast<std::uint64_t>(open_.size()));
  Log("cycle_finished", f.Take(), state == "done" ? spdlog::level::info : spdlog::level::warn);
  WriteStatus(state);
  return state == "done" ? kLiveOk : kLiveIncomplete;
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
    if (for_stream ? trades_->Ready() : (sells_only ? !SellsOpen() : open_.empty())) break;
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }
  deadline.cancel();
  io_.restart();
  io_.poll();
  if (!fatal_.empty()) throw Error(ErrorKind::kBroker, fatal_);
  return for_stream ? trades_->Ready() : open_.empty();
}

void Session::PollOpenOrders() {
  // Updates missed on the stream: ask for each open order's state.
  std::vector<std::string> ids;
  for (const auto& [coid, o] : open_)
    ids.push_back(coid);
  for (const auto& coid : ids) {
    auto b = rest_->GetOrderByClientId(coid);
    if (!b) continue;
    auto& o = open_[coid];
    const double known = journal_->FilledQty(coid);
    if (b->filled_qty > known + 1e-9) {
      ApplyFill(coid, o.symbol, o.side == "sell" ? Side::kSell : Side::kBuy, b->filled_qty - known,
                NewFillPrice(coid, b->filled_qty, b->filled_avg_price, o.ref_price),
                b->updated_at ? b->updated_at : Now(),
                fmt::format("poll-{}-{}", coid, b->filled_qty), b->filled_qty);
    }
    journal_->SetOrderProgress(coid, b->filled_qty, b->filled_avg_price);
    if (b->status == "filled" || b->status == "canceled" || b->status == "expired" ||
        b->status == "rejected") {
      journal_->SetOrderState(coid, b->status, b->id);
      open_.erase(coid);
    } else {
      JsonFields f;
      f.Add("client_order_id", coid)
          .Add("broker_status", b->status)
          .Add("filled_qty", b->filled_qty);
      Log("order_still_open", f.Take(), spdlog::level::warn);
    }
  }
  if (!pending_buys_.empty() && !SellsOpen()) SendPendingBuys();
}

void Session::WriteStatus(std::string_view cycle_state) {
  equity_ = ledger_ ? ledger_->Equity(marks_) : equity_;
  m_.equity = equity_;
  m_.drift = ledger_ ? Drift() : 0.0;
  // One row per session day in the journal (the latest status wins); equity.csv is rewritten from
  // it in the backtest's columns, whole or not at all.
  const Days day = panel_ ? panel_->Day(panel_->Rows() - 1) : TimestampToDay(Now());
  const std::size_t last = panel_ ? panel_->Rows() - 1 : 0;
  const double bench =
      panel_ && bench_col_ >= 0 && panel_->HasBar(last, static_cast<std::size_t>(bench_col_))
          ? panel_->Close(last, static_cast<std::size_t>(bench_col_))
          : 0.0;
  journal_->RecordEquity(EquityRow{day, Now(), equity_, ledger_ ? ledger_->Cash() : 0.0, m_.drift,
                                   std::string(cycle_state), bench});
  {
    const std::string equity_csv = out_ + "/equity.csv";
    {
      std::ofstream eq(equity_csv + ".tmp", std::ios::trunc);
      eq << EquityCsv(journal_->EquityRows());
    }
    fs::rename(equity_csv + ".tmp", equity_csv);
  }
  std::string positions = "{";
  for (std::size_t c = 0; ledger_ && c < tradable_; ++c) {
    JsonFields p;
    p.Add("qty", ledger_->Quantity(static_cast<SymbolIndex>(c)))
        .Add("price", marks_[c])
        .Add("weight", equity_ > 0
                           ? ledger_->Quantity(static_cast<SymbolIndex>(c)) * marks_[c] / equity_
                           : 0.0)
        .Add("target", targets_[c]);
    if (positions.size() > 1) positions += ",";
    AppendJsonString(positions, symbols_[c]);
    positions += ":{" + p.Take() + "}";
  }
  positions += "}";
  JsonFields s;
  s.Add("name", cfg_.name)
      .Add("broker", Sim() ? "sim" : "alpaca")
      .Add("mode", o_.live ? "live" : "paper")
      .Add("dry_run", o_.dry_run)
      .Add("session_day", FormatDate(day))
      .Add("cycle_state", cycle_state)
      .Add("equity", equity_)
      .Add("cash", ledger_ ? ledger_->Cash() : 0.0)
      .Add("drift", m_.drift)
      .Add("open_orders", static_cast<std::uint64_t>(open_.size()))
      .Add("journal", journal_->Path())
      .AddRaw("positions", positions);
  const std::string tmp = out_ + "/summary.json.tmp";
  std::ofstream(tmp) << "{" << s.Take() << "}\n";
  fs::rename(tmp, out_ + "/summary.json");
}

OpsReply Session::Ops(std::string_view path) {
  if (path == "/health") return {200, "text/plain; charset=utf-8", "ok\n"};
  const bool ready = reconciled_ && fatal_.empty() && !stopping_ &&
                     (Sim() || (trades_ && trades_->Ready())) && (!data_ || data_->Ready());
  if (path == "/ready") {
    return {ready ? 200 : 503, "text/plain; charset=utf-8", ready ? "ready\n" : "not ready\n"};
  }
  if (path != "/metrics") return {404, "text/plain; charset=utf-8", "not found\n"};
  std::string b;
  auto metric = [&b](std::string_view name, std::string_view type, std::string_view help,
                     double value) {
    b += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                     JsonNumber(value));
  };
  const Timestamp now = WallClock::SystemNow();  // the streams stamp data with the system clock
  metric("ballast_orders_sent_total", "counter", "Orders accepted by the broker.",
         static_cast<double>(m_.orders_sent));
  metric("ballast_orders_rejected_total", "counter", "Orders rejected by the broker.",
         static_cast<double>(m_.orders_rejected));
  metric("ballast_orders_denied_total", "counter", "Orders stopped by the pre-trade risk gate.",
         static_cast<double>(m_.orders_denied));
  metric("ballast_fills_total", "counter", "Executions booked.", static_cast<double>(m_.fills));
  metric("ballast_cycles_total", "counter", "Decision cycles run.", static_cast<double>(m_.cycles));
  metric("ballast_rate_limited_total", "counter", "HTTP 429 replies.",
         static_cast<double>(m_.rate_limited));
  metric("ballast_reconnects_total", "counter", "Websocket reconnects (both streams).",
         static_cast<double>((trades_ ? trades_->Reconnects() : 0) +
                             (data_ ? data_->Reconnects() : 0)));
  metric(
      "ballast_stream_messages_total", "counter", "Websocket messages received.",
      static_cast<double>((trades_ ? trades_->Messages() : 0) + (data_ ? data_->Messages() : 0)));
  metric(
      "ballast_malformed_messages_total", "counter", "Websocket messages dropped as malformed.",
      static_cast<double>((trades_ ? trades_->Malformed() : 0) + (data_ ? data_->Malformed() : 0)));
  metric("ballast_last_data_age_seconds", "gauge", "Seconds since the last market data message.",
         data_ && data_->LastData() ? static_cast<double>(now - data_->LastData()) / 1e9 : -1.0);
  metric("ballast_equity", "gauge", "Account equity at the last marks.", m_.equity);
  metric("ballast_drift", "gauge", "Half the L1 distance between weights and targets.", m_.drift);
  metric("ballast_open_orders", "gauge", "Orders sent and not final.",
         static_cast<double>(open_.size()));
  metric("ballast_ready", "gauge", "1 when connected, authenticated and reconciled.",
         ready ? 1.0 : 0.0);
  return {200, "text/plain; version=0.0.4; charset=utf-8", b};
}

void Session::ScheduleNext() {
  // Next check: today's check time if still ahead, else the next NYSE session's. On early-close
  // days the check keeps its distance to the close (15:45 -> 12:45).
  const Timestamp now = Now();
  Days day = NyDate(now);
  for (int i = 0; i < 10; ++i, day = NyseCalendar::NextTradingDay(day)) {
    if (!NyseCalendar::IsTradingDay(day)) continue;
    const int close = NyseCalendar::CloseMinutes(day).value_or(960);
    const int at_min = live_.check_minutes - (960 - close);
    const Timestamp at = NyLocalToUtc(day, at_min);
    if (at <= now) continue;
    JsonFields f;
    f.Add("next_check", alpaca::FormatRfc3339(at)).Add("session_day", FormatDate(day));
    Log("cycle_scheduled", f.Take());
    clock_.ScheduleAt(at, [this] {
      if (stopping_) return;
      RunScheduledCycle(false, false);
      ScheduleNext();
    });
    return;
  }
}

void Session::RunScheduledCycle(bool force, bool blocking) {
  try {
    (void)Cycle(force, blocking);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kBroker) {
      fatal_ = e.what();
      return;
    }
    JsonFields ef;
    ef.Add("detail", e.what());
    Log("cycle_error", ef.Take(), spdlog::level::err);
  } catch (const std::exception& e) {
    JsonFields ef;
    ef.Add("detail", e.what());
    Log("cycle_error", ef.Take(), spdlog::level::err);
  }
  // A deferred cycle (orders kept, not sent) is retried within the session; once the session is
  // over, the next session's check carries its period's rebalance.
  const auto last = journal_->LastCycle();
  const Timestamp now = Now();
  const Days today = NyDate(now);
  if (!last || last->day != today || last->state != "planned") return;
  const int close = NyseCalendar::CloseMinutes(today).value_or(960);
  const Timestamp retry_at = now + static_cast<Timestamp>(live_.retry_s * 1e9);
  if (retry_at >= NyLocalToUtc(today, close - 1)) {
    JsonFields f;
    f.Add("cycle", last->id).Add("reason", "session over; the next session's check carries it");
    Log("cycle_retry_given_up", f.Take(), spdlog::level::warn);
    return;
  }
  JsonFields f;
  f.Add("cycle", last->id).Add("retry_at", alpaca::FormatRfc3339(retry_at));
  Log("cycle_retry_scheduled", f.Take(), spdlog::level::warn);
  clock_.ScheduleAt(retry_at, [this] {
    if (!stopping_) RunScheduledCycle(false, false);
  });
}

void Session::WatchStop() {
  stop_timer_->expires_after(std::chrono::milliseconds(100));
  stop_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if ((o_.stop && o_.stop->load()) || !fatal_.empty()) {
      stopping_ = true;
      io_.stop();
      return;
    }
    if (KillSwitch() && live_.risk.cancel_on_kill && !open_.empty()) CancelOpen("kill_switch");
    WatchStop();
  });
}

int Session::Run() {
  Load();
  ConnectBroker();
  Open();
  if (!Sim()) {
    trades_ = std::make_unique<alpaca::TradeStream>(
        io_, live_.endpoints, creds_,
        alpaca::TradeStream::Handlers{[this](bool reconnected) {
                                        JsonFields f;
                                        f.Add("reconnected", reconnected);
                                        Log("trade_stream_ready", f.Take());
                                        // Updates sent while we were away are not replayed: ask for
                                        // each open order.
                                        if (reconnected && !open_.empty()) PollOpenOrders();
                                      },
                                      [this](const alpaca::TradeMessage& m) { OnTradeUpdate(m); },
                                      [this] { Log("trade_stream_down", "", spdlog::level::warn); },
                                      [this](std::string_view kind, const std::string& detail) {
                                        JsonFields f;
                                        f.Add("detail", detail);
                                        Log(kind, f.Take(), spdlog::level::warn);
                                      },
                                      [this](const std::string& why) { fatal_ = why; }});
    if (!o_.dry_run) trades_->Start();
  }
  if (live_.metrics_port > 0) {
    ops_ = std::make_unique<OpsServer>(io_, static_cast<unsigned short>(live_.metrics_port),
                                       [this](std::string_view p) { return Ops(p); });
    JsonFields f;
    f.Add("url", fmt::format("http://127.0.0.1:{}/metrics", ops_->Port()));
    Log("ops_server_listening", f.Take());
  }
  if (o_.once) {
    const int status = Cycle(o_.force, true);
    if (trades_) trades_->Stop();
    return status;
  }
  // Service: stream today's prices, check at the configured time on every session.
  data_ = std::make_unique<alpaca::DataStream>(
      io_, live_.endpoints, creds_, cfg_.strategy.symbols,
      alpaca::DataStream::Handlers{
          [this] { Log("data_stream_ready", ""); },
          [this](const alpaca::DataMessage& m) {
            auto& b = latest_[m.bar.symbol];
            if (m.kind == alpaca::DataMessage::Kind::kTrade) {
              b.symbol = m.bar.symbol;
              b.t = m.bar.t;
              b.close = m.bar.close;
              if (b.open == 0) b.open = b.high = b.low = b.close;
            } else if (m.bar.t >= b.t) {
              b = m.bar;  // a newer bar, or an updated bar replacing the one with the same t
            }
          },
          [this](std::string_view kind, const std::string& detail) {
            if (kind == "malformed_message") ++m_.malformed;
            JsonFields f;
            f.Add("detail", detail);
            Log(kind, f.Take(), spdlog::level::warn);
          },
          [this](const std::string& why) { fatal_ = why; },
          [this] {
            const Timestamp now = Now();
            const Days d = NyDate(now);
            if (!NyseCalendar::IsTradingDay(d)) return false;
            const int minute = NyMinuteOfDay(now);
            return minute >= 570 && minute < NyseCalendar::CloseMinutes(d).value_or(960);
          }},
      alpaca::StreamOptions{
          std::chrono::milliseconds(500), std::chrono::milliseconds(30'000),
          std::chrono::milliseconds(10'000),
          std::chrono::milliseconds(static_cast<long long>(live_.stale_data_s * 1000))});
  data_->Start();
  // Reconcile now so /ready and the status reflect the account before the first check.
  {
    const auto clock = BrokerClock();
    LoadPrices(NyDate(clock.timestamp));
    ledger_ = std::make_unique<Ledger>(tradable_, 0.0, true);
    Reconcile();
    Recover(NyDate(clock.timestamp));
    WriteStatus("waiting");
  }
  if (o_.force) RunScheduledCycle(true, true);  // before the loop runs: blocking is safe
  stop_timer_.emplace(io_);
  WatchStop();
  ScheduleNext();
  io_.restart();
  io_.run();
  stopping_ = true;
  if (data_) data_->Stop();
  if (trades_) trades_->Stop();
  Log(
      "session_stopped", fatal_.empty() ? "" : [&] {
        JsonFields f;
        f.Add("reason", fatal_);
        return f.Take();
      }());
  if (!fatal_.empty()) throw Error(ErrorKind::kBroker, fatal_);
  return kLiveOk;
}

}  // namespace

BrokerPortfolio ReadBrokerPortfolio(const std::string& config_path,
                                    const std::vector<std::string>& sets,
                                    const std::string& env_file, bool live) {
  ConfigDocument doc = ConfigDocument::FromFile(config_path);
  for (const auto& s : sets)
    doc.ApplySet(s);
  LiveOptions o;
  o.live = live;
  const LiveConfig c = ParseLiveConfig(doc, o);
  alpaca::Rest rest(c.endpoints, alpaca::LoadCredentials(env_file));
  BrokerPortfolio out;
  out.account = c.endpoints.trading_url;
  try {
    out.cash = rest.GetAccount().cash;
    for (const auto& p : rest.GetPositions()) {
      if (p.qty > 0) out.positions.push_back({p.symbol, p.qty, p.avg_entry_price});
    }
  } catch (const alpaca::RestError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("Alpaca account at {}: {}", out.account, e.what()));
  } catch (const net::TransportError& e) {
    throw Error(ErrorKind::kBroker,
                fmt::format("cannot reach Alpaca at {}: {}", out.account, e.what()));
  }
  return out;
}

int RunLive(const LiveOptions& options) {
  // A broker reply we cannot use (garbage from /v2/clock, a refused request) is the broker's
  // fault: exit 4 with the endpoint named, like every other broker failure.
  try {
    Session session(options);
    return session.Run();
  } catch (const alpaca::RestError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("Alpaca: {}", e.what()));
  } catch (const net::TransportError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("cannot reach Alpaca: {}", e.what()));
  }
}

}  // namespace ballast::live
