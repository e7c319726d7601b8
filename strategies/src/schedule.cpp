#include "ballast/strategies/schedule.hpp"

namespace ballast::strategies {

std::int64_t PeriodKey(Frequency f, Days day) noexcept {
  using namespace std::chrono;
  const year_month_day ymd{day};
  const std::int64_t y = static_cast<int>(ymd.year());
  const std::int64_t m = static_cast<unsigned>(ymd.month());
  switch (f) {
    case Frequency::kDaily:
      return day.time_since_epoch().count();
    case Frequency::kWeekly:
      return IsoWeekKey(day);
    case Frequency::kMonthly:
      return y * 12 + (m - 1);
    case Frequency::kQuarterly:
      return y * 4 + (m - 1) / 3;
    case Frequency::kAnnually:
      return y;
  }
  return 0;
}

bool Schedule::IsDue(Days today, const Days* previous, const SessionCalendar& sessions) const {
  if (frequency == Frequency::kDaily) return true;
  const auto key = PeriodKey(frequency, today);
  if (on == Anchor::kFirst) return previous == nullptr || PeriodKey(frequency, *previous) != key;
  return PeriodKey(frequency, sessions.NextSession(today)) != key;
}

Schedule Schedule::Parse(const ConfigNode& node) {
  Schedule s;
  const auto f =
      node.EnumOr("frequency", {"daily", "weekly", "monthly", "quarterly", "annually"}, "monthly");
  s.frequency = f == "daily"       ? Frequency::kDaily
                : f == "weekly"    ? Frequency::kWeekly
                : f == "monthly"   ? Frequency::kMonthly
                : f == "quarterly" ? Frequency::kQuarterly
                                   : Frequency::kAnnually;
  s.on = node.EnumOr("on", {"first", "last"}, "first") == "first" ? Anchor::kFirst : Anchor::kLast;
  return s;
}

}  // namespace ballast::strategies
