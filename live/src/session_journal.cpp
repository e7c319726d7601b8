#include "session_journal.hpp"

#include <fmt/format.h>

#include "ballast/engine/order_manager.hpp"

namespace ballast::live::detail {

SessionJournal::SessionJournal(Journal& journal, VenueHost& host, const BrokerVenue& venue,
                               const std::vector<std::string>& symbols, std::string source_label)
    : journal_(journal),
      host_(host),
      venue_(venue),
      symbols_(symbols),
      source_label_(std::move(source_label)) {}

bool SessionJournal::RecordFill(const OrderState& order, const Fill& fill) {
  const std::string coid = venue_.ClientOrderIdOf(order.order.id);
  const std::string& symbol = symbols_[fill.symbol];
  const std::string side(ToString(fill.side));
  // Without the venue's execution id, the order's cumulative quantity after this fill names it.
  std::string key = !fill.execution_id.empty()
                        ? std::string(fill.execution_id)
                        : fmt::format("{}-{}", coid, order.filled + fill.quantity);
  if (!journal_.RecordFill(JournalFill{std::move(key), coid, symbol, side, fill.quantity,
                                       fill.price, fill.commission, fill.time})) {
    return false;
  }
  ++booked_;
  host_.AppendTrade(fill.time, coid, symbol, side, fill.quantity, fill.price, source_label_);
  return true;
}

void SessionJournal::RecordStatus(const OrderState& order) {
  const std::string coid = venue_.ClientOrderIdOf(order.order.id);
  if (!coid.empty()) journal_.SetOrderStatus(coid, ToString(order.status));
}

}  // namespace ballast::live::detail
