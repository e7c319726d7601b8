#pragma once
/// The pre-trade risk gate (step 6 of a slice). It re-checks a plan against the account, whatever
/// produced it: no short sales, no buying beyond the cash in a cash account, no non-finite sizes;
/// and, when set, the operator's limits (a live session's `live.risk`): the kill switch, a
/// largest order, a daily turnover and a largest post-trade weight. A denial is an event, not an
/// error: denied orders are dropped and logged (`risk_denied`, one schema everywhere).

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

/// Operator limits (0 = none).
struct RiskLimits {
  double max_order_notional = 0.0;  ///< currency, per order
  double max_daily_turnover = 0.0;  ///< notional sent per session day / equity
  double max_weight = 0.0;          ///< a buy's post-trade weight of one symbol
};

class RiskGate {
 public:
  /// `max_leverage` > 1 allows buys to borrow up to that gross exposure / equity.
  explicit RiskGate(double slippage_bps, CommissionModel commission, double max_leverage = 1.0,
                    RiskLimits limits = {})
      : slippage_bps_(slippage_bps),
        commission_(commission),
        max_leverage_(max_leverage),
        limits_(limits) {}
  /// While on, every order is denied (`kill_switch`).
  void SetKillSwitch(bool on) noexcept { kill_ = on; }
  /// Notional already sent today before this plan (a live session reads it from its journal).
  void SetTurnoverToday(double notional) noexcept { turnover_today_ = notional; }
  [[nodiscard]] const RiskLimits& Limits() const noexcept { return limits_; }
  /// Removes orders that break a rule from `plan` and reports them in `denied` (cleared first).
  void Check(std::span<const double> quantities, double cash, Plan& plan,
             std::vector<RiskDenial>& denied) const;

 private:
  double slippage_bps_;
  CommissionModel commission_;
  double max_leverage_;
  RiskLimits limits_;
  bool kill_ = false;
  double turnover_today_ = 0.0;
};

}  // namespace ballast
