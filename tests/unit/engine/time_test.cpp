#include "ballast/engine/time.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

TEST(TimeTest, ParsesValidIsoDatesOnly) {
  EXPECT_TRUE(ParseIsoDate("2020-02-29").has_value());
  EXPECT_FALSE(ParseIsoDate("2019-02-29").has_value());
  EXPECT_FALSE(ParseIsoDate("2020-1-01").has_value());
  EXPECT_FALSE(ParseIsoDate("2020/01/01").has_value());
  EXPECT_FALSE(ParseIsoDate("2020-01-01 ").has_value());
  EXPECT_FALSE(ParseIsoDate("20a0-01-01").has_value());
  EXPECT_FALSE(ParseIsoDate("2020-13-01").has_value());
}

TEST(TimeTest, DateTimestampRoundTrip) {
  const auto d = *ParseIsoDate("2013-02-08");
  EXPECT_EQ(FormatDate(d), "2013-02-08");
  EXPECT_EQ(DayToTimestamp(d), 1360281600LL * 1'000'000'000LL);  // date -u -d 2013-02-08 +%s
  EXPECT_EQ(TimestampToDay(DayToTimestamp(d) + kNanosPerDay - 1), d);
  EXPECT_EQ(FormatDate(TimestampToDay(-1)), "1969-12-31");
}

TEST(TimeTest, IsoWeekKeysFollowIso8601) {
  EXPECT_EQ(IsoWeekKey(*ParseIsoDate("2021-01-03")), 202053);  // Sunday of 2020-W53
  EXPECT_EQ(IsoWeekKey(*ParseIsoDate("2021-01-04")), 202101);
  EXPECT_EQ(IsoWeekKey(*ParseIsoDate("2024-12-30")), 202501);  // Monday of 2025-W01
  EXPECT_EQ(IsoWeekKey(*ParseIsoDate("2019-12-31")), 202001);
  EXPECT_EQ(IsoWeekKey(*ParseIsoDate("2016-01-01")), 201553);
}

}  // namespace
}  // namespace ballast
