#pragma once
/// The simulated venue for backtests and local paper trading. Fill models: `close` fills an order
/// at the close of the bar on which it was decided; `next_open` fills it at the open of the next
/// bar of its symbol. Commission and slippage come from the configured models. Like a broker, it
/// checks buying power when a buy fills: a buy that no longer fits the cash (next_open prices
/// moved) is reduced to what fits, and the rest canceled with reason `insufficient_buying_power`.
/// Limit orders (Order::limit_price > 0) are day orders: they fill at the fill model's price
/// after slippage when that is at the limit or better; under `next_open`, otherwise at the limit
/// when the bar's low (buys) or high (sells) reaches it; else they expire with that bar.

#include <functional>
#include <optional>
#include <vector>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/costs.hpp"
#include "ballast/engine/planner.hpp"
#include "ballast/engine/venue.hpp"

namespace ballast::sim {

enum class FillModel : unsigned char { kClose, kNextOpen };

struct SimVenueOptions {
  FillModel fill = FillModel::kClose;
  CommissionModel commission;
  double slippage_bps = 0.0;
  ShareMode shares = ShareMode::kFractional;
  double lot_size = 1.0;
};

class SimVenue final : public Venue {
 public:
  /// `available_cash` reports the account's cash at fill time (the ledger's, through the caller).
  SimVenue(const BarPanel& panel, SimVenueOptions options, std::function<double()> available_cash);

  void SetListener(VenueListener* listener) override { listener_ = listener; }
  void Submit(const Order& order) override;
  void Cancel(OrderId id, std::string_view reason) override;
  void OnSliceOpen(std::size_t row) override;
  void OnSliceClose(std::size_t row) override;
  /// A next-open order waiting across the ex-date is worked in the new shares (whole shares:
  /// rounded down to the lot).
  void OnSplit(SymbolIndex symbol, double ratio, Timestamp t) override;

  [[nodiscard]] std::size_t Pending() const noexcept { return pending_.size(); }

 private:
  struct PendingOrder {
    Order order;
    std::size_t row;  // slice on which it was submitted
  };
  struct Price {
    double market = 0.0;  ///< the price before slippage (the open, the close, or the limit)
    double fill = 0.0;    ///< after slippage
  };
  /// What `o` fills at when the market is at `at` and later reaches `through` (the bar's low
  /// for a buy, its high for a sell); nullopt when a limit order does not fill.
  [[nodiscard]] std::optional<Price> FillPrice(const Order& o, double at, double through) const;
  /// Tries to fill `p` at `price`; returns true when the order is done (filled/canceled).
  bool Execute(const PendingOrder& p, Price price, Timestamp t);

  const BarPanel& panel_;
  SimVenueOptions options_;
  std::function<double()> available_cash_;
  VenueListener* listener_ = nullptr;
  std::vector<PendingOrder> pending_;
  std::vector<PendingOrder> keep_;
  std::size_t row_ = 0;
};

}  // namespace ballast::sim
