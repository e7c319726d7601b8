// One decision cycle: the broker's clock, prices, reconciliation (reconcile.cpp), recovery, the
// decision (or its resumption), the preview and pre-trade limits, then sending and finishing.
#include "session_impl.hpp"

namespace ballast::live::detail {

void Session::LoadPrices(Days today) {
  // The first load reads live.history_days of history (a replay: all its store has before the
  // start, as the backtest's panel); later ones only the last few sessions, to append today's
  // row and take revised bars.
  const Days from = panel_ && panel_->Rows() > 0
                        ? panel_->Day(panel_->Rows() - 1) - std::chrono::days(7)
                    : live_.history_days > 0 ? today - std::chrono::days(live_.history_days)
                                             : Days{};
  std::vector<broker::DailyBar> bars;
  try {
    bars = market_->GetDailyBars(symbols_, from, std::nullopt);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kData, fmt::format("daily bars from Alpaca: {}", e.what()));
  }
  // One panel for the whole process (the kernel reads it): rows are session dates (daily bars
  // are stamped at New York midnight); a new date is appended, a known one updated in place (a
  // newer bar of the day replaces the older one).
  std::set<Days> dates;
  for (const auto& b : bars)
    dates.insert(NyDate(b.t));
  for (const Days d : source_->Today().DaysSeen())
    dates.insert(d);
  if (IsSession(today)) dates.insert(today);  // else the last session's row holds the marks
  if (!panel_) {
    panel_ = std::make_shared<BarPanel>(symbols_);
    source_->SetPanel(panel_);
  }
  std::map<Days, std::size_t> row_of;
  for (std::size_t r = 0; r < panel_->Rows(); ++r)
    row_of[panel_->Day(r)] = r;
  // (A plain Days and a flag: GCC 12 warns on optional<Days> here.)
  const bool has_rows = panel_->Rows() > 0;
  const Days last_day = has_rows ? panel_->Day(panel_->Rows() - 1) : Days{};
  for (const Days d : dates) {
    if (d > today || (has_rows && d <= last_day)) continue;
    row_of[d] = panel_->AppendRow(DayToTimestamp(d));
  }
  auto put = [&](const broker::DailyBar& b) {
    const auto col = panel_->IndexOf(b.symbol);
    const auto it = row_of.find(NyDate(b.t));
    if (col < 0 || it == row_of.end()) return;
    panel_->SetBar(it->second, static_cast<std::size_t>(col), b.open, b.high, b.low, b.close,
                   b.volume);
  };
  std::map<std::string, broker::DailyBar> rest_today;  // the day so far, as REST has it
  for (const auto& b : bars) {
    put(b);
    if (NyDate(b.t) == today) rest_today[b.symbol] = b;
  }
  // Today's bar from the stream (its daily bar, every minute, the freshest price) over REST's.
  for (const auto& sym : symbols_) {
    const auto base = rest_today.find(sym);
    if (const auto b =
            source_->Today().Day(sym, today, base != rest_today.end() ? &base->second : nullptr))
      put(*b);
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

void Session::MakeLedger() {
  if (ledger_) return;
  ledger_ = std::make_unique<Ledger>(tradable_, 0.0, /*allow_borrowing=*/true);
  // The one order lifecycle of the process: the kernel's orders and those an earlier process
  // left open (adopted by the venue) live here.
  record_.events_enabled = true;
  record_.weights_enabled = false;
  orders_ = std::make_unique<OrderManager>(*venue_, *ledger_, record_, cfg_.strategy.symbols, tag_);
  orders_->SetJournal(order_journal_.get());
}

void Session::CarryDeferred(Days today) {
  // A decision of an earlier session whose orders never left (deferred all day: stream down,
  // market closed) is not a rebalance done: its period is decided again today.
  const auto last = journal_->LastCycle();
  if (!last || last->day >= today || last->state != "planned") return;
  const auto before = journal_->State("decision_before").value_or("");
  journal_->SetState("last_decision_day", before);
  kernel_.reset();  // rebuilt at this cycle's decision, resumed from the day before the carried one
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

int Session::Cycle(bool force, bool blocking) {
  ++m_.cycles;
  const auto clock = BrokerClock();
  const Days today = NyDate(clock.now);
  const bool trading_day = IsSession(today);
  LoadPrices(today);
  MakeLedger();
  Reconcile();
  {
    const auto last = journal_->LastCycle();
    venue_->Recover(last && last->day == today ? std::optional(last->id) : std::nullopt);
  }
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
      if (const JournalOrder* open = venue_->Open(o.client_order_id)) planned.push_back(*open);
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
      // The gate's schema (symbol, side, quantity, reason), plus the order's id.
      JsonFields f;
      f.Add("symbol", o.symbol)
          .Add("side", o.side)
          .Add("quantity", o.qty)
          .Add("reason", "kill_switch")
          .Add("client_order_id", o.client_order_id);
      Log("risk_denied", f.Take(), spdlog::level::warn);
      venue_->Drop(o.client_order_id, "kill_switch");
    }
    if (live_.risk.cancel_on_kill) venue_->CancelAll("kill_switch");
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
    // One kernel (strategy, planner, risk gate, order manager) for the whole process, fed one
    // slice per session day. --force decides as on a first day (allocate to targets);
    // otherwise the schedule compares today with the last session the strategy saw, from the
    // journal.
    if (!kernel_) {
      planner_ = std::make_unique<Planner>(backtests::MakePlannerOptions(cfg_));
      // The operator's live.risk limits are rules of the engine's risk gate (step 6 of the
      // slice), as its short-sale and cash checks are.
      risk_ = std::make_unique<RiskGate>(cfg_.slippage_bps, cfg_.commission, cfg_.max_leverage,
                                         live_.risk.limits);
      strategy_ = cfg_.strategy.make();
      kernel_ = std::make_unique<Kernel>(
          KernelParts{*panel_, *sessions_, kernel_clock_, *strategy_, *planner_, *risk_, *venue_,
                      *orders_, *ledger_, record_},
          KernelOptions{tradable_, bench_col_, false, 0, cfg_.leverage, cfg_.max_leverage, 0.0,
                        cfg_.maintenance,
                        /*book_external_flows=*/broker_->SupportsTransfers()});
      if (has_prev && !force) kernel_->Resume(prev_day);
    }
    if (has_prev && prev_day == today && !force) {
      JsonFields f;
      f.Add("day", FormatDate(today)).Add("reason", "already decided today");
      Log("cycle_skipped", f.Take());
      FlushKernelEvents();
      WriteStatus("already_decided");
      return kLiveOk;
    }
    cycle_id = journal_->BeginCycle(today, force ? "forced" : "scheduled", Now());
    // Returns are measured from the equity before the session's first decision (a backtest's
    // initial cash).
    if (!o_.dry_run && !journal_->State("equity_base")) {
      journal_->SetState("equity_base", JsonNumber(equity_));
    }
    const bool kill = KillSwitch();
    risk_->SetKillSwitch(kill);
    risk_->SetTurnoverToday(journal_->SentNotional(today));
    source_->Check(row);  // the kernel's slice, through the session's EventSource
    if (const auto ended = PlanDecision(cycle_id, today, prev_text, kill, planned)) return *ended;
  }
  return SendDecision(cycle_id, planned, blocking);
}

void Session::OnSlice(std::size_t row) {
  if (source_->Current() == LiveSource::Trigger::kWatch) {
    WatchCycle(row);
  } else {
    kernel_->OnSlice(row);
  }
}

std::optional<int> Session::PlanDecision(std::int64_t cycle_id, Days today,
                                         const std::optional<std::string>& prev_text, bool kill,
                                         std::vector<JournalOrder>& planned) {
  {
    FlushKernelEvents();  // with the gate's risk_denied events
    // A strategy's contribution or withdrawal: booked by the kernel, moved at a broker that
    // simulates transfers (journaled first: the account is rebuilt from the journal). At a real
    // broker the owner moves the money and the next reconcile sees it.
    const double flow = record_.flows.empty() || !broker_->SupportsTransfers() || o_.dry_run
                            ? 0.0
                            : record_.flows.back();
    broker_cash_ += flow;  // what the orders below may spend
    // The decision is journaled as made together with its orders (or its "nothing due"), so a
    // crash before that decides the day again. A dry run changes no schedule state: the real
    // run later that day decides afresh.
    auto decided = [&] {
      if (o_.dry_run) return;
      if (flow != 0.0) {
        journal_->SetFlow(today, flow);
        broker_->Transfer(flow);
      }
      journal_->SetState("decision_before", prev_text.value_or(""));
      journal_->SetState("last_decision_day", FormatDate(today));
    };
    auto queued = venue_->Prepare(AccountView{broker_cash_, equity_, broker_qty_, marks_});
    const std::vector<RiskDenial> denials = kernel_->LastDenials();
    if (queued.empty() && denials.empty()) {
      TrackSignals({});
      journal_->SetCycleState(cycle_id, o_.dry_run ? "dry_run" : "nothing_due");
      decided();
      JsonFields f;
      f.Add("cycle", cycle_id).Add("day", FormatDate(today)).Add("drift", Drift());
      Log("cycle_nothing_due", f.Take());
      WriteStatus("nothing_due");
      return kLiveOk;
    }
    const Target& t = kernel_->LastTarget();
    for (std::size_t c = 0; c < tradable_; ++c)
      targets_[c] = t.weights[c];
    std::string tj;
    for (std::size_t c = 0; c < tradable_; ++c)
      tj +=
          (c ? "," : "") + (std::isnan(targets_[c]) ? std::string("nan") : JsonNumber(targets_[c]));
    if (!o_.dry_run) journal_->SetState("targets", tj);

    // Preview, then the pre-trade limits, then the journal: all before the first order leaves.
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
    // The orders to send, then the ones the risk gate denied (journaled and shown, not sent).
    struct Row {
      SymbolIndex symbol;
      Side side;
      double quantity;
      OrderId id;  // 0: denied, never an engine order
      std::string deny;
      double limit_price = 0.0;
    };
    std::vector<Row> rows;
    for (const auto& q : queued)
      rows.push_back({q.symbol, q.side, q.quantity, q.id, {}, q.limit_price});
    const RiskLimits& limits = risk_->Limits();
    for (const auto& d : denials) {
      std::string why(d.reason);
      if (d.reason == "max_order_notional") why += " " + JsonNumber(limits.max_order_notional);
      if (d.reason == "max_daily_turnover") why += " " + JsonNumber(limits.max_daily_turnover);
      if (d.reason == "max_weight") why += " " + JsonNumber(limits.max_weight);
      rows.push_back({d.symbol, d.side, d.quantity, 0, why});
    }
    for (const auto& q : rows) {
      const std::string& sym = symbols_[q.symbol];
      const double px = marks_[q.symbol];
      const double notional = q.quantity * px;
      const double before = ledger_->Quantity(q.symbol) * px / equity_;
      // A denied order's "after" is what it would have made the weight.
      const double held_after =
          q.id ? after_qty[q.symbol]
               : ledger_->Quantity(q.symbol) + (q.side == Side::kBuy ? q.quantity : -q.quantity);
      const double after = held_after * px / equity_;
      if (q.id)
        est_costs += cfg_.commission.Fee(q.quantity, px) + notional * cfg_.slippage_bps / 1e4;
      const std::string& deny = q.deny;
      JournalOrder jo;
      jo.client_order_id = Coid(cycle_id, today, sym);
      jo.cycle = cycle_id;
      jo.symbol = sym;
      jo.side = std::string(ToString(q.side));
      jo.qty = q.quantity;
      jo.ref_price = px;
      jo.limit_price = q.limit_price;
      jo.state = !deny.empty() ? "denied" : o_.dry_run ? "dry_run" : "planned";
      jo.reason = deny;
      if (q.id) venue_->Bind(jo.client_order_id, q.id);
      planned.push_back(jo);
      table += fmt::format(
          "  {:<8} {:<4} {:>12.4f} {:>10.2f} {:>12.2f} {:>7.2f}% {:>7.2f}% {:>7}  {}\n", sym,
          ToString(q.side), q.quantity, px, notional, before * 100, after * 100,
          std::isnan(targets_[q.symbol]) ? std::string("-")
                                         : fmt::format("{:.2f}%", targets_[q.symbol] * 100),
          !deny.empty()         ? "DENIED " + deny
          : q.limit_price > 0.0 ? fmt::format("ok, limit {}", JsonNumber(q.limit_price))
                                : std::string("ok"));
      JsonFields pj;
      pj.Add("client_order_id", jo.client_order_id)
          .Add("symbol", sym)
          .Add("side", ToString(q.side))
          .Add("qty", q.quantity)
          .Add("price", px)
          .Add("type", ToString(q.limit_price > 0.0 ? OrderType::kLimit : OrderType::kMarket))
          .Add("limit_price", q.limit_price)
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
    decided();
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
        ++m_.orders_denied;  // the gate's risk_denied event is already logged
      } else if (jo.state == "dry_run") {
        venue_->Drop(jo.client_order_id, "dry_run");
      }
    }
    if (kill && live_.risk.cancel_on_kill) venue_->CancelAll("kill_switch");
  }
  return std::nullopt;
}

int Session::SendDecision(std::int64_t cycle_id, std::vector<JournalOrder>& planned,
                          bool blocking) {
  if (o_.dry_run) {
    journal_->SetCycleState(cycle_id, "dry_run");
    WriteStatus("dry_run");
    return kLiveOk;
  }
  journal_->SetCycleState(cycle_id, "sending");
  if (!broker_->UpdatesReady() && blocking) {
    // Orders go out only while the broker's update stream is up (so every fill is seen).
    WaitForOrders(0.0);
  }
  if (!broker_->UpdatesReady()) {
    journal_->SetCycleState(cycle_id, "planned", "trade stream down; orders not sent");
    JsonFields f;
    f.Add("cycle", cycle_id).Add("reason", "trade stream not connected; orders kept for resume");
    Log("cycle_deferred", f.Take(), spdlog::level::warn);
    WriteStatus("deferred");
    return kLiveIncomplete;
  }
  SendOrders(planned, blocking);
  if (!blocking && (venue_->OpenCount() != 0 || venue_->HasPendingBuys())) {
    // The cycle finishes when its last order is final (OnOrderUpdate), or at the fill timeout.
    unfinished_cycle_ = cycle_id;
    finish_timer_.emplace(io_);
    finish_timer_->expires_after(
        std::chrono::milliseconds(static_cast<long long>(live_.fill_timeout_s * 1000)));
    finish_timer_->async_wait([this, cycle_id](const boost::system::error_code& ec) {
      if (ec || unfinished_cycle_ != cycle_id) return;
      try {
        (void)FinishCycle(cycle_id, venue_->OpenCount() != 0);
      } catch (const std::exception& e) {
        JsonFields ef;
        ef.Add("detail", e.what());
        Log("cycle_error", ef.Take(), spdlog::level::err);
      }
    });
    return kLiveOk;
  }
  const bool done = WaitForOrders(live_.fill_timeout_s);
  return FinishCycle(cycle_id, !done);
}

int Session::FinishCycle(std::int64_t cycle_id, bool timed_out) {
  unfinished_cycle_ = 0;
  if (finish_timer_) finish_timer_->cancel();
  if (timed_out) venue_->Poll();
  if (venue_->HasPendingBuys() && !venue_->SellsOpen()) venue_->SendPendingBuys();
  venue_->AbandonPendingBuys("the sells that fund it did not fill in time");
  bool failed = false;
  for (const auto& jo : journal_->CycleOrders(cycle_id)) {
    if (jo.state != "filled") failed = true;
  }
  const std::string state = venue_->OpenCount() != 0 ? "incomplete" : failed ? "failed" : "done";
  journal_->SetCycleState(cycle_id, state);
  // The broker is the source of truth: re-read what it holds after the fills.
  Reconcile();
  equity_ = ledger_->Equity(marks_);
  JsonFields f;
  f.Add("cycle", cycle_id)
      .Add("state", state)
      .Add("equity", equity_)
      .Add("cash", ledger_->Cash())
      .Add("drift", Drift())
      .Add("open_orders", static_cast<std::uint64_t>(venue_->OpenCount()));
  Log("cycle_finished", f.Take(), state == "done" ? spdlog::level::info : spdlog::level::warn);
  WriteStatus(state);
  return state == "done" ? kLiveOk : kLiveIncomplete;
}

}  // namespace ballast::live::detail
