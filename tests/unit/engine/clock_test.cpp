#include "ballast/engine/clock.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

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

TEST(ReplayClockTest, AsFastAsPossibleJumpsToTheNextTimerOnlyWhenIdle) {
  boost::asio::io_context io;
  int in_flight = 2;  // work the session still has to do before time may move on
  ReplayClock clock(io, 1000, 0.0, [&] { return in_flight == 0; });
  std::vector<std::pair<int, Timestamp>> fired;
  clock.ScheduleAt(5000, [&] { fired.push_back({2, clock.Now()}); });
  clock.ScheduleAt(3000, [&] { fired.push_back({1, clock.Now()}); });
  // The work finishes a step at a time, on the same loop; the clock waits for it.
  std::function<void()> step = [&] {
    EXPECT_TRUE(fired.empty());
    EXPECT_EQ(clock.Now(), 1000);
    if (--in_flight > 0) boost::asio::post(io, step);
  };
  boost::asio::post(io, step);
  io.run();
  EXPECT_EQ(in_flight, 0);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], (std::pair<int, Timestamp>{1, 3000}));  // in time order, at their times
  EXPECT_EQ(fired[1], (std::pair<int, Timestamp>{2, 5000}));
  EXPECT_EQ(clock.Now(), 5000);
}

TEST(ReplayClockTest, PacedRunsAtItsSpeedAndALateTimerHoldsTheReplayAtItsTime) {
  boost::asio::io_context io;
  // A million times real time: 50 simulated seconds take 50 microseconds of timers.
  ReplayClock clock(io, 0, 1e6);
  Timestamp seen = -1;
  clock.ScheduleAt(50'000'000'000, [&] { seen = clock.Now(); });
  io.run();
  EXPECT_GE(seen, 50'000'000'000);
  // Serviced late or not, the timer saw its own time (to within the few real microseconds since).
  EXPECT_LT(seen - 50'000'000'000, 1'000'000'000'000) << "the replay ran far past the timer";
  clock.JumpTo(100'000'000'000);
  EXPECT_GE(clock.Now(), 100'000'000'000);
}

}  // namespace
}  // namespace ballast
