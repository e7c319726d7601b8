#include "ballast/engine/planner.hpp"

#include <cmath>

namespace ballast {
namespace {
// A full fractional rebalance spends exactly the available cash up to floating-point rounding;
// buys are only scaled when they exceed it by more than this relative amount.
constexpr double kCashSlack = 1e-12;
}  // namespace

double Planner::RoundQuantity(double raw) const noexcept {
  if (options_.shares == ShareMode::kFractional) return raw;
  const double lot = options_.lot_size;
  // 1e-9 absorbs representation error in w * V / P when it should land on a whole lot.
  return std::floor(raw / lot + 1e-9) * lot;
}

void Planner::MakePlan(const PlanInput& in, Plan& out) const {
  out.orders.clear();
  out.buy_scale = 1.0;
  out.skipped_min_notional = 0;
  out.buy_notional = 0.0;
  out.sell_notional = 0.0;
  out.est_fees = 0.0;

  const std::size_t n = in.quantities.size();
  double equity = in.cash;
  for (std::size_t i = 0; i < n; ++i) {
    if (in.quantities[i] != 0.0) equity += in.quantities[i] * in.marks[i];
  }
  out.equity = equity;

  // One pass sizes every target; trades below the minimum notional are dropped here.
  out.deltas.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double w = in.weights[i];
    const double p = in.prices[i];
    if (std::isnan(w) || std::isnan(p)) continue;
    const double delta = RoundQuantity(w * equity / p) - in.quantities[i];
    if (delta == 0.0) continue;
    if (std::abs(delta) * p < options_.min_trade_notional) {
      ++out.skipped_min_notional;
      continue;
    }
    out.deltas[i] = delta;
  }

  const double slip = options_.slippage_bps;
  double cash = in.cash;
  // Sells first: they fund the buys.
  for (std::size_t i = 0; i < n; ++i) {
    if (out.deltas[i] >= 0.0) continue;
    const double qty = -out.deltas[i];
    const double p = in.prices[i];
    const double fill_price = SlippedPrice(p, false, slip);
    const double fee = options_.commission.Fee(qty, fill_price);
    out.orders.push_back({static_cast<SymbolIndex>(i), Side::kSell, qty, p, fee});
    cash += qty * fill_price - fee;
    out.sell_notional += qty * p;
    out.est_fees += fee;
  }
  const std::size_t first_buy = out.orders.size();
  double buy_cost = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (out.deltas[i] <= 0.0) continue;
    const double qty = out.deltas[i];
    const double p = in.prices[i];
    const double fill_price = SlippedPrice(p, true, slip);
    const double fee = options_.commission.Fee(qty, fill_price);
    out.orders.push_back({static_cast<SymbolIndex>(i), Side::kBuy, qty, p, fee});
    buy_cost += qty * fill_price + fee;
  }

  const double available = std::max(cash, 0.0);
  if (first_buy < out.orders.size() && buy_cost > available * (1.0 + kCashSlack) + kCashSlack) {
    // Find the largest scale k in [0, 1] whose buys (rounded, with fees) fit the cash. Cost is
    // monotone in k, so bisection converges; 64 steps reach double precision.
    // Scaled quantities round strictly down (no tolerance), so a quantity that was scaled to fit
    // can never round back up to the unscaled one.
    auto scaled = [&](double q) {
      if (options_.shares == ShareMode::kFractional) return q;
      return std::floor(q / options_.lot_size) * options_.lot_size;
    };
    auto cost_at = [&](double k) {
      double total = 0.0;
      for (std::size_t j = first_buy; j < out.orders.size(); ++j) {
        const auto& o = out.orders[j];
        const double q = scaled(o.quantity * k);
        if (q <= 0.0) continue;
        const double fp = SlippedPrice(o.price, true, slip);
        total += q * fp + options_.commission.Fee(q, fp);
      }
      return total;
    };
    double lo = 0.0;
    double hi = 1.0;
    for (int it = 0; it < 64; ++it) {
      const double mid = 0.5 * (lo + hi);
      if (cost_at(mid) <= available) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    out.buy_scale = lo;
    std::size_t keep = first_buy;
    for (std::size_t j = first_buy; j < out.orders.size(); ++j) {
      PlannedOrder o = out.orders[j];
      o.quantity = scaled(o.quantity * lo);
      if (o.quantity <= 0.0 || o.quantity * o.price < options_.min_trade_notional) continue;
      o.est_fee = options_.commission.Fee(o.quantity, SlippedPrice(o.price, true, slip));
      out.orders[keep++] = o;
    }
    out.orders.resize(keep);
  }
  for (std::size_t j = first_buy; j < out.orders.size(); ++j) {
    const auto& o = out.orders[j];
    out.buy_notional += o.quantity * o.price;
    out.est_fees += o.est_fee;
    cash -= o.quantity * SlippedPrice(o.price, true, slip) + o.est_fee;
  }
  out.est_cash_after = cash;
}

}  // namespace ballast
