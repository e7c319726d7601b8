#include "ballast/engine/planner.hpp"

#include <algorithm>
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

void Planner::Reset(Plan& out, const PlanInput& in) const {
  out.orders.clear();
  out.buy_scale = 1.0;
  out.skipped_min_notional = 0;
  out.skipped_fee_exceeds_proceeds = 0;
  out.skipped_min_investment = 0;
  out.invested = 0.0;
  out.buy_notional = 0.0;
  out.sell_notional = 0.0;
  out.est_fees = 0.0;
  out.turnover = 0.0;
  out.clips.clear();
  double equity = in.cash;
  for (std::size_t i = 0; i < in.quantities.size(); ++i) {
    if (in.quantities[i] != 0.0) equity += in.quantities[i] * in.marks[i];
  }
  out.equity = equity;
}

void Planner::ApplyWeightRules(const PlanInput& in, Plan& out) const {
  const std::size_t n = in.weights.size();
  out.weights.assign(in.weights.begin(), in.weights.end());
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double& w = out.weights[i];
    if (std::isnan(w)) continue;
    w *= options_.leverage;
    if (w > options_.max_weight + 1e-12) {
      out.clips.push_back({static_cast<SymbolIndex>(i), "max_weight", w, options_.max_weight});
      w = options_.max_weight;  // the excess stays in cash
    }
    sum += w;
  }
  const double investable = 1.0 - options_.cash_reserve;
  if (options_.cash_reserve > 0.0 && sum > investable + 1e-12) {
    out.clips.push_back({Clip::kNoSymbol, "cash_reserve", sum, investable});
    for (double& w : out.weights) {
      if (!std::isnan(w)) w *= investable / sum;
    }
  }
}

void Planner::FitBuys(Plan& out, std::size_t first_buy, double buy_cost, double available) const {
  available = std::max(available, 0.0);
  if (first_buy >= out.orders.size() || buy_cost <= available * (1.0 + kCashSlack) + kCashSlack)
    return;
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
      const double fp = BuyPrice(o.price);
      total += q * fp + options_.commission.Fee(q, fp);
    }
    return total;
  };
  // The largest scale k in [0, 1] whose buys (rounded, with fees) fit. Cost is monotone in k, so
  // bisection converges; 64 steps reach double precision.
  double lo = 0.0;
  double hi = 1.0;
  for (int it = 0; it < 64; ++it) {
    const double mid = 0.5 * (lo + hi);
    (cost_at(mid) <= available ? lo : hi) = mid;
  }
  out.buy_scale = lo;
  std::size_t keep = first_buy;
  for (std::size_t j = first_buy; j < out.orders.size(); ++j) {
    PlannedOrder o = out.orders[j];
    o.quantity = scaled(o.quantity * lo);
    if (o.quantity <= 0.0 || o.quantity * o.price < options_.min_trade_notional) continue;
    o.est_fee = options_.commission.Fee(o.quantity, BuyPrice(o.price));
    out.orders[keep++] = o;
  }
  out.orders.resize(keep);
}

double LimitPrice(double reference, Side side, double offset_bps) noexcept {
  const double raw = reference * (1.0 + (side == Side::kBuy ? offset_bps : -offset_bps) / 1e4);
  const double per_unit = reference >= 1.0 ? 100.0 : 10000.0;  // ticks per dollar
  // 1e-9 keeps a price already on the tick (e.g. 101.25 * 1.0) from moving a tick; dividing by
  // ticks per dollar gives the nearest double to the decimal price (101.26, not
  // 101.26000000000001).
  const double ticks =
      side == Side::kBuy ? std::ceil(raw * per_unit - 1e-9) : std::floor(raw * per_unit + 1e-9);
  return std::max(ticks, 1.0) / per_unit;
}

double Planner::BuyPrice(double price) const noexcept {
  // A limit buy fills at its limit or better, and a broker holds cash for it at the limit.
  return options_.order_type == OrderType::kLimit
             ? LimitPrice(price, Side::kBuy, options_.limit_offset_bps)
             : SlippedPrice(price, true, options_.slippage_bps);
}

void Planner::Finish(Plan& out, std::size_t first_buy, double cash) const {
  if (options_.order_type == OrderType::kLimit) {
    for (auto& o : out.orders)
      o.limit_price = LimitPrice(o.price, o.side, options_.limit_offset_bps);
  }
  for (std::size_t j = first_buy; j < out.orders.size(); ++j) {
    const auto& o = out.orders[j];
    out.buy_notional += o.quantity * o.price;
    out.est_fees += o.est_fee;
    cash -= o.quantity * BuyPrice(o.price) + o.est_fee;
  }
  out.est_cash_after = cash;
}

void Planner::MakePlan(const PlanInput& in, Plan& out) const {
  Reset(out, in);
  const std::size_t n = in.quantities.size();
  const double equity = out.equity;

  ApplyWeightRules(in, out);
  // One pass sizes every target; trades below the minimum notional are dropped here.
  out.deltas.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double w = out.weights[i];
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
  // Turnover cap: scale every trade by the same factor (whole shares round toward zero, so the
  // cap holds exactly).
  double traded = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    traded += std::abs(out.deltas[i]) * (std::isnan(in.prices[i]) ? 0.0 : in.prices[i]);
  const double turnover = equity > 0.0 ? traded / (2.0 * equity) : 0.0;
  if (options_.max_turnover > 0.0 && !in.initial && turnover > options_.max_turnover) {
    const double k = options_.max_turnover / turnover;
    out.clips.push_back({Clip::kNoSymbol, "max_turnover", turnover, options_.max_turnover});
    for (double& d : out.deltas) {
      if (d == 0.0) continue;
      const double scaled = d * k;
      d = options_.shares == ShareMode::kFractional
              ? scaled
              : std::copysign(std::floor(std::abs(scaled) / options_.lot_size) * options_.lot_size,
                              scaled);
    }
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
    if (fee >= qty * fill_price) {
      // A minimum or fixed fee larger than the sale: selling would take cash, not bring it (and
      // could take a cash account below zero).
      ++out.skipped_fee_exceeds_proceeds;
      out.deltas[i] = 0.0;
      continue;
    }
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
    const double fill_price = BuyPrice(p);
    const double fee = options_.commission.Fee(qty, fill_price);
    out.orders.push_back({static_cast<SymbolIndex>(i), Side::kBuy, qty, p, fee});
    buy_cost += qty * fill_price + fee;
  }
  // Buying power: cash after the sells, plus what a margin account may borrow.
  FitBuys(out, first_buy, buy_cost, cash + (options_.max_leverage - 1.0) * equity);
  Finish(out, first_buy, cash);
  double plan_traded = 0.0;
  for (const auto& o : out.orders)
    plan_traded += o.quantity * o.price;
  out.turnover = equity > 0.0 ? plan_traded / (2.0 * equity) : 0.0;
}

void Planner::MakeInvestPlan(const PlanInput& in, const InvestInput& invest, Plan& out) const {
  Reset(out, in);
  const std::size_t n = in.quantities.size();
  out.weights.assign(in.weights.begin(), in.weights.end());
  // Keep the cash reserve: spend at most the cash above reserve * value.
  const double spendable = std::max(in.cash - options_.cash_reserve * out.equity, 0.0);
  if (options_.cash_reserve > 0.0 && invest.amount > spendable + 1e-9) {
    out.clips.push_back({Clip::kNoSymbol, "cash_reserve", invest.amount, spendable});
  }
  const double amount = std::clamp(invest.amount, 0.0, spendable);
  if (amount <= 0.0) {
    Finish(out, 0, in.cash);
    return;
  }
  // Eligible symbols: a positive target and a price now.
  std::vector<double>& alloc = out.deltas;  // currency per symbol
  alloc.assign(n, 0.0);
  std::vector<bool> active(n, false);
  auto eligible = [&](std::size_t i) {
    return !std::isnan(out.weights[i]) && out.weights[i] > 0.0 && !std::isnan(in.prices[i]);
  };
  for (std::size_t i = 0; i < n; ++i)
    active[i] = eligible(i);

  auto by_weight = [&](double cash_to_spread) {
    double wsum = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      wsum += active[i] ? out.weights[i] : 0.0;
    if (wsum <= 0.0) return;
    for (std::size_t i = 0; i < n; ++i) {
      if (active[i]) alloc[i] += cash_to_spread * out.weights[i] / wsum;
    }
  };

  // Repeat until no active symbol's share is below min_investment (each round drops some).
  for (std::size_t round = 0; round <= n; ++round) {
    std::fill(alloc.begin(), alloc.end(), 0.0);
    if (invest.route == Route::kByWeight) {
      by_weight(amount);
    } else {
      // Water-filling on absolute drift against the value after the investment: find the
      // smallest tau >= 0 such that raising every active position to (w_i - tau) * V' costs at
      // most the amount; then spread any rest by weight.
      // Against the invested value plus the new money (idle cash beyond it is not a position).
      const double v_after = (out.equity - in.cash) + amount;
      double wsum = 0.0;
      for (std::size_t i = 0; i < n; ++i)
        wsum += active[i] ? out.weights[i] : 0.0;
      auto need = [&](double tau) {
        double total = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
          if (!active[i]) continue;
          const double value = in.quantities[i] * in.marks[i];
          total += std::max(0.0, (out.weights[i] / wsum - tau) * v_after - value);
        }
        return total;
      };
      double lo = 0.0;
      double hi = 1.0;
      if (need(0.0) <= amount) {
        hi = 0.0;
      } else {
        for (int it = 0; it < 100; ++it) {
          const double mid = 0.5 * (lo + hi);
          (need(mid) <= amount ? hi : lo) = mid;
        }
      }
      const double tau = hi;
      double spent = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!active[i]) continue;
        const double value = in.quantities[i] * in.marks[i];
        alloc[i] = std::max(0.0, (out.weights[i] / wsum - tau) * v_after - value);
        spent += alloc[i];
      }
      if (spent > amount && spent > 0.0) {
        for (double& a : alloc)
          a *= amount / spent;  // bisection rounding
        spent = amount;
      }
      if (amount - spent > 0.0) by_weight(amount - spent);
    }
    bool dropped = false;
    if (invest.min_investment > 0.0) {
      std::size_t still_active = 0;
      for (std::size_t i = 0; i < n; ++i)
        still_active += active[i] ? 1 : 0;
      for (std::size_t i = 0; i < n && still_active > 1; ++i) {
        if (active[i] && alloc[i] < invest.min_investment) {
          active[i] = false;
          --still_active;
          ++out.skipped_min_investment;
          dropped = true;
        }
      }
    }
    if (!dropped) break;
  }

  // max_weight: no position may end above max_weight of the portfolio's value. A capped
  // symbol's excess goes to the other targeted symbols that still have room, by weight (capped
  // in turn); only what none can take stays in cash.
  if (std::isfinite(options_.max_weight)) {
    std::vector<bool> open = active;
    for (std::size_t pass = 0; pass <= n; ++pass) {
      double excess = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!open[i] || alloc[i] <= 0.0) continue;
        const double value = in.quantities[i] * in.marks[i];
        const double room = std::max(0.0, options_.max_weight * out.equity - value);
        if (alloc[i] > room + 1e-9) {
          out.clips.push_back({static_cast<SymbolIndex>(i), "max_weight",
                               (value + alloc[i]) / out.equity, options_.max_weight});
          excess += alloc[i] - room;
          alloc[i] = room;
          open[i] = false;
        }
      }
      double wsum = 0.0;
      for (std::size_t i = 0; i < n; ++i)
        wsum += open[i] ? out.weights[i] : 0.0;
      if (excess <= 1e-9 || wsum <= 0.0) break;
      for (std::size_t i = 0; i < n; ++i) {
        if (open[i]) alloc[i] += excess * out.weights[i] / wsum;
      }
    }
  }

  double buy_cost = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!active[i] || alloc[i] <= 0.0) continue;
    const double p = in.prices[i];
    const double fill_price = BuyPrice(p);
    const double qty = RoundQuantity(alloc[i] / fill_price);
    if (qty <= 0.0) continue;
    if (qty * p < options_.min_trade_notional) {
      ++out.skipped_min_notional;
      continue;
    }
    const double fee = options_.commission.Fee(qty, fill_price);
    out.orders.push_back({static_cast<SymbolIndex>(i), Side::kBuy, qty, p, fee});
    buy_cost += qty * fill_price + fee;
  }
  FitBuys(out, 0, buy_cost, amount);
  for (const auto& o : out.orders)
    out.invested += o.quantity * BuyPrice(o.price) + o.est_fee;
  Finish(out, 0, in.cash);
}

}  // namespace ballast
