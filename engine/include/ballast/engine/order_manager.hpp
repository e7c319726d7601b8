#pragma once
/// Owns every order's life and is the venue's listener: it books fills in the ledger, records
/// trades and order events, and keeps each order's status. Client order ids are deterministic
/// (`<run tag>-<decision>-<symbol>`), so a retried or restarted decision never sends twice.

#include <string>
#include <vector>

#include "ballast/engine/ledger.hpp"
#include "ballast/engine/order_journal.hpp"
#include "ballast/engine/planner.hpp"
#include "ballast/engine/run_record.hpp"
#include "ballast/engine/venue.hpp"

namespace ballast {

struct OrderState {
  Order order;
  OrderStatus status = OrderStatus::kNew;
  double filled = 0.0;
  double avg_fill_price = 0.0;
  bool investment = false;  ///< from a buy-only investment of new cash (logs symbol_purchase)
};

class OrderManager final : public VenueListener {
 public:
  OrderManager(Venue& venue, Ledger& ledger, RunRecord& record,
               const std::vector<std::string>& symbols, std::string run_tag);

  /// Every fill and status change goes to `journal` first (nullptr: none, as in a backtest).
  void SetJournal(OrderJournal* journal) noexcept { journal_ = journal; }

  /// Sends the planned orders of decision `decision` to the venue, in plan order.
  /// `investment` marks a buy-only investment of new cash: its fills log `symbol_purchase`.
  void Submit(const Plan& plan, std::uint64_t decision, Timestamp now, bool investment = false);

  /// An order the venue holds that this manager did not submit (a live session's order from an
  /// earlier process): tracked from now on as accepted, `filled` of it done before at
  /// `avg_price`. Its fills then book as any other's. Returns its id.
  OrderId Adopt(Order order, double filled = 0.0, double avg_price = 0.0);

  [[nodiscard]] std::string ClientOrderId(const Order& order) const;
  [[nodiscard]] std::size_t OpenOrders() const noexcept { return open_; }
  [[nodiscard]] const std::vector<OrderState>& Orders() const noexcept { return orders_; }

  /// Fill totals since the last call (the kernel records them per slice).
  struct SliceTotals {
    double bought = 0.0;
    double sold = 0.0;
    double fees = 0.0;
  };
  SliceTotals TakeSliceTotals() noexcept;

  void OnOrderAccepted(OrderId id, Timestamp t) override;
  void OnFill(const Fill& fill) override;
  void OnOrderRejected(OrderId id, std::string_view reason, Timestamp t) override;
  void OnOrderCanceled(OrderId id, std::string_view reason, Timestamp t) override;
  void OnOrderExpired(OrderId id, Timestamp t) override;
  void OnOrderAmended(OrderId id, double quantity, Timestamp t) override;

 private:
  OrderState& Get(OrderId id);
  void Close(OrderState& s, OrderStatus status);
  /// The fields every order event carries.
  [[nodiscard]] JsonFields OrderFields(const OrderState& s) const;

  Venue& venue_;
  Ledger& ledger_;
  RunRecord& record_;
  OrderJournal* journal_ = nullptr;
  const std::vector<std::string>& symbols_;
  std::string run_tag_;
  std::vector<OrderState> orders_;  // index = id - 1
  std::size_t open_ = 0;
  SliceTotals totals_;
};

}  // namespace ballast
