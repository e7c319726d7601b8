#pragma once
/// Corporate actions on a symbol: splits and cash dividends, by ex-date. Small values the store
/// carries with a symbol's bars and the kernel applies to raw prices.

#include <cstdint>
#include <string_view>

#include "ballast/engine/time.hpp"

namespace ballast {

enum class ActionKind : std::uint8_t { kSplit, kDividend };

[[nodiscard]] constexpr std::string_view ToString(ActionKind k) noexcept {
  return k == ActionKind::kSplit ? "split" : "dividend";
}

struct CorporateAction {
  Days ex_date{};
  ActionKind kind = ActionKind::kSplit;
  /// split: new shares per old share (2 for a 2:1 split, 0.1 for a 1:10 reverse split);
  /// dividend: cash per share held at the ex-date's open (after a split of the same date).
  double value = 0.0;

  /// Ex-date order; on one date the split comes first (a dividend is per share after it).
  friend constexpr bool operator<(const CorporateAction& a, const CorporateAction& b) noexcept {
    return a.ex_date != b.ex_date ? a.ex_date < b.ex_date : a.kind < b.kind;
  }
};

}  // namespace ballast
