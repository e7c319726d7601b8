#pragma once
/// The pre-trade risk gate (step 6 of a slice). It re-checks a plan against the account, whatever
/// produced it: no short sales, no buying beyond the cash in a cash account, no non-finite sizes.
/// A denial is an event, not an error: denied orders are dropped and logged.

#include <span>
#include <string_view>
#include <vector>

#include "ballast/engine/planner.hpp"

namespace ballast {

struct RiskDenial {
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  double quantity = 0.0;
  std::string_view reason;
};

class RiskGate {
 public:
  /// `max_leverage` > 1 allows buys to borrow up to that gross exposure / equity.
  explicit RiskGate(double slippage_bps, CommissionModel commission, double max_leverage = 1.0)
      : slippage_bps_(slippage_bps), commission_(commission), max_leverage_(max_leverage) {}
  /// Removes orders that break a rule from `plan` and reports them in `denied` (cleared first).
  void Check(std::span<const double> quantities, double cash, Plan& plan,
             std::vector<RiskDenial>& denied) const;

 private:
  double slippage_bps_;
  CommissionModel commission_;
  double max_leverage_;
};

}  // namespace ballast
