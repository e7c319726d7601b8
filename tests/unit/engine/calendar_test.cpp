#include "ballast/engine/calendar.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

Days D(const char* s) {
  return *ParseIsoDate(s);
}

int SessionsIn(int year) {
  int n = 0;
  for (Days d = D((std::to_string(year) + "-01-01").c_str());
       d <= D((std::to_string(year) + "-12-31").c_str()); d += std::chrono::days{1}) {
    n += NyseCalendar::IsTradingDay(d) ? 1 : 0;
  }
  return n;
}

TEST(NyseCalendarTest, SpecialClosuresAreClosed) {
  for (const char* d :
       {"2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14", "2004-06-11", "2007-01-02",
        "2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09", "1994-04-27"}) {
    EXPECT_FALSE(NyseCalendar::IsTradingDay(D(d))) << d;
    EXPECT_FALSE(NyseCalendar::HolidayName(D(d)).empty()) << d;
  }
  EXPECT_TRUE(NyseCalendar::IsTradingDay(D("2001-09-17")));
}

TEST(NyseCalendarTest, RuleHolidaysAndObservance) {
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-03-29")));  // Good Friday
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2025-01-20")));  // MLK
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2022-06-20")));  // Juneteenth observed (19th a Sunday)
  EXPECT_TRUE(NyseCalendar::IsTradingDay(D("2021-06-18")));   // Juneteenth only from 2022
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2026-07-03")));  // July 4th on a Saturday
  EXPECT_TRUE(NyseCalendar::IsTradingDay(D("2021-12-31")));   // New Year on Saturday: not observed
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2023-01-02")));  // New Year on Sunday: Monday
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2022-12-26")));  // Christmas on Sunday: Monday
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-11-28")));  // Thanksgiving
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-09-02")));  // Labor Day
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-05-27")));  // Memorial Day
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-02-19")));  // Washington's Birthday
  EXPECT_FALSE(NyseCalendar::IsTradingDay(D("2024-12-21")));  // Saturday
  EXPECT_TRUE(NyseCalendar::HolidayName(D("2024-12-21")).empty());
}

TEST(NyseCalendarTest, EarlyCloses) {
  EXPECT_EQ(NyseCalendar::CloseMinutes(D("2024-11-29")), 13 * 60);  // day after Thanksgiving
  EXPECT_EQ(NyseCalendar::CloseMinutes(D("2024-12-24")), 13 * 60);
  EXPECT_EQ(NyseCalendar::CloseMinutes(D("2024-07-03")), 13 * 60);  // July 4th a Thursday
  EXPECT_EQ(NyseCalendar::CloseMinutes(D("2022-07-01")), 16 * 60);  // July 4th a Monday: none
  EXPECT_EQ(NyseCalendar::CloseMinutes(D("2024-07-05")), 16 * 60);
  EXPECT_FALSE(NyseCalendar::CloseMinutes(D("2024-07-04")).has_value());
}

TEST(NyseCalendarTest, SessionCountsPerYearMatchPublishedCalendars) {
  EXPECT_EQ(SessionsIn(2018), 251);
  EXPECT_EQ(SessionsIn(2019), 252);
  EXPECT_EQ(SessionsIn(2020), 253);
  EXPECT_EQ(SessionsIn(2021), 252);
  EXPECT_EQ(SessionsIn(2022), 251);
  EXPECT_EQ(SessionsIn(2023), 250);
  EXPECT_EQ(SessionsIn(2024), 252);
}

TEST(NyseCalendarTest, NextAndPreviousSkipClosures) {
  EXPECT_EQ(NyseCalendar::NextTradingDay(D("2001-09-10")), D("2001-09-17"));
  EXPECT_EQ(NyseCalendar::PreviousTradingDay(D("2012-10-31")), D("2012-10-26"));
}

TEST(DataSessionsTest, UsesDataDatesThenFallsBackToNyse) {
  DataSessions s({D("2024-01-02"), D("2024-01-05"), D("2024-01-08")});
  EXPECT_EQ(s.NextSession(D("2024-01-02")), D("2024-01-05"));  // data gap on 3rd/4th
  EXPECT_EQ(s.NextSession(D("2024-01-03")), D("2024-01-05"));
  EXPECT_EQ(s.NextSession(D("2024-01-08")), D("2024-01-09"));  // past the data: NYSE
  EXPECT_EQ(s.NextSession(D("2024-01-12")), D("2024-01-16"));  // MLK day skipped
}

}  // namespace
}  // namespace ballast
