#pragma once
/// Calendar schedules shared by strategies: which sessions start or end a period.

#include <cstdint>
#include <string_view>

#include "ballast/engine/calendar.hpp"
#include "ballast/engine/config_node.hpp"

namespace ballast::strategies {

enum class Frequency : std::uint8_t { kDaily, kWeekly, kMonthly, kQuarterly, kAnnually };
enum class Anchor : std::uint8_t { kFirst, kLast };

/// Key identifying the period containing `day` (weekly = ISO week).
[[nodiscard]] std::int64_t PeriodKey(Frequency f, Days day) noexcept;

struct Schedule {
  Frequency frequency = Frequency::kMonthly;
  Anchor on = Anchor::kFirst;

  /// True when `today` is the first (last) session of its period. `previous` is the previous
  /// session seen (nullptr on the first slice, which counts as a period start).
  [[nodiscard]] bool IsDue(Days today, const Days* previous, const SessionCalendar& sessions) const;

  /// Reads `frequency` and `on` from a strategy config node.
  static Schedule Parse(const ConfigNode& node);
};

}  // namespace ballast::strategies
