#include "ballast/strategies/schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ballast::strategies {
namespace {

Days D(const char* s) {
  return *ParseIsoDate(s);
}

// Which of `days` are due under `s`, replaying them as a backtest would.
std::vector<std::string> DueDays(Schedule s, const std::vector<Days>& days) {
  DataSessions sessions(days);
  std::vector<std::string> due;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const Days* prev = i ? &days[i - 1] : nullptr;
    if (s.IsDue(days[i], prev, sessions)) due.push_back(FormatDate(days[i]));
  }
  return due;
}

std::vector<Days> NyseDays(const char* from, const char* to) {
  std::vector<Days> out;
  for (Days d = D(from); d <= D(to); d += std::chrono::days{1}) {
    if (NyseCalendar::IsTradingDay(d)) out.push_back(d);
  }
  return out;
}

TEST(ScheduleTest, MonthlyFirstAndLast) {
  const auto days = NyseDays("2024-01-02", "2024-04-30");
  EXPECT_EQ(DueDays({Frequency::kMonthly, Anchor::kFirst}, days),
            (std::vector<std::string>{"2024-01-02", "2024-02-01", "2024-03-01", "2024-04-01"}));
  // 2024-03-28: Good Friday (29th) closes the month early.
  EXPECT_EQ(DueDays({Frequency::kMonthly, Anchor::kLast}, days),
            (std::vector<std::string>{"2024-01-31", "2024-02-29", "2024-03-28", "2024-04-30"}));
}

TEST(ScheduleTest, WeeklyUsesIsoWeeks) {
  // 2020-12-28 (Mon) .. 2021-01-08: the ISO week 2020-W53 spans New Year.
  const auto days = NyseDays("2020-12-28", "2021-01-08");
  EXPECT_EQ(DueDays({Frequency::kWeekly, Anchor::kFirst}, days),
            (std::vector<std::string>{"2020-12-28", "2021-01-04"}));
  EXPECT_EQ(DueDays({Frequency::kWeekly, Anchor::kLast}, days),
            (std::vector<std::string>{"2020-12-31", "2021-01-08"}));
}

TEST(ScheduleTest, QuarterlyAnnuallyDaily) {
  const auto days = NyseDays("2019-12-20", "2020-07-10");
  EXPECT_EQ(DueDays({Frequency::kQuarterly, Anchor::kFirst}, days),
            (std::vector<std::string>{"2019-12-20", "2020-01-02", "2020-04-01", "2020-07-01"}));
  EXPECT_EQ(DueDays({Frequency::kAnnually, Anchor::kLast}, days),
            (std::vector<std::string>{"2019-12-31"}));
  EXPECT_EQ(DueDays({Frequency::kDaily, Anchor::kFirst}, days).size(), days.size());
}

TEST(ScheduleTest, LastSessionOfDataUsesTheExchangeCalendar) {
  // Data ends on 2024-01-30: the 30th is not the month's last session (NYSE trades on the 31st).
  const auto days = NyseDays("2024-01-22", "2024-01-30");
  EXPECT_TRUE(DueDays({Frequency::kMonthly, Anchor::kLast}, days).empty());
}

}  // namespace
}  // namespace ballast::strategies
