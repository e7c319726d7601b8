#include "ballast/live/time_ny.hpp"

namespace ballast::live {
namespace {

constexpr Timestamp kMinute = 60'000'000'000LL;

/// The n-th Sunday (1-based) of month `m` in year `y`.
Days NthSunday(int y, unsigned m, int n) {
  using namespace std::chrono;
  const sys_days first = year{y} / month{m} / day{1};
  const weekday wd{first};
  const int to_sunday = static_cast<int>((Sunday - wd).count());
  return first + days{to_sunday + 7 * (n - 1)};
}

}  // namespace

int NyOffsetMinutes(Timestamp utc) noexcept {
  const int y = static_cast<int>(std::chrono::year_month_day{TimestampToDay(utc)}.year());
  // DST starts at 02:00 EST (07:00 UTC) and ends at 02:00 EDT (06:00 UTC).
  const Timestamp start = DayToTimestamp(NthSunday(y, 3, 2)) + 7 * 60 * kMinute;
  const Timestamp end = DayToTimestamp(NthSunday(y, 11, 1)) + 6 * 60 * kMinute;
  return utc >= start && utc < end ? -240 : -300;
}

Days NyDate(Timestamp utc) noexcept {
  return TimestampToDay(utc + NyOffsetMinutes(utc) * kMinute);
}

int NyMinuteOfDay(Timestamp utc) noexcept {
  const Timestamp local = utc + NyOffsetMinutes(utc) * kMinute;
  return static_cast<int>((local - DayToTimestamp(TimestampToDay(local))) / kMinute);
}

Timestamp NyLocalToUtc(Days day, int minutes) noexcept {
  // Guess with standard time, then correct with the offset in force at that instant.
  const Timestamp guess = DayToTimestamp(day) + (minutes + 300) * kMinute;
  return DayToTimestamp(day) + (minutes - NyOffsetMinutes(guess)) * kMinute;
}

}  // namespace ballast::live
