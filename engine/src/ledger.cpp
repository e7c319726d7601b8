#include "ballast/engine/ledger.hpp"

#include <cmath>

#include <fmt/format.h>

#include "ballast/engine/error.hpp"

namespace ballast {
namespace {

// Rounding tolerance: a fill that sells the whole position may leave 1e-12 shares behind, and a
// full fractional rebalance may leave cash at -1e-11 of its value.
constexpr double kQtyTolerance = 1e-9;
constexpr double kCashRelTolerance = 1e-9;

// A broken invariant is a bug, never input (validation bounds what configs may ask for), but it
// is reported as an error with the fill's details rather than abort(): a suite or a live session
// ends with a message instead of a core dump.
[[noreturn]] void Abort(const char* what, const Fill& f, double value) {
  throw Error(ErrorKind::kInternal,
              fmt::format("ledger invariant broken: {} (order {}, symbol {}, qty {}, price {}, "
                          "value {}); this is a bug, please report it with the config",
                          what, f.order, f.symbol, f.quantity, f.price, value));
}

}  // namespace

Ledger::Ledger(std::size_t symbols, double initial_cash, bool allow_borrowing)
    : cash_(initial_cash),
      net_flows_(initial_cash),
      allow_borrowing_(allow_borrowing),
      qty_(symbols, 0.0),
      avg_cost_(symbols, 0.0) {}

void Ledger::ChargeInterest(double amount) {
  cash_ -= amount;
  interest_ += amount;
}

double Ledger::Exposure(std::span<const double> marks) const noexcept {
  double g = 0.0;
  for (std::size_t i = 0; i < qty_.size(); ++i) {
    if (qty_[i] != 0.0) g += qty_[i] * marks[i];
  }
  return g;
}

void Ledger::Check(const Fill& f) const {
  if (!(f.quantity > 0.0) || !std::isfinite(f.quantity))
    Abort("fill quantity not positive", f, f.quantity);
  if (!(f.price > 0.0) || !std::isfinite(f.price)) Abort("fill price not positive", f, f.price);
  if (!(f.commission >= 0.0) || !std::isfinite(f.commission))
    Abort("negative commission", f, f.commission);
  if (f.symbol >= qty_.size()) Abort("unknown symbol", f, 0.0);
}

void Ledger::ApplyFill(const Fill& f) {
  Check(f);
  const SymbolIndex s = f.symbol;
  const double notional = f.quantity * f.price;
  if (f.side == Side::kBuy) {
    const double new_qty = qty_[s] + f.quantity;
    avg_cost_[s] = (avg_cost_[s] * qty_[s] + notional) / new_qty;
    qty_[s] = new_qty;
    cash_ -= notional + f.commission;
  } else {
    if (f.quantity > qty_[s] * (1.0 + kQtyTolerance) + kQtyTolerance) {
      Abort("sell exceeds position (short selling is not supported)", f, qty_[s]);
    }
    realized_ += (f.price - avg_cost_[s]) * f.quantity;
    qty_[s] -= f.quantity;
    if (std::abs(qty_[s]) <= kQtyTolerance) {
      qty_[s] = 0.0;
      avg_cost_[s] = 0.0;
    }
    cash_ += notional - f.commission;
  }
  commissions_ += f.commission;
  slippage_ += f.slippage;
  gross_traded_ += notional;
  if (!allow_borrowing_ && cash_ < -kCashRelTolerance * gross_traded_ - 1e-6) {
    Abort("cash below zero in a cash account", f, cash_);
  }
  if (!std::isfinite(cash_)) Abort("cash not finite", f, cash_);
}

void Ledger::ExternalFlow(double amount) {
  cash_ += amount;
  net_flows_ += amount;
}

double Ledger::ApplySplit(SymbolIndex s, double ratio, bool whole_shares, double price) {
  if (qty_[s] == 0.0) return 0.0;
  double q = qty_[s] * ratio;
  double in_lieu = 0.0;
  if (whole_shares) {
    // Rounding noise (3 shares x 1/3) is not a fraction.
    const double whole = std::floor(q + 1e-9);
    in_lieu = (q - whole) * price;
    if (in_lieu < 0.0) in_lieu = 0.0;
    // The fraction sold in lieu leaves at its cost: no realized P&L beyond price vs cost.
    realized_ += (q - whole) * (price - avg_cost_[s] / ratio);
    q = whole;
    cash_ += in_lieu;
  }
  qty_[s] = q;
  avg_cost_[s] /= ratio;
  return in_lieu;
}

double Ledger::CreditDividend(SymbolIndex s, double per_share) {
  const double amount = qty_[s] * per_share;
  cash_ += amount;
  dividends_ += amount;
  return amount;
}

double Ledger::Equity(std::span<const double> marks) const noexcept {
  double v = cash_;
  for (std::size_t i = 0; i < qty_.size(); ++i) {
    if (qty_[i] != 0.0) v += qty_[i] * marks[i];
  }
  return v;
}

double Ledger::UnrealizedPnl(std::span<const double> marks) const noexcept {
  double u = 0.0;
  for (std::size_t i = 0; i < qty_.size(); ++i) {
    if (qty_[i] != 0.0) u += (marks[i] - avg_cost_[i]) * qty_[i];
  }
  return u;
}

void Ledger::Reconcile(std::span<const double> quantities, std::span<const double> average_costs,
                       double cash) {
  for (std::size_t i = 0; i < qty_.size(); ++i) {
    qty_[i] = i < quantities.size() ? quantities[i] : 0.0;
    avg_cost_[i] = i < average_costs.size() ? average_costs[i] : 0.0;
  }
  cash_ = cash;
}

}  // namespace ballast
