#pragma once
/// Write-ahead hooks the order manager calls before it books or closes an order, so whatever
/// keeps a session's record (a live session's SQLite journal) sees each change first and once.
/// Backtests run without one: a replay is its own record.

#include "ballast/engine/orders.hpp"

namespace ballast {

struct OrderState;

class OrderJournal {
 public:
  virtual ~OrderJournal() = default;
  /// Before `fill` of `order` (its state before the fill) is booked. False: this execution is
  /// recorded already (a second report of it, or one recorded before a restart), and the order
  /// manager books nothing.
  virtual bool RecordFill(const OrderState& order, const Fill& fill) = 0;
  /// After `order`'s status changed (accepted, partially filled, filled, canceled, rejected,
  /// expired). Why a venue canceled or rejected it is the venue's to record.
  virtual void RecordStatus(const OrderState& order) = 0;
};

}  // namespace ballast
