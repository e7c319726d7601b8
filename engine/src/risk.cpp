#include "ballast/engine/risk.hpp"

#include <cmath>

namespace ballast {

void RiskGate::Check(std::span<const double> quantities, double cash, Plan& plan,
                     std::vector<RiskDenial>& denied) const {
  denied.clear();
  // Buying power: the cash, plus what a margin account may borrow.
  double available = cash + (max_leverage_ - 1.0) * plan.equity;
  double turnover = turnover_today_;
  const double equity = plan.equity;
  std::size_t keep = 0;
  for (std::size_t i = 0; i < plan.orders.size(); ++i) {
    const PlannedOrder& o = plan.orders[i];
    const double notional = o.quantity * o.price;
    std::string_view reason;
    if (!std::isfinite(o.quantity) || !(o.quantity > 0.0) || !(o.price > 0.0)) {
      reason = "invalid_order_size";
    } else if (kill_) {
      reason = "kill_switch";
    } else if (limits_.max_order_notional > 0.0 && notional > limits_.max_order_notional) {
      reason = "max_order_notional";
    } else if (limits_.max_daily_turnover > 0.0 &&
               turnover + notional > limits_.max_daily_turnover * equity * (1 + 1e-9)) {
      reason = "max_daily_turnover";
    } else if (limits_.max_weight > 0.0 && o.side == Side::kBuy && equity > 0.0 &&
               (quantities[o.symbol] + o.quantity) * o.price / equity > limits_.max_weight + 1e-9) {
      reason = "max_weight";
    } else if (o.side == Side::kSell) {
      if (o.quantity > quantities[o.symbol] * (1.0 + 1e-12) + 1e-12) {
        reason = "short_sale_not_allowed";
      } else {
        const double fp = SlippedPrice(o.price, false, slippage_bps_);
        available += o.quantity * fp - commission_.Fee(o.quantity, fp);
      }
    } else {
      const double fp = SlippedPrice(o.price, true, slippage_bps_);
      const double cost = o.quantity * fp + commission_.Fee(o.quantity, fp);
      // Same slack as the planner: a full fractional rebalance spends the cash to the last ulp.
      if (cost > available + 1e-9 * (std::abs(available) + cost) + 1e-9) {
        reason = "insufficient_cash";
      } else {
        available -= cost;
      }
    }
    if (reason.empty()) {
      turnover += notional;
      plan.orders[keep++] = o;
    } else {
      denied.push_back({o.symbol, o.side, o.quantity, reason});
    }
  }
  plan.orders.resize(keep);
}

}  // namespace ballast
