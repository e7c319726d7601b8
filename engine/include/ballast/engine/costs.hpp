#pragma once
/// Commission and slippage models. The planner uses them to estimate costs; SimVenue charges them.

#include <algorithm>
#include <cstdint>
#include <string>

namespace ballast {

/// Commission per order. Models (config `execution.commission.model`):
/// - none
/// - per_share: max(per_share * qty, min), capped at max_pct * notional (IBKR fixed pricing; the
/// cap
///   wins over the minimum, as on IBKR's schedule)
/// - bps: bps / 1e4 * notional
/// - fixed: per_order per order
struct CommissionModel {
  enum class Kind : std::uint8_t { kNone, kPerShare, kBps, kFixed };
  Kind kind = Kind::kNone;
  double per_share = 0.005;
  double min = 1.0;
  double max_pct = 0.01;
  double bps = 0.0;
  double per_order = 0.0;

  /// Fee for an order of `quantity` shares at `price` (both positive).
  [[nodiscard]] double Fee(double quantity, double price) const noexcept {
    const double notional = quantity * price;
    switch (kind) {
      case Kind::kNone:
        return 0.0;
      case Kind::kPerShare: {
        double fee = std::max(per_share * quantity, min);
        if (max_pct > 0.0) fee = std::min(fee, max_pct * notional);
        return fee;
      }
      case Kind::kBps:
        return bps * 1e-4 * notional;
      case Kind::kFixed:
        return quantity > 0.0 ? per_order : 0.0;
    }
    return 0.0;
  }
};

/// Fill price after slippage of `bps` basis points against the trader.
[[nodiscard]] inline double SlippedPrice(double price, bool is_buy, double bps) noexcept {
  const double f = bps * 1e-4;
  return is_buy ? price * (1.0 + f) : price * (1.0 - f);
}

}  // namespace ballast
