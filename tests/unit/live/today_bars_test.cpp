// Today's daily bar from the market-data stream (live/src/today_bars.*): never one minute bar.
#include "today_bars.hpp"

#include <gtest/gtest.h>

#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {
namespace {

using Kind = TodayBars::Kind;

const Days kDay = *ParseIsoDate("2026-07-14");
// 2026-07-14 09:30 New York (EDT, UTC-4) = 13:30 UTC.
const Timestamp kOpen = DayToTimestamp(kDay) + (13 * 60 + 30) * 60'000'000'000LL;
constexpr Timestamp kMinute = 60'000'000'000LL;

broker::DailyBar Bar(Timestamp t, double o, double h, double l, double c, double v) {
  return broker::DailyBar{"SPY", t, o, h, l, c, v};
}

TEST(TodayBars, OneMinuteBarIsNeverTheDayOverAKnownDailyBar) {
  TodayBars b;
  // REST's bar of the day so far, then one minute bar from the stream.
  const broker::DailyBar rest =
      Bar(DayToTimestamp(kDay) + 4 * 3600'000'000'000LL, 400, 405, 398, 404, 1'000'000);
  b.Add(Kind::kMinute, Bar(kOpen + 200 * kMinute, 404, 406.5, 403.5, 406, 5'000));
  const auto d = b.Day("SPY", kDay, &rest);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->open, 400);          // the day's open, not the minute's
  EXPECT_EQ(d->high, 406.5);        // the minute's high is above the day's so far
  EXPECT_EQ(d->low, 398);           // the day's low stands
  EXPECT_EQ(d->close, 406);         // the freshest price
  EXPECT_EQ(d->volume, 1'000'000);  // the day's volume, not 5,000
  EXPECT_EQ(NyDate(d->t), kDay);
}

TEST(TodayBars, TheStreamsDailyBarWinsAndUpdatedMinutesReplace) {
  TodayBars b;
  b.Add(Kind::kMinute, Bar(kOpen, 401, 402, 399, 401.5, 10'000));
  b.Add(Kind::kUpdatedMinute, Bar(kOpen, 401, 402, 397, 401.2, 12'000));  // the same minute
  b.Add(Kind::kDaily, Bar(kOpen, 400.5, 402, 397, 401.2, 2'000'000));
  const broker::DailyBar rest = Bar(DayToTimestamp(kDay) + 4 * 3600'000'000'000LL, 1, 1, 1, 1, 1);
  const auto d = b.Day("SPY", kDay, &rest);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->open, 400.5);
  EXPECT_EQ(d->low, 397);  // the updated minute's, which replaced the first version's 399
  EXPECT_EQ(d->close, 401.2);
  EXPECT_EQ(d->volume, 2'000'000);
}

TEST(TodayBars, WithoutADailyBarTheDayIsEveryMinuteSeenAndATradeMovesTheClose) {
  TodayBars b;
  b.Add(Kind::kMinute, Bar(kOpen, 400, 401, 399.5, 400.5, 1'000));
  b.Add(Kind::kMinute, Bar(kOpen + kMinute, 400.5, 403, 400, 402, 2'000));
  b.Add(Kind::kMinute, Bar(kOpen + 2 * kMinute, 402, 402.5, 398, 399, 3'000));
  auto d = b.Day("SPY", kDay, nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->open, 400);
  EXPECT_EQ(d->high, 403);
  EXPECT_EQ(d->low, 398);
  EXPECT_EQ(d->close, 399);
  EXPECT_EQ(d->volume, 6'000);
  // A trade after the last minute ended is the freshest price; one inside it is not.
  b.Add(Kind::kTrade, Bar(kOpen + 3 * kMinute + 5'000'000'000LL, 0, 0, 0, 403.5, 100));
  d = b.Day("SPY", kDay, nullptr);
  EXPECT_EQ(d->close, 403.5);
  EXPECT_EQ(d->high, 403.5);
  b.Add(Kind::kMinute, Bar(kOpen + 3 * kMinute, 399, 404, 399, 403, 500));
  d = b.Day("SPY", kDay, nullptr);
  EXPECT_EQ(d->close, 403);  // that minute ends after the trade
}

TEST(TodayBars, ANewDayStartsAfreshAndLateBarsOfAnOldDayAreIgnored) {
  TodayBars b;
  b.Add(Kind::kMinute, Bar(kOpen, 400, 401, 399, 400, 1));
  const Timestamp next = kOpen + 24 * 3600'000'000'000LL;
  b.Add(Kind::kMinute, Bar(next, 410, 411, 409, 410, 1));
  b.Add(Kind::kUpdatedMinute, Bar(kOpen, 400, 420, 390, 400, 1));  // yesterday's: ignored
  EXPECT_FALSE(b.Day("SPY", kDay, nullptr));
  const auto d = b.Day("SPY", kDay + std::chrono::days(1), nullptr);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->high, 411);
  EXPECT_EQ(b.DaysSeen(), std::set<Days>{kDay + std::chrono::days(1)});
  EXPECT_FALSE(b.Day("QQQ", kDay, nullptr));
}

}  // namespace
}  // namespace ballast::live::detail
