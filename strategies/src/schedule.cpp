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

bool Schedule::IsDue(Days today, const Days* previous, const SessionCalendar& sessions) {
  const std::int64_t session = sessions_++;
  if (every_n > 0) return session % every_n == 0;
  const auto key = PeriodKey(frequency, today);
  if (session == 0 && previous != nullptr) {
    // Resumed (a live session in a new process): the last session seen comes from the journal.
    // Rebuild the period and the count of sessions in it (for `nth`) from the calendar.
    period_ = PeriodKey(frequency, *previous);
    count_ = 0;
    if (period_ == key) {
      Days d = *previous;
      while (PeriodKey(frequency, d) == key)
        d -= std::chrono::days(1);
      for (d = sessions.NextSession(d); d <= *previous; d = sessions.NextSession(d))
        ++count_;
    }
  }
  const bool new_period = previous == nullptr || key != period_;
  period_ = key;
  count_ = new_period ? 1 : count_ + 1;
  if (frequency == Frequency::kDaily) return true;
  const bool period_ends = PeriodKey(frequency, sessions.NextSession(today)) != key;
  if (nth > 0) return count_ == nth || (count_ < nth && period_ends);
  if (on == Anchor::kFirst) return new_period;
  return period_ends;
}

Schedule Schedule::Parse(const ConfigNode& node, bool allow_nth, std::string_view default_frequency,
                         std::string_view key) {
  Schedule s;
  if (auto f = node.Find(key); f && f->IsNumber()) {
    const auto n = f->Integer();
    if (n < 1 || n > 100000) f->Fail("a period name or a number of trading days >= 1");
    s.every_n = static_cast<int>(n);
  } else {
    const auto name = node.EnumOr(key, {"daily", "weekly", "monthly", "quarterly", "annually"},
                                  default_frequency);
    s.frequency = name == "daily"       ? Frequency::kDaily
                  : name == "weekly"    ? Frequency::kWeekly
                  : name == "monthly"   ? Frequency::kMonthly
                  : name == "quarterly" ? Frequency::kQuarterly
                                        : Frequency::kAnnually;
  }
  s.on = node.EnumOr("on", {"first", "last"}, "first") == "first" ? Anchor::kFirst : Anchor::kLast;
  if (auto nth = node.Find("rebalance_day")) {
    if (!allow_nth) nth->Fail("no rebalance_day for this strategy");
    const auto n = nth->Integer();
    if (n < 1 || n > 366) nth->Fail("a trading day of the period, 1 = first");
    if (node.Has("on")) nth->Fail("either \"on\" or \"rebalance_day\", not both");
    s.nth = static_cast<int>(n);
  }
  return s;
}

}  // namespace ballast::strategies
