#include "ballast/strategies/rebalancing.hpp"

#include <algorithm>
#include <cmath>

namespace ballast::strategies {
namespace {

void CopyWeights(const std::vector<double>& from, Target& target) {
  std::copy(from.begin(), from.end(), target.weights.begin());
}

// Logs a drift check and returns its measure.
Drift CheckDrift(const StrategyContext& ctx, const std::vector<double>& weights,
                 const std::vector<double>& targets, std::string_view rule, bool rebalance) {
  const Drift d = MeasureDrift(weights, targets);
  if (!ctx.events.Enabled()) return d;  // summary-only runs: skip the per-symbol JSON
  ctx.events.AddEvent(DayToTimestamp(ctx.day), "rebalancing_check",
                      JsonFields()
                          .Add("rule", rule)
                          .Add("max_abs_drift", d.absolute)
                          .Add("max_rel_drift", d.relative)
                          .Add("decision", rebalance ? "rebalance" : "hold")
                          .AddRaw("drift", DriftJson(ctx, weights, targets))
                          .Take());
  return d;
}

}  // namespace

bool CalendarRebalance::Decide(const StrategyContext& ctx, Target& target) {
  const bool due = schedule_.IsDue(ctx.day, ctx.previous_session, ctx.sessions);
  // A model recomputes on scheduled days, and on every day until its first allocation (the first
  // scheduled day at or after its warm-up; the run's first session when it has weights there).
  const std::vector<double>* w = targets_.Today(ctx, due || ctx.first_slice);
  if (w == nullptr || !(due || ctx.first_slice)) return false;
  if (!allocated_) {
    target.reason = "initial";
  } else {
    target.reason = "scheduled";
    if (only_if_drift_) {
      CurrentWeights(ctx, ctx.portfolio.equity, current_);
      const bool rebalance = MeasureDrift(current_, *w).absolute >= *only_if_drift_;
      (void)CheckDrift(ctx, current_, *w, "only_if_drift", rebalance);
      if (!rebalance) return false;
    }
  }
  allocated_ = true;
  CopyWeights(*w, target);
  return true;
}

bool BuyAndHold::Decide(const StrategyContext& ctx, Target& target) {
  if (!ctx.first_slice) return false;
  target.reason = "initial";
  CopyWeights(weights_, target);
  return true;
}

bool Dca::Decide(const StrategyContext& ctx, Target& target) {
  const bool due = o_.schedule.IsDue(ctx.day, ctx.previous_session, ctx.sessions);
  const std::vector<double>* wp = targets_.Today(ctx, due || ctx.first_slice);
  const double flow = o_.funding_contribution ? o_.investment_amount : 0.0;
  if (wp == nullptr) {
    // A model without weights yet (warm-up, short window): contributions still arrive and wait
    // in cash for the first tranche the model can place.
    if (!due || ctx.first_slice || flow == 0.0) return false;
    target.kind = Target::Kind::kFlowOnly;
    target.reason = "contribution_waiting_for_model";
    target.external_flow = flow;
    return true;
  }
  const auto& w = *wp;
  CopyWeights(w, target);
  target.route = o_.route;
  target.min_investment = o_.min_investment_per_symbol;
  if (ctx.first_slice) {
    target.reason = "initial";
    allocated_ = true;
    if (o_.funding_contribution) return true;  // invest initial_cash at the targets
    target.kind = Target::Kind::kInvest;
    target.invest_amount = o_.investment_amount;
    return true;
  }
  const double cash = ctx.portfolio.cash;
  const double invested = ctx.portfolio.equity - cash;
  // With a rebalance threshold, drift is checked at every close (the source's daily analysis),
  // against the targets as constraints.max_weight lets them be reached: a winner that outgrew
  // its cap (DCA only buys) is trimmed, and a target above the cap is not chased every day.
  auto breached = [&] {
    CurrentWeights(ctx, invested, current_);
    const double cap = invested > 0.0 ? ctx.max_weight * ctx.portfolio.equity / invested : 0.0;
    reach_.resize(w.size());
    for (std::size_t i = 0; i < w.size(); ++i)
      reach_[i] = std::min(w[i], cap);
    const bool rebalance = MeasureDrift(current_, reach_).absolute > *o_.rebalance_threshold;
    (void)CheckDrift(ctx, current_, reach_, "rebalance_threshold", rebalance);
    return rebalance;
  };
  if (!due) {
    if (!o_.rebalance_threshold || !allocated_ || invested <= 0.0 || !breached()) return false;
    // Between investments: the invested part back to the targets, the cash left as it is.
    const double scale = ctx.portfolio.equity > 0.0 ? invested / ctx.portfolio.equity : 0.0;
    for (std::size_t i = 0; i < w.size(); ++i)
      target.weights[i] = w[i] * scale;
    target.reason = "threshold_rebalance";
    return true;
  }
  target.reason = allocated_ ? "scheduled" : "initial";
  allocated_ = true;
  // Contribution: the new money plus any cash left over (whole shares); cash funding: one tranche.
  const double amount = o_.funding_contribution ? cash + flow : o_.investment_amount;
  if (o_.rebalance_threshold) {
    if (breached()) {
      // A full rebalance of the invested part plus this period's money; idle cash beyond the
      // tranche (cash funding) stays cash.
      const double equity_after = ctx.portfolio.equity + flow;
      const double deploy = std::min(invested + std::min(amount, cash + flow), equity_after);
      const double scale = equity_after > 0.0 ? deploy / equity_after : 0.0;
      for (std::size_t i = 0; i < w.size(); ++i)
        target.weights[i] = w[i] * scale;
      target.reason = "threshold_rebalance";
      target.external_flow = flow;
      return true;
    }
  }
  target.kind = Target::Kind::kInvest;
  target.invest_amount = amount;
  target.external_flow = flow;
  return true;
}

double Band::HalfWidth(double t) const noexcept {
  double h = std::numeric_limits<double>::infinity();
  if (absolute) h = std::min(h, *absolute);
  if (relative) h = std::min(h, *relative * t);
  return h;
}

bool ThresholdRebalance::Decide(const StrategyContext& ctx, Target& target) {
  const bool due = o_.check.IsDue(ctx.day, ctx.previous_session, ctx.sessions);
  // A resumed run (a live session's next process) finds the portfolio already invested: it was
  // allocated before, so bands are checked rather than the targets bought again.
  if (!allocated_ && !ctx.first_slice) {
    for (std::size_t i = 0; i < ctx.tradable && !allocated_; ++i)
      allocated_ = ctx.portfolio.quantities[i] != 0.0;
  }
  // A model recomputes its targets on check days (and daily until its first allocation).
  const std::vector<double>* wp = targets_.Today(ctx, due || !allocated_);
  if (wp == nullptr) return false;
  const auto& w = *wp;
  if (due) {  // the bands of this check day are watched until it ends (Recheck)
    checked_ = w;
    checked_day_ = ctx.day;
    has_checked_ = true;
  }
  if (!allocated_) {
    allocated_ = true;
    target.reason = "initial";
    CopyWeights(w, target);
    return true;
  }
  if (!due) return false;
  return CheckBands(ctx, w, target);
}

bool ThresholdRebalance::Recheck(const StrategyContext& ctx, Target& target) {
  if (!has_checked_ || checked_day_ != ctx.day) return false;
  return CheckBands(ctx, checked_, target);
}

bool ThresholdRebalance::CheckBands(const StrategyContext& ctx, const std::vector<double>& w,
                                    Target& target) {
  CurrentWeights(ctx, ctx.portfolio.equity, current_);
  // A symbol breaches when |w - t| is beyond its band (either rule when both are given).
  bool breach = false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double h = o_.band.HalfWidth(w[i]);
    const bool out = std::abs(current_[i] - w[i]) > h || (w[i] == 0.0 && current_[i] > 0.0);
    breach = breach || out;
  }
  (void)CheckDrift(ctx, current_, w, "band", breach);
  if (!breach) return false;
  std::string breached = "[";
  if (ctx.events.Enabled()) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (std::abs(current_[i] - w[i]) > o_.band.HalfWidth(w[i]) ||
          (w[i] == 0.0 && current_[i] > 0.0)) {
        if (breached.size() > 1) breached += ',';
        AppendJsonString(breached, ctx.panel.Symbols()[i]);
      }
    }
    breached += ']';
  }
  ctx.events.AddEvent(DayToTimestamp(ctx.day), "allocation_drift",
                      JsonFields().AddRaw("symbols", breached).Take());
  target.reason = "drift";
  if (!o_.to_band_edge) {
    CopyWeights(w, target);
    return true;
  }
  // Band edge: breached positions go to the nearest edge of their band; positions inside their
  // bands are scaled pro rata to fund (or absorb) those trades, so the portfolio stays invested.
  double edge_sum = 0.0;
  double inside_sum = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double h = o_.band.HalfWidth(w[i]);
    const double diff = current_[i] - w[i];
    if (std::abs(diff) > h || (w[i] == 0.0 && current_[i] > 0.0)) {
      target.weights[i] = w[i] == 0.0 ? 0.0 : w[i] + (diff > 0 ? h : -h);
      edge_sum += target.weights[i];
    } else {
      target.weights[i] = kNaN;
      inside_sum += current_[i];
    }
  }
  const double rest = std::max(0.0, 1.0 - edge_sum);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (std::isnan(target.weights[i])) {
      target.weights[i] = inside_sum > 0.0 ? current_[i] * rest / inside_sum : w[i];
    }
  }
  target.reason = "drift_band_edge";
  return true;
}

}  // namespace ballast::strategies
