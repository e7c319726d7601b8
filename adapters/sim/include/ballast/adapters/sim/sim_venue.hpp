#pragma once
/// The simulated venue for backtests and local paper trading. Fill models: `close` fills an order
/// at the close of the bar on which it was decided; `next_open` fills it at the open of the next
/// bar of its symbol. Commission and slippage come from the configured models. Like a broker, it
/// checks buying power when a buy fills: a buy that no longer fits the cash (next_open prices
/// moved) is reduced to what fits, and the rest canceled with reason `insufficient_buying_power`.

#include <functional>
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

  [[nodiscard]] std::size_t Pending() const noexcept { return pending_.size(); }

 private:
  struct PendingOrder {
    Order order;
    std::size_t row;  // slice on which it was submitted
  };
  /// Tries to fill `p` at `price`; returns true when the order is done (filled/canceled).
  bool Execute(const PendingOrder& p, double price, Timestamp t);

  const BarPanel& panel_;
  SimVenueOptions options_;
  std::function<double()> available_cash_;
  VenueListener* listener_ = nullptr;
  std::vector<PendingOrder> pending_;
  std::vector<PendingOrder> keep_;
  std::size_t row_ = 0;
};

}  // namespace ballast::sim
