#include "ballast/strategies/calendar_rebalance.hpp"

#include <algorithm>

namespace ballast::strategies {

bool CalendarRebalance::Decide(const StrategyContext& ctx, Target& target) {
  if (ctx.first_slice) {
    target.reason = "initial";
  } else if (schedule_.IsDue(ctx.day, ctx.previous_session, ctx.sessions)) {
    target.reason = "scheduled";
  } else {
    return false;
  }
  std::copy(weights_.begin(), weights_.end(), target.weights.begin());
  return true;
}

bool BuyAndHold::Decide(const StrategyContext& ctx, Target& target) {
  if (!ctx.first_slice) return false;
  target.reason = "initial";
  std::copy(weights_.begin(), weights_.end(), target.weights.begin());
  return true;
}

}  // namespace ballast::strategies
