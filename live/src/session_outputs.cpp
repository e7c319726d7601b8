// What a session writes: events (events.jsonl, the journal, the log; redacted), trades.csv,
// signals, equity.csv and summary.json, and the ops endpoints' answers.
#include "session_impl.hpp"

namespace ballast::live::detail {

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
    backtests::AppendSignalsDb(out_ + "/signals.sqlite",
                               fmt::format("{}:{}", BrokerName(), cfg_.name), cfg_.strategy.symbols,
                               record_.signals, record_.recommendations, &acted);
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
  // equity.csv is rewritten whole: at most once a second (a replay writes thousands of
  // statuses), and at the end of the run (FlushEquityCsv).
  equity_dirty_ = true;
  if (std::chrono::steady_clock::now() - equity_written_ >= std::chrono::seconds(1))
    FlushEquityCsv();
  WriteSummary(day, cycle_state);
}

void Session::FlushEquityCsv() {
  if (!equity_dirty_ || !journal_) return;
  const std::string equity_csv = out_ + "/equity.csv";
  {
    std::ofstream eq(equity_csv + ".tmp", std::ios::trunc);
    const auto base = journal_->State("equity_base");
    eq << EquityCsv(journal_->EquityRows(), base ? std::stod(*base) : 0.0,
                    cfg_.benchmark_same_flows);
  }
  fs::rename(equity_csv + ".tmp", equity_csv);
  equity_dirty_ = false;
  equity_written_ = std::chrono::steady_clock::now();
}

void Session::WriteSummary(Days day, std::string_view cycle_state) {
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
      .Add("broker", BrokerName())
      .Add("mode", o_.live ? "live" : "paper")
      .Add("dry_run", o_.dry_run)
      .Add("session_day", FormatDate(day))
      .Add("cycle_state", cycle_state)
      .Add("equity", equity_)
      .Add("cash", ledger_ ? ledger_->Cash() : 0.0)
      .Add("dividends_received", journal_->IncomeTotal())
      .Add("drift", m_.drift)
      .Add("open_orders", static_cast<std::uint64_t>(venue_ ? venue_->OpenCount() : 0))
      .Add("journal", journal_->Path())
      .AddRaw("positions", positions);
  const std::string tmp = out_ + "/summary.json.tmp";
  std::ofstream(tmp) << "{" << s.Take() << "}\n";
  fs::rename(tmp, out_ + "/summary.json");
}

OpsReply Session::Ops(std::string_view path) {
  if (path == "/health") return {200, "text/plain; charset=utf-8", "ok\n"};
  const bool ready = reconciled_ && fatal_.empty() && !stopping_ && broker_ &&
                     broker_->UpdatesReady() && (!data_ || data_->Ready());
  if (path == "/ready") {
    if (ready) return {200, "text/plain; charset=utf-8", "ready\n"};
    // The first reason that holds, so an operator (or a probe's log) sees what to fix.
    std::string why;
    if (!fatal_.empty()) {
      why = fatal_;
    } else if (stopping_) {
      why = "stopping";
    } else if (!broker_ || !reconciled_) {
      why = "not reconciled with the broker yet";
    } else if (!broker_->UpdatesReady()) {
      why = broker_->DownReason();
      if (why.empty()) why = fmt::format("{}'s order updates are not connected", broker_->Name());
    } else {
      why = "the market data stream is not connected";
    }
    return {503, "text/plain; charset=utf-8", fmt::format("not ready: {}\n", why)};
  }
  if (path != "/metrics") return {404, "text/plain; charset=utf-8", "not found\n"};
  std::string b;
  auto metric = [&b](std::string_view name, std::string_view type, std::string_view help,
                     double value) {
    b += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                     JsonNumber(value));
  };
  const Timestamp now = Now();  // the data stream stamps data with the session's clock
  metric("ballast_orders_sent_total", "counter", "Orders accepted by the broker.",
         static_cast<double>(venue_ ? venue_->Count().sent : 0));
  metric("ballast_orders_rejected_total", "counter", "Orders rejected by the broker.",
         static_cast<double>(venue_ ? venue_->Count().rejected : 0));
  metric("ballast_orders_denied_total", "counter", "Orders stopped by the pre-trade risk gate.",
         static_cast<double>(m_.orders_denied));
  metric("ballast_fills_total", "counter", "Executions booked.",
         static_cast<double>(order_journal_ ? order_journal_->Booked() : 0));
  metric("ballast_cycles_total", "counter", "Decision cycles run.", static_cast<double>(m_.cycles));
  metric("ballast_rate_limited_total", "counter", "HTTP 429 replies.",
         static_cast<double>(m_.rate_limited));
  const broker::Broker::Stats bs = broker_ ? broker_->GetStats() : broker::Broker::Stats{};
  metric("ballast_reconnects_total", "counter", "Websocket reconnects (both streams).",
         static_cast<double>(bs.update_reconnects + (data_ ? data_->Reconnects() : 0)));
  metric("ballast_stream_messages_total", "counter", "Websocket messages received.",
         static_cast<double>(bs.update_messages + (data_ ? data_->Messages() : 0)));
  metric("ballast_malformed_messages_total", "counter", "Websocket messages dropped as malformed.",
         static_cast<double>(bs.update_malformed + (data_ ? data_->Malformed() : 0)));
  metric("ballast_broker_requests_total", "counter", "Requests made to the broker.",
         static_cast<double>(bs.requests));
  metric("ballast_broker_outages_total", "counter",
         "Times the broker's order updates went down (a dropped connection, IB's 1100).",
         static_cast<double>(bs.outages));
  metric("ballast_last_data_age_seconds", "gauge", "Seconds since the last market data message.",
         data_ && data_->LastData() ? static_cast<double>(now - data_->LastData()) / 1e9 : -1.0);
  metric("ballast_equity", "gauge", "Account equity at the last marks.", m_.equity);
  metric("ballast_drift", "gauge", "Half the L1 distance between weights and targets.", m_.drift);
  metric("ballast_open_orders", "gauge", "Orders sent and not final.",
         static_cast<double>(venue_ ? venue_->OpenCount() : 0));
  metric("ballast_ready", "gauge", "1 when connected, authenticated and reconciled.",
         ready ? 1.0 : 0.0);
  return {200, "text/plain; version=0.0.4; charset=utf-8", b};
}

}  // namespace ballast::live::detail
