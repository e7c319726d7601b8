#include "ballast/strategies/cash_flows.hpp"

#include <algorithm>
#include <cmath>

namespace ballast::strategies {

std::vector<CashFlowRule> ParseCashFlows(const ConfigNode& node) {
  if (!node.IsArray()) node.Fail("an array of {\"amount\": x, \"frequency\": ...}");
  std::vector<CashFlowRule> rules;
  for (std::size_t i = 0; i < node.Size(); ++i) {
    const ConfigNode e = node.Index(i);
    e.ExpectKeys({"amount", "frequency", "on", "from", "until"});
    CashFlowRule r;
    const ConfigNode amount = e.At("amount");
    r.amount = amount.Number();
    if (r.amount == 0.0) amount.Fail("a non-zero amount (> 0 contribution, < 0 withdrawal)");
    r.schedule = Schedule::Parse(e);
    for (auto [key, slot] : {std::pair{"from", &r.from}, std::pair{"until", &r.until}}) {
      if (auto d = e.Find(key)) {
        *slot = ParseIsoDate(d->String());
        if (!*slot) d->Fail("a date YYYY-MM-DD");
      }
    }
    if (r.from && r.until && *r.until < *r.from) e.At("until").Fail("a date on or after \"from\"");
    rules.push_back(r);
  }
  return rules;
}

bool WithCashFlows::Decide(const StrategyContext& ctx, Target& target) {
  // Flows fall on the first (or last) session of each later period; the run's first session
  // is funded by initial_cash.
  double contribution = 0.0;
  double withdrawal = 0.0;
  for (auto& r : rules_) {
    const bool due = r.schedule.IsDue(ctx.day, ctx.previous_session, ctx.sessions);
    if (!due || ctx.first_slice || (r.from && ctx.day < *r.from) || (r.until && ctx.day > *r.until))
      continue;
    (r.amount > 0.0 ? contribution : withdrawal) += std::abs(r.amount);
  }
  const bool inner = inner_->Decide(ctx, target);
  if (contribution == 0.0 && withdrawal == 0.0) return inner;
  ctx.events.AddEvent(
      DayToTimestamp(ctx.day), "cash_flow",
      JsonFields().Add("contribution", contribution).Add("withdrawal", withdrawal).Take());
  if (!inner) {
    target.kind = Target::Kind::kFlowOnly;
    target.reason = "cash_flow";
  }
  target.external_flow += contribution;
  if (withdrawal == 0.0) return true;

  const double cash = ctx.portfolio.cash + target.external_flow;
  const double equity = ctx.portfolio.equity + target.external_flow;
  if (target.kind == Target::Kind::kRebalance) {
    // The strategy rebalances today: size its targets on the value left after the withdrawal.
    const double keep = equity > 0.0 ? std::max(0.0, equity - withdrawal) / equity : 0.0;
    for (double& w : target.weights) {
      if (!std::isnan(w)) w *= keep;
    }
    target.withdraw_after_fills = withdrawal;
    return true;
  }
  if (cash >= withdrawal) {
    target.external_flow -= withdrawal;  // paid from cash now
    return true;
  }
  // Not enough cash and no rebalance today: sell every position down pro rata to raise the
  // shortfall, and pay the withdrawal once the sells have filled. (A DCA investment due today is
  // skipped.)
  const double invested = equity - cash;
  const double k = invested > 0.0 ? std::max(0.0, 1.0 - (withdrawal - cash) / invested) : 0.0;
  target.kind = Target::Kind::kRebalance;
  target.reason = "withdrawal";
  const auto& p = ctx.portfolio;
  for (std::size_t i = 0; i < ctx.tradable; ++i) {
    const double value = p.quantities[i] * p.marks[i];
    target.weights[i] = equity > 0.0 ? value * k / equity : 0.0;
  }
  target.withdraw_after_fills = withdrawal;
  return true;
}

}  // namespace ballast::strategies
