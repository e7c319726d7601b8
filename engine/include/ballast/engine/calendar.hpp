#pragma once
/// Trading calendars. `NyseCalendar` knows NYSE full-day holidays and 13:00 early closes from rules
/// plus a table of special closures; `SessionCalendar` is what schedules ask ("which session comes
/// next?"), answered from the data in a backtest and from the NYSE calendar live.

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ballast/engine/time.hpp"

namespace ballast {

/// NYSE holidays and early closes. Rules are valid from 1980 on; dates before that are treated
/// with the same rules and may be wrong (documented in docs/calendar.md).
class NyseCalendar final {
 public:
  /// True on weekdays that are not holidays or special closures.
  [[nodiscard]] static bool IsTradingDay(Days day) noexcept;
  /// Name of the holiday or closure on `day`, or empty when the exchange is open or it is a
  /// weekend.
  [[nodiscard]] static std::string_view HolidayName(Days day) noexcept;
  /// Close time in minutes after midnight New York time: 960 (16:00) normally, 780 (13:00) on
  /// early-close days; nullopt when the exchange is closed.
  [[nodiscard]] static std::optional<int> CloseMinutes(Days day) noexcept;
  [[nodiscard]] static Days NextTradingDay(Days day) noexcept;
  [[nodiscard]] static Days PreviousTradingDay(Days day) noexcept;
};

/// The sessions a schedule sees. Implementations: `DataSessions` (backtests: the dates present in
/// the data, then the NYSE calendar past the data's end) and the NYSE calendar itself (live).
class SessionCalendar {
 public:
  virtual ~SessionCalendar() = default;
  /// The first session strictly after `day`.
  [[nodiscard]] virtual Days NextSession(Days day) const = 0;
};

/// Live sessions straight from the NYSE calendar.
class NyseSessions final : public SessionCalendar {
 public:
  [[nodiscard]] Days NextSession(Days day) const override {
    return NyseCalendar::NextTradingDay(day);
  }
};

/// Backtest sessions: the data's own dates (sorted, unique), falling back to the NYSE calendar
/// after the last one.
class DataSessions final : public SessionCalendar {
 public:
  explicit DataSessions(std::vector<Days> days) : days_(std::move(days)) {}
  [[nodiscard]] Days NextSession(Days day) const override;

 private:
  std::vector<Days> days_;
};

}  // namespace ballast
