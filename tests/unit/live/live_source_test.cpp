// The live session's EventSource (live/src/live_source.*): a check is a slice at once; stream
// bars between checks are watch slices of today's row, at most one per interval and with the
// freshest prices, only when the session may take one.
#include "live_source.hpp"

#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {
namespace {

const Days kDay = *ParseIsoDate("2026-07-14");
constexpr Timestamp kSecond = 1'000'000'000LL;
// 2026-07-14 10:00 New York = 14:00 UTC.
const Timestamp kTen = DayToTimestamp(kDay) + 14 * 3600 * kSecond;

struct Sink final : SliceSink {
  LiveSource* source = nullptr;
  const BarPanel* panel = nullptr;
  std::vector<std::pair<LiveSource::Trigger, double>> slices;  // trigger, SPY close seen
  bool ended = false;
  void OnSlice(std::size_t row) override {
    slices.emplace_back(source->Current(), panel->Close(row, 0));
  }
  void OnSourceEnd() override { ended = true; }
};

struct Fixture {
  boost::asio::io_context io;
  SimClock clock;
  bool may = true;
  LiveSource source{clock, 60.0, [this] { return may; }};
  std::shared_ptr<BarPanel> panel = std::make_shared<BarPanel>(std::vector<std::string>{"SPY"});
  Sink sink;
  Fixture() {
    const std::size_t r = panel->AppendRow(DayToTimestamp(kDay));
    panel->SetBar(r, 0, 100, 101, 99, 100, 1000);
    source.SetPanel(panel);
    sink.source = &source;
    sink.panel = panel.get();
    source.Start(io, sink);
    clock.AdvanceTo(kTen);
  }
  void Minute(Timestamp t, double close) {
    source.Today().Add(TodayBars::Kind::kMinute,
                       broker::DailyBar{"SPY", t, close, close, close, close, 10});
    source.OnStreamBar();
  }
  void Run() {
    io.restart();
    io.poll();
  }
};

TEST(LiveSource, ACheckIsASliceAtOnceAndWatchSlicesWaitForTheInterval) {
  Fixture f;
  f.source.Check(0);
  ASSERT_EQ(f.sink.slices.size(), 1u);
  EXPECT_EQ(f.sink.slices[0].first, LiveSource::Trigger::kCheck);
  // Two bars within the minute after the check: one watch slice at its end, with the later price.
  f.Minute(kTen + 10 * kSecond, 103);
  f.Minute(kTen + 20 * kSecond, 104);
  f.Run();
  EXPECT_EQ(f.sink.slices.size(), 1u);
  f.clock.AdvanceTo(kTen + 60 * kSecond);  // fires the scheduled slice
  ASSERT_EQ(f.sink.slices.size(), 2u);
  EXPECT_EQ(f.sink.slices[1].first, LiveSource::Trigger::kWatch);
  EXPECT_EQ(f.sink.slices[1].second, 104);
  EXPECT_EQ(f.panel->Open(0, 0), 100);  // the day's open stays; the range widens
  EXPECT_EQ(f.panel->High(0, 0), 104);
  // After the interval a bar is a slice at once (posted on the io_context).
  f.clock.AdvanceTo(kTen + 130 * kSecond);
  f.Minute(kTen + 125 * kSecond, 102);
  EXPECT_EQ(f.sink.slices.size(), 2u);
  f.Run();
  ASSERT_EQ(f.sink.slices.size(), 3u);
  EXPECT_EQ(f.sink.slices[2].second, 102);
  EXPECT_EQ(f.source.WatchSlices(), 2u);
}

TEST(LiveSource, NoWatchSliceWhenTheSessionMayNotOrNothingMoved) {
  Fixture f;
  f.source.Check(0);
  f.clock.AdvanceTo(kTen + 61 * kSecond);
  f.may = false;  // e.g. a cycle's orders are in flight
  f.Minute(kTen + 61 * kSecond, 103);
  f.Run();
  EXPECT_EQ(f.sink.slices.size(), 1u);
  f.may = true;  // the next bar brings it
  f.Minute(kTen + 62 * kSecond, 103);
  f.Run();
  ASSERT_EQ(f.sink.slices.size(), 2u);
  // The same prices again a minute later: nothing moved, no slice.
  f.clock.AdvanceTo(kTen + 130 * kSecond);
  f.Minute(kTen + 62 * kSecond, 103);
  f.Run();
  EXPECT_EQ(f.sink.slices.size(), 2u);
  // A bar of another day (today's row is made at today's check) is no slice of this row.
  f.clock.AdvanceTo(DayToTimestamp(kDay + std::chrono::days(1)) + 14 * 3600 * kSecond);
  f.Minute(f.clock.Now(), 110);
  f.Run();
  EXPECT_EQ(f.sink.slices.size(), 2u);
  f.source.Stop();
  EXPECT_TRUE(f.sink.ended);
}

TEST(LiveSource, WithoutAnIntervalOnlyChecksAreSlices) {
  boost::asio::io_context io;
  SimClock clock;
  LiveSource source{clock, 0.0, [] { return true; }};
  auto panel = std::make_shared<BarPanel>(std::vector<std::string>{"SPY"});
  panel->SetBar(panel->AppendRow(DayToTimestamp(kDay)), 0, 100, 100, 100, 100, 1);
  source.SetPanel(panel);
  Sink sink;
  sink.source = &source;
  sink.panel = panel.get();
  source.Start(io, sink);
  clock.AdvanceTo(kTen);
  source.Today().Add(TodayBars::Kind::kMinute,
                     broker::DailyBar{"SPY", kTen, 105, 105, 105, 105, 1});
  source.OnStreamBar();
  io.poll();
  clock.AdvanceTo(kTen + 3600 * kSecond);
  EXPECT_TRUE(sink.slices.empty());
  source.Check(0);
  ASSERT_EQ(sink.slices.size(), 1u);
}

}  // namespace
}  // namespace ballast::live::detail
