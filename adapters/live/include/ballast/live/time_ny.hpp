#pragma once
/// New York local time for schedules, without a time-zone database: US Eastern is UTC-5, and
/// UTC-4 from the second Sunday of March 02:00 local to the first Sunday of November 02:00 local
/// (the rule since 2007; earlier years are not needed live).

#include "ballast/engine/time.hpp"

namespace ballast::live {

/// Offset of New York from UTC at `utc`, in minutes (-300 or -240).
[[nodiscard]] int NyOffsetMinutes(Timestamp utc) noexcept;
/// The New York calendar date at `utc`.
[[nodiscard]] Days NyDate(Timestamp utc) noexcept;
/// Minutes after New York midnight at `utc`.
[[nodiscard]] int NyMinuteOfDay(Timestamp utc) noexcept;
/// The UTC instant of `minutes` after midnight New York time on `day`.
[[nodiscard]] Timestamp NyLocalToUtc(Days day, int minutes) noexcept;

}  // namespace ballast::live
