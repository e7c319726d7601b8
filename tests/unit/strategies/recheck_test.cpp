// A further slice of a session the strategy already decided (a live session's stream between
// checks) is a recheck: drift bands are watched on a check day, and no schedule decides twice.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ballast/strategies/registry.hpp"

namespace ballast::strategies {
namespace {

struct Book {
  BarPanel panel{{"AAA", "BBB"}};
  NyseSessions sessions;
  RunRecord record;
  std::vector<double> qty{0.0, 0.0}, marks{0.0, 0.0};
  double cash = 1000.0;
  std::vector<Days> days;

  Book() {
    for (const char* d : {"2024-01-02", "2024-01-03"}) {
      days.push_back(*ParseIsoDate(d));
      const std::size_t r = panel.AppendRow(DayToTimestamp(days.back()));
      panel.SetBar(r, 0, 10.0, 10.0, 10.0, 10.0, 100);
      panel.SetBar(r, 1, 10.0, 10.0, 10.0, 10.0, 100);
    }
  }
  void Price(std::size_t row, double aaa) { panel.SetBar(row, 0, aaa, aaa, aaa, aaa, 100); }
  // The context of row `row`, valued at its closes (the kernel's marks).
  StrategyContext At(std::size_t row, bool first, const Days* previous) {
    marks = {panel.Close(row, 0), panel.Close(row, 1)};
    const double equity = cash + qty[0] * marks[0] + qty[1] * marks[1];
    return StrategyContext{panel, row,      days[row], 2,
                           first, previous, sessions,  PortfolioView{qty, marks, cash, equity},
                           record};
  }
  // Holds 50/50 at 10.
  void Allocate() {
    qty = {50.0, 50.0};
    cash = 0.0;
  }
};

std::unique_ptr<Strategy> Make(const std::string& json) {
  StrategyRegistry r;
  RegisterBuiltinStrategies(r);
  auto doc = ConfigDocument::FromText(json, "c.json");
  return r.Parse(doc.Root().At("strategy")).make();
}

Target Sized() {
  Target t;
  t.weights.assign(2, kNaN);
  return t;
}

TEST(RecheckTest, ThresholdWatchesItsBandsForTheRestOfACheckDay) {
  auto s = Make(R"({"strategy": {"type": "threshold", "band": {"absolute": 0.05},
                    "check": "daily", "targets": {"AAA": 0.5, "BBB": 0.5}}})");
  Book b;
  Target t = Sized();
  ASSERT_TRUE(s->Decide(b.At(0, true, nullptr), t));  // the first allocation
  b.Allocate();
  t = Sized();
  EXPECT_FALSE(s->Decide(b.At(1, false, &b.days[0]), t));  // inside the bands at the check
  // Later that session the stream moves AAA 30 %: 56.5 % of the book, out of its band.
  b.Price(1, 13.0);
  t = Sized();
  ASSERT_TRUE(s->Recheck(b.At(1, false, &b.days[1]), t));
  EXPECT_EQ(t.reason, "drift");
  EXPECT_DOUBLE_EQ(t.weights[0], 0.5);
  EXPECT_DOUBLE_EQ(t.weights[1], 0.5);
}

TEST(RecheckTest, NoBandsAreWatchedOnADayThatWasNotACheck) {
  // Weekly checks on the first session of each week: 2024-01-03 is not one.
  auto s = Make(R"({"strategy": {"type": "threshold", "band": {"absolute": 0.05},
                    "check": "weekly", "on": "first",
                    "targets": {"AAA": 0.5, "BBB": 0.5}}})");
  Book b;
  Target t = Sized();
  ASSERT_TRUE(s->Decide(b.At(0, true, nullptr), t));
  b.Allocate();
  t = Sized();
  EXPECT_FALSE(s->Decide(b.At(1, false, &b.days[0]), t));  // not a check day
  b.Price(1, 13.0);
  t = Sized();
  EXPECT_FALSE(s->Recheck(b.At(1, false, &b.days[1]), t));
}

TEST(RecheckTest, ACalendarScheduleNeverDecidesTwiceInASession) {
  // Rebalances daily: a recheck of the same session is not another day.
  auto s = Make(R"({"strategy": {"type": "calendar", "frequency": "daily",
                    "targets": {"AAA": 0.5, "BBB": 0.5}}})");
  Book b;
  Target t = Sized();
  ASSERT_TRUE(s->Decide(b.At(0, true, nullptr), t));
  b.Allocate();
  b.Price(0, 13.0);
  t = Sized();
  EXPECT_FALSE(s->Recheck(b.At(0, false, &b.days[0]), t));
  t = Sized();
  EXPECT_TRUE(s->Decide(b.At(1, false, &b.days[0]), t));  // the next session decides
}

TEST(RecheckTest, SleevesForwardARecheckToEachSleeveAndNetTheBooks) {
  // Two sleeves of 500 each on the same symbols: a monthly calendar and daily bands.
  auto s = Make(R"({"strategy": {"type": "sleeves", "rebalance": "quarterly", "sleeves": [
      {"name": "core", "weight": 0.5, "strategy": {"type": "calendar", "frequency": "monthly",
                                                   "targets": {"AAA": 0.5, "BBB": 0.5}}},
      {"name": "bands", "weight": 0.5, "strategy": {"type": "threshold", "check": "daily",
         "band": {"absolute": 0.05}, "targets": {"AAA": 0.5, "BBB": 0.5}}}]}})");
  Book b;
  Target t = Sized();
  ASSERT_TRUE(s->Decide(b.At(0, true, nullptr), t));
  b.Allocate();
  t = Sized();
  EXPECT_FALSE(s->Decide(b.At(1, false, &b.days[0]), t));  // no sleeve trades on 2024-01-03
  // AAA +30 % later that session. Each book holds 25 AAA and 25 BBB (575). The calendar sleeve
  // keeps them; the banded one (AAA 56.5 %) goes back to 287.5 each. The account: AAA
  // 325 + 287.5 of 1,150.
  b.Price(1, 13.0);
  t = Sized();
  ASSERT_TRUE(s->Recheck(b.At(1, false, &b.days[1]), t));
  EXPECT_EQ(t.reason, "sleeves");
  EXPECT_NEAR(t.weights[0], 612.5 / 1150.0, 1e-12);
  EXPECT_NEAR(t.weights[1], 537.5 / 1150.0, 1e-12);
  // Nothing moved since: the recheck finds every book where it left it.
  t = Sized();
  EXPECT_FALSE(s->Recheck(b.At(1, false, &b.days[1]), t));
}

}  // namespace
}  // namespace ballast::strategies
