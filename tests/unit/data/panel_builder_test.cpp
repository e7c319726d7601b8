#include "ballast/data/panel_builder.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ballast::data {
namespace {

SymbolSeries Series(std::string sym, std::vector<const char*> dates, std::vector<double> closes) {
  SymbolSeries s;
  s.symbol = std::move(sym);
  for (std::size_t i = 0; i < dates.size(); ++i) {
    s.time.push_back(DayToTimestamp(*ParseIsoDate(dates[i])));
    s.open.push_back(closes[i] - 0.5);
    s.high.push_back(closes[i] + 1);
    s.low.push_back(closes[i] - 1);
    s.close.push_back(closes[i]);
    s.volume.push_back(10);
  }
  return s;
}

TEST(PanelBuilderTest, AxisIsTheUnionOfTradableDatesOnly) {
  const auto a = Series("A", {"2020-01-02", "2020-01-03", "2020-01-07"}, {1, 2, 3});
  const auto b = Series("B", {"2020-01-03", "2020-01-06"}, {10, 11});
  const auto bench = Series("X", {"2020-01-02", "2020-01-04", "2020-01-07"}, {100, 101, 102});
  const BarPanel p = BuildPanel({a, b}, {bench}, DayToTimestamp(*ParseIsoDate("2020-01-01")));
  ASSERT_EQ(p.Rows(), 4u);  // 2, 3, 6, 7 (the benchmark's 4th is not a session)
  ASSERT_EQ(p.Cols(), 3u);
  EXPECT_EQ(FormatDate(p.Day(2)), "2020-01-06");
  EXPECT_EQ(p.Close(0, 0), 1.0);
  EXPECT_TRUE(std::isnan(p.Close(0, 1)));
  EXPECT_FALSE(p.HasBar(2, 0));
  EXPECT_EQ(p.Close(2, 1), 11.0);
  EXPECT_EQ(p.Open(2, 1), 10.5);
  EXPECT_EQ(p.Close(3, 2), 102.0);
  EXPECT_FALSE(p.HasBar(1, 2));
  EXPECT_EQ(p.IndexOf("B"), 1);
  EXPECT_EQ(p.IndexOf("Z"), -1);
}

TEST(PanelBuilderTest, FromDropsEarlierRows) {
  const auto a = Series("A", {"2020-01-02", "2020-01-03"}, {1, 2});
  const BarPanel p = BuildPanel({a}, {}, DayToTimestamp(*ParseIsoDate("2020-01-03")));
  ASSERT_EQ(p.Rows(), 1u);
  EXPECT_EQ(p.Close(0, 0), 2.0);
}

}  // namespace
}  // namespace ballast::data
