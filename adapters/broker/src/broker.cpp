#include "ballast/adapters/broker/broker.hpp"

namespace ballast::broker {

std::string_view ToString(OrderPhase phase) noexcept {
  switch (phase) {
    case OrderPhase::kPending:
      return "pending";
    case OrderPhase::kWorking:
      return "working";
    case OrderPhase::kPartiallyFilled:
      return "partially_filled";
    case OrderPhase::kFilled:
      return "filled";
    case OrderPhase::kCanceled:
      return "canceled";
    case OrderPhase::kRejected:
      return "rejected";
    case OrderPhase::kExpired:
      return "expired";
    case OrderPhase::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool IsFinal(OrderPhase phase) noexcept {
  return phase == OrderPhase::kFilled || phase == OrderPhase::kCanceled ||
         phase == OrderPhase::kRejected || phase == OrderPhase::kExpired;
}

}  // namespace ballast::broker
