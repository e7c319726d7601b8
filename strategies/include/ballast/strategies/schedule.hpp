#pragma once
/// Calendar schedules shared by strategies: which sessions start or end a period.

#include <cstdint>
#include <limits>
#include <string_view>

#include "ballast/engine/calendar.hpp"
#include "ballast/engine/config_node.hpp"

namespace ballast::strategies {

enum class Frequency : std::uint8_t { kDaily, kWeekly, kMonthly, kQuarterly, kAnnually };
enum class Anchor : std::uint8_t { kFirst, kLast };

/// Key identifying the period containing `day` (weekly = ISO week).
[[nodiscard]] std::int64_t PeriodKey(Frequency f, Days day) noexcept;

/// Which sessions are due. Stateful: call IsDue exactly once per session, in order.
class Schedule {
 public:
  Schedule() = default;
  Schedule(Frequency f, Anchor a, int nth_session = 0, int every = 0)
      : frequency(f), on(a), nth(nth_session), every_n(every) {}

  Frequency frequency = Frequency::kMonthly;
  Anchor on = Anchor::kFirst;
  int nth = 0;  ///< due on the n-th session of each period (1-based; the last one if the period is
                ///< shorter); 0 = use `on`
  int every_n = 0;  ///< due every N sessions counting the first as session 0; 0 = use `frequency`

  /// True when `today` is due. `previous` is the previous session seen (nullptr on the run's
  /// first slice, which counts as a period start).
  [[nodiscard]] bool IsDue(Days today, const Days* previous, const SessionCalendar& sessions);

  /// Reads `frequency` (a name, or an integer N for every N trading days), `on` and, when
  /// `allow_nth`, `rebalance_day` from a strategy node.
  /// `key` names the period key (`frequency`, or `check` for drift checks).
  static Schedule Parse(const ConfigNode& node, bool allow_nth = false,
                        std::string_view default_frequency = "monthly",
                        std::string_view key = "frequency");

 private:
  std::int64_t period_ = std::numeric_limits<std::int64_t>::min();
  int count_ = 0;
  std::int64_t sessions_ = 0;
};

}  // namespace ballast::strategies
