#pragma once
/// Orders and fills: small, trivially copyable values passed between the planner, the order
/// manager, the venue and the ledger.

#include <cstdint>
#include <string_view>

#include "ballast/engine/time.hpp"

namespace ballast {

using SymbolIndex = std::uint32_t;  ///< column in the BarPanel
using OrderId = std::uint64_t;

enum class Side : std::uint8_t { kBuy, kSell };

[[nodiscard]] constexpr std::string_view ToString(Side s) noexcept {
  return s == Side::kBuy ? "buy" : "sell";
}

/// Order life cycle: new -> accepted -> partially_filled -> filled | canceled | rejected | expired.
enum class OrderStatus : std::uint8_t {
  kNew,
  kAccepted,
  kPartiallyFilled,
  kFilled,
  kCanceled,
  kRejected,
  kExpired
};

[[nodiscard]] constexpr std::string_view ToString(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::kNew:
      return "new";
    case OrderStatus::kAccepted:
      return "accepted";
    case OrderStatus::kPartiallyFilled:
      return "partially_filled";
    case OrderStatus::kFilled:
      return "filled";
    case OrderStatus::kCanceled:
      return "canceled";
    case OrderStatus::kRejected:
      return "rejected";
    case OrderStatus::kExpired:
      return "expired";
  }
  return "unknown";
}

[[nodiscard]] constexpr bool IsTerminal(OrderStatus s) noexcept {
  return s == OrderStatus::kFilled || s == OrderStatus::kCanceled || s == OrderStatus::kRejected ||
         s == OrderStatus::kExpired;
}

/// Market orders fill at the venue's price; a limit order fills only at its limit or better.
enum class OrderType : std::uint8_t { kMarket, kLimit };

[[nodiscard]] constexpr std::string_view ToString(OrderType t) noexcept {
  return t == OrderType::kMarket ? "market" : "limit";
}

/// An order as the venue sees it: a market order, or a day limit order when `limit_price` > 0.
/// Quantity is in shares (fractional allowed) and positive.
struct Order {
  OrderId id = 0;
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  double quantity = 0.0;
  double reference_price = 0.0;  ///< price the planner sized with
  double limit_price = 0.0;      ///< > 0: a limit order (time in force: the day); 0: market
  std::uint64_t decision = 0;    ///< which rebalance decision created it
  Timestamp created = 0;
};

/// One execution. `price` includes slippage; `slippage` is the cost of it in currency (>= 0).
struct Fill {
  OrderId order = 0;
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  double quantity = 0.0;
  double price = 0.0;
  double commission = 0.0;
  double slippage = 0.0;
  Timestamp time = 0;
  /// The venue's id for this execution, valid during OnFill (an order journal keys on it);
  /// empty from the simulated venue.
  std::string_view execution_id;
};

}  // namespace ballast
