// `ballast live`: one decision cycle (--once) or a service that checks the strategy at its time on
// every NYSE session. The strategy, planner, risk gate, order manager and ledger are the
// backtest's; the session swaps in the wall clock, Alpaca's bars and Alpaca's venue (or
// SimVenue). This file: set-up, service mode and the entry points.
#include "prefault.hpp"
#include "session_impl.hpp"

namespace ballast::live {
namespace detail {

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
  if (cfg_.prices != data::PriceBasis::kAdjusted || cfg_.reinvest_dividends ||
      cfg_.benchmark_price_return) {
    throw Error(ErrorKind::kConfig,
                fmt::format("{}: data.prices / portfolio.dividends / benchmark.prices: live "
                            "sessions trade the broker's prices and are paid its dividends; "
                            "remove these keys (they are for backtests)",
                            o_.config_path));
  }
  // Everything that can be checked here is checked before the session directory and the journal
  // are created: a run refused for missing keys leaves nothing behind.
  if (o_.replay) {
    if (o_.broker != BrokerKind::kSim) {
      throw Error(ErrorKind::kUsage,
                  "--replay trades on history, with the simulated broker only: add --broker sim");
    }
    if (o_.once) {
      throw Error(ErrorKind::kUsage,
                  "--replay runs the service over the whole period; drop --once (data.start and "
                  "data.end choose the period)");
    }
  } else if (o_.broker != BrokerKind::kIb) {
    creds_ = alpaca::LoadCredentials(o_.env_file);
  }
  out_ = o_.out_dir.empty()
             ? (o_.replay ? "runs/replay-" : "runs/live-") + backtests::Slug(cfg_.name)
             : o_.out_dir;
  // The session directory is kept across runs and its files (equity.csv, summary.json, ...)
  // rewritten: only a directory ballast made for a session may be used, never a user's.
  if (std::error_code ec; fs::is_directory(out_, ec) && !fs::is_empty(out_, ec) &&
                          !fs::exists(fs::path(out_) / kSessionMarker) &&
                          !fs::exists(fs::path(out_) / "journal.sqlite")) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: exists and is not a ballast live session directory (no {} or "
                            "journal.sqlite); choose another --out",
                            out_, kSessionMarker));
  }
  if (std::error_code ec; fs::exists(out_, ec) && !fs::is_directory(out_, ec)) {
    throw Error(ErrorKind::kUsage, fmt::format("{}: exists and is not a directory", out_));
  }
  // Client order ids: a hash of the portfolio's name, so they stay stable across config edits
  // and restarts and say nothing about the account.
  std::uint32_t h = 2166136261u;
  for (unsigned char ch : cfg_.name + "/" + std::string(BrokerName())) {
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
  std::ofstream(fs::path(out_) / kSessionMarker, std::ios::app);  // ours from now on
  journal_ = std::make_unique<Journal>(
      o_.journal_path.empty() ? out_ + "/journal.sqlite" : o_.journal_path,
      /*sync_every_commit=*/!o_.replay);
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
  // What this journal booked on the account: a simulated broker rebuilds its account from it
  // (a real broker's account is the truth and ignores it).
  broker::BookedAccount booked;
  for (const auto& f : journal_->Fills()) {
    booked.fills.push_back({f.client_order_id, f.symbol,
                            f.side == "sell" ? Side::kSell : Side::kBuy, f.qty, f.price,
                            f.commission});
  }
  booked.net_transfers = journal_->FlowTotal();
  for (const auto& o : journal_->OpenOrders()) {
    if (o.broker_id.empty() || o.state == "planned" || o.state == "sending") continue;
    broker::BrokerOrder b;
    b.id = o.broker_id;
    b.client_order_id = o.client_order_id;
    b.symbol = o.symbol;
    b.side = o.side == "sell" ? Side::kSell : Side::kBuy;
    b.qty = o.qty;
    booked.open_orders.push_back(std::move(b));
  }
  booked.order_ids = journal_->BrokerIds();
  broker_->Restore(booked);
  // The kernel's Venue: the one way this session's orders reach the broker and their life comes
  // back to the engine's order manager.
  SendRules rules;
  rules.whole_shares = cfg_.shares == ShareMode::kWhole;
  rules.lot_size = cfg_.lot_size;
  rules.min_trade_notional = backtests::MakePlannerOptions(cfg_).min_trade_notional;
  rules.max_leverage = cfg_.max_leverage;
  rules.cash_buffer = live_.cash_buffer;
  rules.source_label = BrokerName() == "sim" ? "sim" : "fill";
  rules.tag = tag_;
  const std::string source_label = rules.source_label;
  venue_ = std::make_unique<BrokerVenue>(*broker_, *journal_, *this, symbols_, tradable_,
                                         std::move(rules));
  order_journal_ =
      std::make_unique<SessionJournal>(*journal_, *this, *venue_, symbols_, source_label);
  // The kernel's EventSource: checks, and (a service on a live market) the stream's prices
  // between them.
  source_ = std::make_unique<LiveSource>(*clock_, o_.once || o_.replay ? 0.0 : live_.watch_s,
                                         [this] { return MayWatch(); });
  source_->Start(io_, *this);
  // A replay resumes where its journal ends: the day of the last cycle (decided, or to resume).
  if (replay_clock_) {
    if (const auto last = journal_->LastCycle()) {
      const Timestamp at = NyLocalToUtc(last->day, 0);
      if (at > replay_clock_->Now()) replay_clock_->JumpTo(at);
      JsonFields f;
      f.Add("from", FormatDate(last->day)).Add("journal", journal_->Path());
      Log("replay_resumed", f.Take());
    }
  }
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
  // The seams: the market (Alpaca's data, or the config's store on a replay clock), the session
  // calendar that goes with it, and the broker (Alpaca's account or the simulated one). Nothing
  // below this function asks which.
  if (o_.replay) {
    const auto md = backtests::LoadMarketData(cfg_);
    // The clock starts at New York midnight of the first session.
    replay_clock_ = std::make_unique<ReplayClock>(io_, NyLocalToUtc(md.panel->Day(md.first_row), 0),
                                                  o_.speed, [this] { return Idle(); });
    replay_ = std::make_unique<ReplayMarket>(md.panel, md.first_row, *replay_clock_);
    clock_ = replay_clock_.get();
    sessions_ = std::make_unique<DataSessions>(replay_->Sessions());
    market_ = replay_.get();
  } else if (o_.broker == BrokerKind::kIb) {
    ib::IbOptions io = live_.ib;
    io.market_hours = [](Timestamp now) { return NyseClock(now); };
    ib_ = std::make_unique<ib::IbBroker>(
        io_, std::move(io),
        [this](std::string_view kind, const std::string& detail) { OnBrokerEvent(kind, detail); });
    try {
      ib_->Connect();
    } catch (const broker::BrokerError& e) {
      throw Error(ErrorKind::kBroker, e.what());
    }
    // The account's id says paper (DU...) or live: a paper session on a live login, or the other
    // way round, stops here, before anything is read or sent.
    const std::string account = ib_->AccountId();
    if (!o_.live && !ib::IsPaperAccount(account)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--paper, but IB account {} at {} is a live account (paper ids start "
                              "with DU); connect to the paper Gateway / TWS login, or pass --live",
                              account, ib_->Endpoint()));
    }
    if (o_.live && ib::IsPaperAccount(account)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--live, but IB account {} at {} is a paper account", account,
                              ib_->Endpoint()));
    }
    // Every symbol the config names must be a stock IB knows: found now, a config error naming
    // it (not a refused order later). The contracts are kept for the session's requests.
    for (const auto& symbol : symbols_) {
      std::optional<broker::Asset> asset;
      try {
        asset = ib_->GetAsset(symbol);
      } catch (const broker::BrokerError& e) {
        if (e.status() == 200)  // ambiguous
          throw Error(ErrorKind::kConfig,
                      fmt::format("{}: symbol {}: {} in broker.ib.primary_exchanges",
                                  o_.config_path, symbol, e.what()));
        throw Error(ErrorKind::kBroker, e.what());
      }
      if (!asset) {
        throw Error(ErrorKind::kConfig,
                    fmt::format("{}: symbol {}: IB has no US stock (STK, SMART, USD) by that name "
                                "(error 200)",
                                o_.config_path, symbol));
      }
    }
    sessions_ = std::make_unique<NyseSessions>();
    market_ = ib_.get();
  } else {
    alpaca_ = std::make_unique<alpaca::AlpacaBroker>(
        io_, wall_, live_.endpoints, creds_, alpaca::StreamOptions{},
        [this](std::string_view kind, const std::string& detail) { OnBrokerEvent(kind, detail); });
    sessions_ = std::make_unique<NyseSessions>();
    market_ = alpaca_.get();
  }
  if (o_.broker == BrokerKind::kSim) {
    sim_ = std::make_unique<sim::SimBroker>(
        io_,
        sim::SimBrokerOptions{cfg_.initial_cash, cfg_.commission, cfg_.slippage_bps, cfg_.shares,
                              cfg_.lot_size, cfg_.max_leverage},
        [this](std::string_view symbol) -> std::optional<double> {
          for (std::size_t c = 0; c < tradable_ && c < marks_.size(); ++c) {
            if (symbols_[c] == symbol && std::isfinite(marks_[c]) && marks_[c] > 0.0)
              return marks_[c];
          }
          return std::nullopt;
        });
    broker_ = sim_.get();
  } else if (ib_) {
    broker_ = ib_.get();
  } else {
    broker_ = alpaca_.get();
  }
  if (replay_) {
    JsonFields f;
    f.Add("store", cfg_.store_path)
        .Add("from", FormatDate(replay_->Sessions().front()))
        .Add("to", FormatDate(replay_->LastSession()))
        .Add("sessions", static_cast<std::uint64_t>(replay_->Sessions().size()))
        .Add("speed", o_.speed > 0.0 ? JsonNumber(o_.speed) : std::string("max"));
    Log("replay_started", f.Take());
  }
  broker::Account account;
  try {
    // The keys are checked here for both: the market data needs them too.
    (void)market_->GetClock();
    account = broker_->GetAccount();
  } catch (const broker::BrokerError& e) {
    if (e.Unauthorized() || e.status() == 0) throw Error(ErrorKind::kBroker, e.what());
    throw Error(ErrorKind::kBroker, fmt::format("{} account: {}", broker_->Name(), e.what()));
  }
  if (!account.can_trade) {
    throw Error(ErrorKind::kBroker, fmt::format("the {} account cannot trade ({})", broker_->Name(),
                                                account.blocked_reason));
  }
  broker_cash_ = account.cash;
  JsonFields f;
  f.Add("broker", broker_->Name())
      .Add("mode", o_.live ? "live" : "paper")
      .Add("endpoint", broker_->Endpoint())
      .Add("account_status", account.status)
      .Add("equity", account.equity)
      .Add("dry_run", o_.dry_run);
  Log("session_connected", f.Take());
}

broker::MarketClock Session::BrokerClock() {
  if (replay_clock_) return market_->GetClock();  // the replay's clock is the market's
  broker::MarketClock clock;
  const Timestamp was = wall_.Offset();
  const Timestamp offset = wall_.SyncTo([&] {
    clock = market_->GetClock();
    return clock.now;
  });
  const Timestamp change = offset - was;
  if (std::abs(offset) > 2'000'000'000 && std::abs(change) > 1'000'000'000) {
    JsonFields f;
    f.Add("broker_minus_local_seconds", static_cast<double>(offset) / 1e9);
    Log("clock_skew", f.Take(), spdlog::level::warn);
  }
  return clock;
}

void Session::OnUpdatesReady(bool reconnected) {
  JsonFields f;
  f.Add("reconnected", reconnected);
  Log("trade_stream_ready", f.Take());
  // Updates sent while we were away are not replayed: ask for each open order.
  if (reconnected && venue_ && venue_->OpenCount() != 0) venue_->Poll();
}

void Session::OnUpdatesDown() {
  Log("trade_stream_down", "", spdlog::level::warn);
}

void Session::OnBrokerEvent(std::string_view kind, const std::string& detail) {
  if (kind == "rate_limited") ++m_.rate_limited;
  if (kind == "malformed_message") ++m_.malformed;
  JsonFields f;
  f.Add("detail", detail);
  Log(kind, f.Take(), spdlog::level::warn);
}

void Session::OnBrokerFatal(const std::string& why) {
  fatal_ = why;
}

void Session::ScheduleNext() {
  // Next check: today's check time if still ahead, else the next NYSE session's. On early-close
  // days the check keeps its distance to the close (15:45 -> 12:45).
  // A replay checks every session in turn, even when it runs late (a paced replay whose cycle
  // took longer than the time to the next check): its clock is not the market's.
  const Timestamp now = Now();
  Days day = NyDate(now);
  if (!IsSession(day)) day = sessions_->NextSession(day);
  if (replay_ && has_checked_) day = sessions_->NextSession(last_check_day_);
  for (int i = 0; i < 10; ++i, day = sessions_->NextSession(day)) {
    if (replay_ && day > replay_->LastSession()) {
      // The replayed period is over: the service stops as on SIGTERM, with its outputs written.
      JsonFields f;
      f.Add("last_session", FormatDate(replay_->LastSession()))
          .Add("cycles", m_.cycles)
          .Add("orders_sent", venue_->Count().sent)
          .Add("fills", order_journal_->Booked())
          .Add("equity", equity_);
      Log("replay_finished", f.Take());
      if (!o_.quiet) {
        std::cout << fmt::format(
                         "replay finished: {} sessions to {}, {} orders, equity {:.2f}; outputs "
                         "in {}\n",
                         m_.cycles, FormatDate(replay_->LastSession()), venue_->Count().sent,
                         equity_, out_)
                  << std::flush;
      }
      replay_done_ = true;
      io_.stop();
      return;
    }
    const int close = NyseCalendar::CloseMinutes(day).value_or(960);
    const int at_min = live_.check_minutes - (960 - close);
    const Timestamp at = NyLocalToUtc(day, at_min);
    if (at <= now && !replay_) continue;
    last_check_day_ = day;
    has_checked_ = true;
    JsonFields f;
    f.Add("next_check", alpaca::FormatRfc3339(at)).Add("session_day", FormatDate(day));
    Log("cycle_scheduled", f.Take());
    clock_->ScheduleAt(at, [this] {
      if (stopping_) return;
      RunScheduledCycle(false, false);
      ScheduleNext();
    });
    return;
  }
}

bool Session::Guarded(const std::function<void()>& cycle) {
  try {
    cycle();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kBroker) {
      fatal_ = e.what();
      return false;
    }
    JsonFields ef;
    ef.Add("detail", e.what());
    Log("cycle_error", ef.Take(), spdlog::level::err);
  } catch (const std::exception& e) {
    JsonFields ef;
    ef.Add("detail", e.what());
    Log("cycle_error", ef.Take(), spdlog::level::err);
  }
  // Orders the kernel staged in a cycle that failed before previewing them are never sent by a
  // later one.
  if (venue_ && venue_->HasStaged()) venue_->DropStaged("cycle_error");
  return true;
}

void Session::RunScheduledCycle(bool force, bool blocking) {
  if (!Guarded([&] { (void)Cycle(force, blocking); })) return;
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
  clock_->ScheduleAt(retry_at, [this] {
    if (!stopping_) RunScheduledCycle(false, false);
  });
}

void Session::WatchStop() {
  stop_timer_->expires_after(std::chrono::milliseconds(100));
  stop_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if ((o_.stop && o_.stop->load()) || !fatal_.empty()) {
      stopping_ = true;
      venue_->Stop();
      io_.stop();
      return;
    }
    if (KillSwitch() && live_.risk.cancel_on_kill && venue_->OpenCount() != 0)
      venue_->CancelAll("kill_switch");
    WatchStop();
  });
}

int Session::Run() {
  Load();
  ConnectBroker();
  Open();
  if (!o_.dry_run) broker_->StartUpdates(*this);
  if (live_.metrics_port > 0) {
    ops_ = std::make_unique<OpsServer>(io_, static_cast<unsigned short>(live_.metrics_port),
                                       [this](std::string_view p) { return Ops(p); });
    JsonFields f;
    f.Add("url", fmt::format("http://127.0.0.1:{}/metrics", ops_->Port()));
    Log("ops_server_listening", f.Take());
  }
  if (o_.once) {
    const int status = Cycle(o_.force, true);
    broker_->StopUpdates();
    FlushEquityCsv();
    return status;
  }
  // Service: stream today's prices (Alpaca; a replay's prices are the store's), check at the
  // configured time on every session.
  // The stream reads on a thread of its own (REST calls here never stall it); what it receives
  // is handled here, on the session's io_context.
  auto here = [this](std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); };
  if (alpaca_) {
    data_thread_ = std::make_unique<alpaca::IoThread>();
    data_ = std::make_unique<alpaca::DataStream>(
        data_thread_->Io(), wall_, live_.endpoints, creds_, cfg_.strategy.symbols,
        alpaca::DataStream::Handlers{
            [here, this] { here([this] { Log("data_stream_ready", ""); }); },
            [here, this](const alpaca::DataMessage& m) {
              using K = alpaca::DataMessage::Kind;
              const auto kind = m.kind == K::kBar          ? TodayBars::Kind::kMinute
                                : m.kind == K::kUpdatedBar ? TodayBars::Kind::kUpdatedMinute
                                : m.kind == K::kDailyBar   ? TodayBars::Kind::kDaily
                                : m.kind == K::kTrade      ? TodayBars::Kind::kTrade
                                                           : std::optional<TodayBars::Kind>{};
              if (!kind) return;
              here([this, k = *kind,
                    b = broker::DailyBar{m.bar.symbol, m.bar.t, m.bar.open, m.bar.high, m.bar.low,
                                         m.bar.close, m.bar.volume}] {
                source_->Today().Add(k, b);
                source_->OnStreamBar();
              });
            },
            [here, this](std::string_view kind, const std::string& detail) {
              here([this, k = std::string(kind), detail] {
                if (k == "malformed_message") ++m_.malformed;
                JsonFields f;
                f.Add("detail", detail);
                Log(k, f.Take(), spdlog::level::warn);
              });
            },
            [here, this](const std::string& why) { here([this, why] { fatal_ = why; }); },
            // On the stream's thread: the wall clock and the calendar, both safe to read there.
            [this] {
              const Timestamp now = Now();
              const Days d = NyDate(now);
              if (!IsSession(d)) return false;
              const int minute = NyMinuteOfDay(now);
              return minute >= 570 && minute < NyseCalendar::CloseMinutes(d).value_or(960);
            }},
        alpaca::StreamOptions{
            std::chrono::milliseconds(500), std::chrono::milliseconds(30'000),
            std::chrono::milliseconds(10'000),
            std::chrono::milliseconds(static_cast<long long>(live_.stale_data_s * 1000))});
    data_thread_->Run([this] { data_->Start(); });
  }
  // Reconcile now so /ready and the status reflect the account before the first check.
  {
    const auto clock = BrokerClock();
    LoadPrices(NyDate(clock.now));
    MakeLedger();
    Reconcile();
    const Days today = NyDate(clock.now);
    const auto last = journal_->LastCycle();
    venue_->Recover(last && last->day == today ? std::optional(last->id) : std::nullopt);
    WriteStatus("waiting");
  }
  if (o_.force) RunScheduledCycle(true, true);  // before the loop runs: blocking is safe
  // The heap a tick will use, faulted in now rather than on the path to an order.
  if (live_.prefault_mb > 0 && PrefaultHeap(static_cast<std::size_t>(live_.prefault_mb) << 20)) {
    JsonFields f;
    f.Add("mib", live_.prefault_mb);
    Log("heap_prefaulted", f.Take(), spdlog::level::debug);
  }
  stop_timer_.emplace(io_);
  WatchStop();
  if (replay_clock_) replay_clock_->Restart();  // start-up took no replayed time
  ScheduleNext();
  io_.restart();
  io_.run();
  stopping_ = true;
  venue_->Stop();
  if (data_) data_thread_->Run([this] { data_->Stop(); });
  broker_->StopUpdates();
  FlushEquityCsv();
  Log(
      "session_stopped", fatal_.empty() ? "" : [&] {
        JsonFields f;
        f.Add("reason", fatal_);
        return f.Take();
      }());
  if (!fatal_.empty()) throw Error(ErrorKind::kBroker, fatal_);
  return kLiveOk;
}

}  // namespace detail

using detail::LiveConfig;
using detail::ParseLiveConfig;
using detail::Session;

BrokerPortfolio ReadBrokerPortfolio(const std::string& config_path,
                                    const std::vector<std::string>& sets,
                                    const std::string& env_file, bool live) {
  ConfigDocument doc = ConfigDocument::FromFile(config_path);
  for (const auto& s : sets)
    doc.ApplySet(s);
  LiveOptions o;
  o.live = live;
  const LiveConfig c = ParseLiveConfig(doc, o);
  boost::asio::io_context io;
  WallClock clock(io);
  alpaca::Rest rest(clock, c.endpoints, alpaca::LoadCredentials(env_file));
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
  } catch (const broker::BrokerError& e) {
    throw Error(ErrorKind::kBroker, e.what());
  } catch (const alpaca::RestError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("Alpaca: {}", e.what()));
  } catch (const net::TransportError& e) {
    throw Error(ErrorKind::kBroker, fmt::format("cannot reach Alpaca: {}", e.what()));
  }
}

}  // namespace ballast::live
