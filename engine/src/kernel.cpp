#include "ballast/engine/kernel.hpp"

#include <algorithm>
#include <cmath>

namespace ballast {

Kernel::Kernel(KernelParts parts, KernelOptions options)
    : p_(parts), options_(options), marks_(options.tradable, kNaN), benchmark_mark_(kNaN) {
  target_.weights.assign(options_.tradable, kNaN);
  plan_.orders.reserve(options_.tradable);
  p_.record.Reserve(p_.panel.Rows(), p_.record.weights_enabled ? options_.tradable : 0);
}

void Kernel::CheckData(std::size_t row, Days day) {
  const Timestamp t = p_.panel.Time(row);
  if (options_.check_exchange_calendar) {
    if (previous_day_) {
      for (Days d = NyseCalendar::NextTradingDay(*previous_day_); d < day;
           d = NyseCalendar::NextTradingDay(d)) {
        p_.record.AddEvent(DayToTimestamp(d), "market_data_error",
                           JsonFields()
                               .Add("kind", "missing_session")
                               .Add("detail", "NYSE was open but no portfolio symbol has a bar")
                               .Take());
      }
    }
    if (!NyseCalendar::IsTradingDay(day)) {
      const auto name = NyseCalendar::HolidayName(day);
      p_.record.AddEvent(t, "market_data_error",
                         JsonFields()
                             .Add("kind", "bar_on_closed_day")
                             .Add("detail", name.empty() ? std::string_view("weekend") : name)
                             .Take());
    }
  }
  for (std::size_t c = 0; c < options_.tradable; ++c) {
    if (!p_.panel.HasBar(row, c) && !std::isnan(marks_[c])) {
      p_.record.AddEvent(t, "market_data_error",
                         JsonFields()
                             .Add("kind", "missing_bar")
                             .Add("symbol", p_.panel.Symbols()[c])
                             .Add("valued_at", marks_[c])
                             .Take());
    }
  }
}

void Kernel::OnSlice(std::size_t row) {
  const Timestamp now = p_.panel.Time(row);
  const Days day = p_.panel.Day(row);
  denied_.clear();
  // (0) splits and dividends go ex before the open.
  ApplyActions(row, now);
  // (1) fills due at the open.
  p_.venue.OnSliceOpen(row);
  PayWithdrawal(now);
  // (2) mark to market.
  CheckData(row, day);
  const auto closes = p_.panel.CloseRow(row);
  for (std::size_t c = 0; c < options_.tradable; ++c) {
    const double px = closes[c];
    if (!std::isnan(px)) marks_[c] = px;
  }
  if (options_.benchmark >= 0) {
    const double b = closes[static_cast<std::size_t>(options_.benchmark)];
    if (!std::isnan(b)) benchmark_mark_ = b;
  }
  // (3) timers.
  p_.clock.FireDue(now);
  // (4) strategy.
  const bool first = !previous_day_.has_value();
  const double equity = p_.ledger.Equity(marks_);
  equity_at_mark_ = equity;
  StrategyContext ctx{
      p_.panel,    row,
      day,         options_.tradable,
      first,       previous_day_ ? &*previous_day_ : nullptr,
      p_.sessions, PortfolioView{p_.ledger.Quantities(), marks_, p_.ledger.Cash(), equity},
      p_.record};
  ctx.history_row = options_.history_row;
  ctx.max_weight = p_.planner.Options().max_weight;
  target_.kind = Target::Kind::kRebalance;
  target_.external_flow = 0.0;
  target_.invest_amount = 0.0;
  target_.withdraw_after_fills = 0.0;
  const bool margin_call = CheckMargin(day, now);
  // A further slice of a session already decided (live: the stream between checks) rechecks.
  const bool again = previous_day_ && *previous_day_ == day;
  bool decided = again ? p_.strategy.Recheck(ctx, target_) : p_.strategy.Decide(ctx, target_);
  if (margin_call && (!decided || target_.kind != Target::Kind::kRebalance)) {
    // Deleverage: scale every position so gross exposure is back at the target leverage (the
    // planner multiplies weights by `leverage`, so pass today's weights at leverage 1).
    const double equity_now = p_.ledger.Equity(marks_);
    const double exposure = p_.ledger.Exposure(marks_);
    const auto q = p_.ledger.Quantities();
    for (std::size_t c = 0; c < options_.tradable; ++c) {
      const double value = q[c] != 0.0 ? q[c] * marks_[c] : 0.0;
      target_.weights[c] = equity_now > 0.0 && exposure > 0.0 ? value / exposure : 0.0;
    }
    target_.kind = Target::Kind::kRebalance;
    target_.reason = "margin_call";
    target_.external_flow = 0.0;
    decided = true;
  }
  if (decided && !options_.book_external_flows) {
    // Live: deposits and withdrawals happen at the broker and arrive through reconciliation.
    target_.external_flow = 0.0;
    target_.withdraw_after_fills = 0.0;
  }
  if (decided) {
    pending_withdrawal_ += target_.withdraw_after_fills;
    if (target_.kind == Target::Kind::kFlowOnly) {
      if (target_.external_flow != 0.0) {
        p_.ledger.ExternalFlow(target_.external_flow);
        pending_flow_ += target_.external_flow;
      }
    } else {
      // (5)-(7) plan, check, send.
      Rebalance(row, now);
    }
  }
  if (!decided || target_.kind != Target::Kind::kRebalance) ReinvestDividends(row, now);
  dividends_.clear();
  p_.venue.OnSliceClose(row);
  PayWithdrawal(now);
  RecordSlice(row);
  previous_day_ = day;
}

double Kernel::BuyingPower() const noexcept {
  // Called by the venue on every buy fill: O(1). Equity is taken as of this slice's marking
  // (fills move it only by their costs).
  if (options_.max_leverage <= 1.0) return p_.ledger.Cash();
  return p_.ledger.Cash() + (options_.max_leverage - 1.0) * equity_at_mark_;
}

bool Kernel::CheckMargin(Days day, Timestamp now) {
  if (options_.interest_rate > 0.0 && previous_day_ && p_.ledger.Cash() < 0.0) {
    const double days = static_cast<double>((day - *previous_day_).count());
    p_.ledger.ChargeInterest(-p_.ledger.Cash() * options_.interest_rate * days / 365.0);
  }
  if (options_.maintenance <= 0.0) return false;
  const double exposure = p_.ledger.Exposure(marks_);
  if (exposure <= 0.0) return false;
  const double equity = p_.ledger.Equity(marks_);
  const double ratio = equity / exposure;
  if (ratio >= options_.maintenance) return false;
  p_.record.AddEvent(now, "margin_call",
                     JsonFields()
                         .Add("equity", equity)
                         .Add("exposure", exposure)
                         .Add("ratio", ratio)
                         .Add("maintenance", options_.maintenance)
                         .Take());
  return true;
}

void Kernel::PayWithdrawal(Timestamp now) {
  if (pending_withdrawal_ <= 0.0) return;
  const double paid = std::min(pending_withdrawal_, std::max(p_.ledger.Cash(), 0.0));
  if (paid > 0.0) {
    p_.ledger.ExternalFlow(-paid);
    pending_flow_ -= paid;
    pending_withdrawal_ -= paid;
  }
  if (pending_withdrawal_ > 1e-9 && p_.orders.OpenOrders() == 0) {
    p_.record.AddEvent(now, "capital_insufficient",
                       JsonFields()
                           .Add("requested", pending_withdrawal_ + paid)
                           .Add("available", paid)
                           .Add("reason", "withdrawal")
                           .Take());
    pending_withdrawal_ = 0.0;
  }
  if (pending_withdrawal_ <= 1e-9) pending_withdrawal_ = 0.0;
}

void Kernel::Rebalance(std::size_t row, Timestamp now) {
  if (target_.external_flow != 0.0) {
    p_.ledger.ExternalFlow(target_.external_flow);
    pending_flow_ += target_.external_flow;
  }
  const auto closes = p_.panel.CloseRow(row).first(options_.tradable);
  PlanInput in{
      p_.ledger.Quantities(), closes,           marks_,
      target_.weights,        p_.ledger.Cash(), target_.reason == std::string_view("initial")};
  ++decisions_;
  ++(target_.kind == Target::Kind::kInvest ? p_.record.investments : p_.record.rebalances);
  if (target_.kind == Target::Kind::kInvest) {
    const double cash = p_.ledger.Cash();
    if (target_.invest_amount > cash * (1.0 + 1e-12) + 1e-9) {
      p_.record.AddEvent(now, "capital_insufficient",
                         JsonFields()
                             .Add("requested", target_.invest_amount)
                             .Add("available", std::max(cash, 0.0))
                             .Add("reason", target_.reason)
                             .Take());
    }
    p_.planner.MakeInvestPlan(
        in, InvestInput{target_.invest_amount, target_.route, target_.min_investment}, plan_);
  } else {
    p_.planner.MakePlan(in, plan_);
  }
  p_.risk.Check(p_.ledger.Quantities(), p_.ledger.Cash(), plan_, denied_);
  const bool invest = target_.kind == Target::Kind::kInvest;
  JsonFields fields;
  fields.Add("decision", decisions_).Add("reason", target_.reason).Add("equity", plan_.equity);
  if (invest || target_.external_flow != 0.0) {
    fields.Add("contribution", target_.external_flow)
        .Add("amount", invest ? plan_.invested : plan_.buy_notional)
        .Add("route", target_.route == Route::kByWeight ? "by_weight" : "underweight_first")
        .Add("skipped_min_investment", static_cast<std::uint64_t>(plan_.skipped_min_investment));
  }
  fields.Add("orders", static_cast<std::uint64_t>(plan_.orders.size()))
      .Add("buy_notional", plan_.buy_notional)
      .Add("sell_notional", plan_.sell_notional)
      .Add("est_fees", plan_.est_fees)
      .Add("buy_scale", plan_.buy_scale)
      .Add("skipped_min_notional", static_cast<std::uint64_t>(plan_.skipped_min_notional));
  if (plan_.skipped_fee_exceeds_proceeds > 0) {
    fields.Add("skipped_fee_exceeds_proceeds",
               static_cast<std::uint64_t>(plan_.skipped_fee_exceeds_proceeds));
  }
  if (!invest) fields.Add("turnover", plan_.turnover);
  p_.record.AddEvent(now, invest ? "portfolio_investment" : "portfolio_rebalance", fields.Take());
  for (const auto& c : plan_.clips) {
    JsonFields clip;
    clip.Add("rule", c.rule);
    if (c.symbol != Clip::kNoSymbol) clip.Add("symbol", p_.panel.Symbols()[c.symbol]);
    p_.record.AddEvent(now, "constraint_clipped",
                       clip.Add("requested", c.requested).Add("allowed", c.allowed).Take());
  }
  for (const auto& d : denied_) {
    p_.record.AddEvent(now, "risk_denied",
                       JsonFields()
                           .Add("symbol", p_.panel.Symbols()[d.symbol])
                           .Add("side", ToString(d.side))
                           .Add("quantity", d.quantity)
                           .Add("reason", d.reason)
                           .Take());
  }
  p_.orders.Submit(plan_, decisions_, now, invest);
}

void Kernel::RecordSlice(std::size_t row) {
  RunRecord& r = p_.record;
  const double equity = p_.ledger.Equity(marks_);
  const auto totals = p_.orders.TakeSliceTotals();
  r.times.push_back(p_.panel.Time(row));
  r.equity.push_back(equity);
  r.cash.push_back(p_.ledger.Cash());
  r.interest_paid = p_.ledger.InterestPaid();
  r.dividends_received = p_.ledger.DividendsReceived();
  r.flows.push_back(pending_flow_);
  pending_flow_ = 0.0;
  r.benchmark.push_back(benchmark_mark_);
  r.bought.push_back(totals.bought);
  r.sold.push_back(totals.sold);
  r.fees.push_back(totals.fees);
  const auto q = p_.ledger.Quantities();
  const double inv = equity != 0.0 ? 1.0 / equity : 0.0;
  double gross = 0.0;
  if (r.weights_enabled) {
    for (std::size_t c = 0; c < options_.tradable; ++c) {
      const double w = q[c] != 0.0 ? q[c] * marks_[c] * inv : 0.0;
      r.weights.push_back(w);
      gross += w;
    }
  } else {
    gross = p_.ledger.Exposure(marks_) * inv;
  }
  r.max_gross_leverage = std::max(r.max_gross_leverage, gross);
}

void Kernel::OnSourceEnd() {
  // Orders still open when the data ends (next-open fills on the last slice) are canceled.
  for (const auto& s : p_.orders.Orders()) {
    if (!IsTerminal(s.status)) p_.venue.Cancel(s.order.id, "end_of_data");
  }
  finished_ = true;
}

}  // namespace ballast
