#pragma once
// The engine's OrderJournal over the session's SQLite journal: the order manager records each
// execution here before it books it (the journal's execution key makes a second report of it,
// from any route, a no-op) and each status it gives an order. A new fill is also a line of
// trades.csv. Internal to live/.

#include <cstdint>
#include <string>
#include <vector>

#include "ballast/engine/order_journal.hpp"
#include "ballast/live/journal.hpp"
#include "broker_venue.hpp"

namespace ballast::live::detail {

class SessionJournal final : public OrderJournal {
 public:
  /// `venue` names the client order id of each engine order; `source_label` is trades.csv's
  /// `source` for what it books.
  SessionJournal(Journal& journal, VenueHost& host, const BrokerVenue& venue,
                 const std::vector<std::string>& symbols, std::string source_label);

  bool RecordFill(const OrderState& order, const Fill& fill) override;
  void RecordStatus(const OrderState& order) override;

  /// Executions recorded (and so booked) by this process.
  [[nodiscard]] std::uint64_t Booked() const noexcept { return booked_; }

 private:
  Journal& journal_;
  VenueHost& host_;
  const BrokerVenue& venue_;
  const std::vector<std::string>& symbols_;
  std::string source_label_;
  std::uint64_t booked_ = 0;
};

}  // namespace ballast::live::detail
