#include "ballast/engine/clock.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ballast {
namespace {

TEST(SimClockTest, FiresDueTimersInTimeThenSchedulingOrder) {
  SimClock clock;
  std::vector<int> fired;
  clock.ScheduleAt(30, [&] { fired.push_back(3); });
  clock.ScheduleAt(10, [&] { fired.push_back(1); });
  clock.ScheduleAt(10, [&] { fired.push_back(2); });
  clock.AdvanceTo(5);
  EXPECT_TRUE(fired.empty());
  clock.FireDue(10);
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_EQ(clock.Now(), 10);
  clock.AdvanceTo(100);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(SimClockTest, NeverMovesBackwards) {
  SimClock clock;
  clock.AdvanceTo(50);
  clock.AdvanceTo(20);
  EXPECT_EQ(clock.Now(), 50);
}

}  // namespace
}  // namespace ballast
