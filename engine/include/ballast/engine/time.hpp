#pragma once
/// Time types. A Timestamp is int64 nanoseconds since the Unix epoch, UTC. Daily bars are stamped
/// at 00:00 UTC of their session date, so a session date and its bar timestamp convert losslessly.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ballast {

using Timestamp = std::int64_t;
using Days = std::chrono::sys_days;

inline constexpr Timestamp kNanosPerDay = 86'400'000'000'000LL;

/// Nanoseconds since epoch of 00:00 UTC on `day`.
constexpr Timestamp DayToTimestamp(Days day) noexcept {
  return static_cast<Timestamp>(day.time_since_epoch().count()) * kNanosPerDay;
}

/// The UTC calendar day containing `ts` (floors toward the past for negative values).
constexpr Days TimestampToDay(Timestamp ts) noexcept {
  Timestamp d = ts / kNanosPerDay;
  if (ts % kNanosPerDay < 0) --d;
  return Days{std::chrono::days{d}};
}

/// The years a date may have: well inside what an int64 nanosecond Timestamp can hold
/// (1677-09-21 to 2262-04-11), so no date ballast accepts can overflow one.
inline constexpr int kMinYear = 1800;
inline constexpr int kMaxYear = 2200;

/// Parses exactly `YYYY-MM-DD` (a valid Gregorian date in years kMinYear..kMaxYear); nullopt
/// otherwise.
std::optional<Days> ParseIsoDate(std::string_view text) noexcept;

/// Formats as `YYYY-MM-DD`.
std::string FormatDate(Days day);

/// Writes `YYYY-MM-DD` into `out` (10 chars, no terminator); for hot output paths.
void FormatDateTo(Days day, char* out) noexcept;

/// ISO-8601 week key (iso_year * 100 + iso_week), used to group sessions by ISO week.
int IsoWeekKey(Days day) noexcept;

}  // namespace ballast
