#include "ballast/engine/calendar.hpp"

#include <algorithm>
#include <array>

namespace ballast {
namespace {

using namespace std::chrono;

struct SpecialClosure {
  int y;
  unsigned m;
  unsigned d;
  std::string_view name;
};

// Unscheduled full-day closures since 1980 (NYSE "historical closings").
constexpr std::array kSpecialClosures{
    SpecialClosure{1985, 9, 27, "Hurricane Gloria"},
    SpecialClosure{1994, 4, 27, "National day of mourning (Richard Nixon)"},
    SpecialClosure{2001, 9, 11, "September 11 attacks"},
    SpecialClosure{2001, 9, 12, "September 11 attacks"},
    SpecialClosure{2001, 9, 13, "September 11 attacks"},
    SpecialClosure{2001, 9, 14, "September 11 attacks"},
    SpecialClosure{2004, 6, 11, "National day of mourning (Ronald Reagan)"},
    SpecialClosure{2007, 1, 2, "National day of mourning (Gerald Ford)"},
    SpecialClosure{2012, 10, 29, "Hurricane Sandy"},
    SpecialClosure{2012, 10, 30, "Hurricane Sandy"},
    SpecialClosure{2018, 12, 5, "National day of mourning (George H. W. Bush)"},
    SpecialClosure{2025, 1, 9, "National day of mourning (Jimmy Carter)"},
};

Days Ymd(int y, unsigned m, unsigned d) {
  return sys_days{year{y} / month{m} / day{d}};
}

// n-th (1-based) weekday `wd` of a month.
Days NthWeekday(int y, unsigned m, weekday wd, unsigned n) {
  return sys_days{year{y} / month{m} / wd[n]};
}

Days LastWeekday(int y, unsigned m, weekday wd) {
  return sys_days{year{y} / month{m} / wd[last]};
}

// Saturday holidays are observed the Friday before, Sunday ones the Monday after.
Days Observed(Days d) {
  const weekday wd{d};
  if (wd == Saturday) return d - days{1};
  if (wd == Sunday) return d + days{1};
  return d;
}

// Gregorian Easter Sunday (anonymous Gregorian algorithm).
Days EasterSunday(int y) {
  const int a = y % 19;
  const int b = y / 100;
  const int c = y % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month_n = (h + l - 7 * m + 114) / 31;
  const int day_n = ((h + l - 7 * m + 114) % 31) + 1;
  return Ymd(y, static_cast<unsigned>(month_n), static_cast<unsigned>(day_n));
}

std::string_view RuleHoliday(Days d) {
  const year_month_day ymd{d};
  const int y = static_cast<int>(ymd.year());
  // New Year's Day: observed on Monday when on Sunday; when on Saturday NYSE does not close the
  // preceding Friday (rule 7.2), so no Observed() here.
  {
    const Days ny = Ymd(y, 1, 1);
    if (weekday{ny} == Sunday ? d == ny + days{1} : d == ny) return "New Year's Day";
  }
  if (y >= 1998 && d == NthWeekday(y, 1, Monday, 3)) return "Martin Luther King Jr. Day";
  if (d == NthWeekday(y, 2, Monday, 3)) return "Washington's Birthday";
  if (d == EasterSunday(y) - days{2}) return "Good Friday";
  if (d == LastWeekday(y, 5, Monday)) return "Memorial Day";
  if (y >= 2022 && d == Observed(Ymd(y, 6, 19))) return "Juneteenth National Independence Day";
  if (d == Observed(Ymd(y, 7, 4))) return "Independence Day";
  if (d == NthWeekday(y, 9, Monday, 1)) return "Labor Day";
  if (d == NthWeekday(y, 11, Thursday, 4)) return "Thanksgiving Day";
  if (d == Observed(Ymd(y, 12, 25))) return "Christmas Day";
  return {};
}

bool IsWeekend(Days d) {
  const weekday wd{d};
  return wd == Saturday || wd == Sunday;
}

}  // namespace

std::string_view NyseCalendar::HolidayName(Days day) noexcept {
  if (IsWeekend(day)) return {};
  const year_month_day ymd{day};
  for (const auto& s : kSpecialClosures) {
    if (static_cast<int>(ymd.year()) == s.y && static_cast<unsigned>(ymd.month()) == s.m &&
        static_cast<unsigned>(ymd.day()) == s.d) {
      return s.name;
    }
  }
  return RuleHoliday(day);
}

bool NyseCalendar::IsTradingDay(Days day) noexcept {
  return !IsWeekend(day) && HolidayName(day).empty();
}

std::optional<int> NyseCalendar::CloseMinutes(Days day) noexcept {
  if (!IsTradingDay(day)) return std::nullopt;
  constexpr int kRegular = 16 * 60;
  constexpr int kEarly = 13 * 60;
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  // Day after Thanksgiving.
  if (day == NthWeekday(y, 11, Thursday, 4) + days{1}) return kEarly;
  // Christmas Eve on a weekday (Mon-Thu; a Friday 24th is the observed Christmas holiday).
  if (ymd.month() == December && ymd.day() == std::chrono::day{24}) return kEarly;
  // July 3rd when Independence Day falls Tuesday to Friday.
  if (ymd.month() == July && ymd.day() == std::chrono::day{3}) {
    const weekday wd4{Ymd(y, 7, 4)};
    if (wd4 != Saturday && wd4 != Sunday && wd4 != Monday) return kEarly;
  }
  return kRegular;
}

Days NyseCalendar::NextTradingDay(Days day) noexcept {
  Days d = day + days{1};
  while (!IsTradingDay(d))
    d += days{1};
  return d;
}

Days NyseCalendar::PreviousTradingDay(Days day) noexcept {
  Days d = day - days{1};
  while (!IsTradingDay(d))
    d -= days{1};
  return d;
}

Days DataSessions::NextSession(Days day) const {
  auto it = std::upper_bound(days_.begin(), days_.end(), day);
  if (it != days_.end()) return *it;
  return NyseCalendar::NextTradingDay(day);
}

}  // namespace ballast
