#pragma once
/// Where orders go: SimVenue in backtests, a broker adapter live. Swapped at `main`.

#include <string_view>

#include "ballast/engine/orders.hpp"

namespace ballast {

/// Receives the venue's reports. Called on the kernel's thread.
class VenueListener {
 public:
  virtual ~VenueListener() = default;
  virtual void OnOrderAccepted(OrderId id, Timestamp t) = 0;
  virtual void OnFill(const Fill& fill) = 0;
  virtual void OnOrderRejected(OrderId id, std::string_view reason, Timestamp t) = 0;
  /// The rest of the order is canceled (after any partial fills).
  virtual void OnOrderCanceled(OrderId id, std::string_view reason, Timestamp t) = 0;
  /// A day limit order's day ended with the rest of it unfilled (after any partial fills).
  virtual void OnOrderExpired(OrderId id, Timestamp t) = 0;
  /// The venue will work the order for `quantity` instead (a broker's precision, the cash a
  /// sell brought): the order is done when that much has filled.
  virtual void OnOrderAmended(OrderId id, double quantity, Timestamp t) = 0;
};

class Venue {
 public:
  virtual ~Venue() = default;
  virtual void SetListener(VenueListener* listener) = 0;
  virtual void Submit(const Order& order) = 0;
  /// Asks the venue to cancel; it reports OnOrderCanceled with `reason` (a short label).
  virtual void Cancel(OrderId id, std::string_view reason) = 0;
  /// Step 1 of a time slice: fill what is due at this slice's open.
  virtual void OnSliceOpen(std::size_t row) = 0;
  /// Last step of a time slice, after orders were sent: fill what is due at the close.
  virtual void OnSliceClose(std::size_t row) = 0;
  /// Step 0, before the open: `symbol` splits `ratio` new shares per old today. A venue holding
  /// orders of it re-bases them (quantity × ratio, prices ÷ ratio) and reports each with
  /// OnOrderAmended. A broker re-bases its own open orders, so its venue does nothing.
  virtual void OnSplit(SymbolIndex symbol, double ratio, Timestamp t) {
    (void)symbol;
    (void)ratio;
    (void)t;
  }
};

}  // namespace ballast
