// The kernel's fixed order within a slice, observed through stub parts: (1) the venue's open,
// (2) marks, (3) timers, (4) the strategy, (5)-(7) plan, risk gate and orders to the venue, then
// the venue's close. And a risk denial is an event, not an error.

#include "ballast/engine/kernel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ballast {
namespace {

using Trace = std::vector<std::string>;

class TraceVenue final : public Venue {
 public:
  explicit TraceVenue(Trace& t) : trace_(t) {}
  void SetListener(VenueListener* l) override { listener = l; }
  void Submit(const Order& o) override {
    trace_.push_back("submit " + std::string(ToString(o.side)) + " " + std::to_string(o.symbol));
  }
  void Cancel(OrderId, std::string_view) override {}
  void OnSliceOpen(std::size_t row) override { trace_.push_back("open " + std::to_string(row)); }
  void OnSliceClose(std::size_t row) override { trace_.push_back("close " + std::to_string(row)); }
  VenueListener* listener = nullptr;

 private:
  Trace& trace_;
};

// Buys 50/50 on its first slice; records what it saw.
class TraceStrategy final : public Strategy {
 public:
  explicit TraceStrategy(Trace& t) : trace_(t) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "trace"; }
  bool Decide(const StrategyContext& ctx, Target& target) override {
    trace_.push_back("decide " + std::to_string(ctx.row));
    marks_seen.push_back(ctx.portfolio.marks[0]);
    first_seen.push_back(ctx.first_slice);
    if (!ctx.first_slice) return false;
    target.weights = {0.5, 0.5};
    target.reason = "test";
    return true;
  }
  bool Recheck(const StrategyContext& ctx, Target&) override {
    trace_.push_back("recheck " + std::to_string(ctx.row));
    return false;
  }
  std::vector<double> marks_seen;
  std::vector<bool> first_seen;

 private:
  Trace& trace_;
};

// Three sessions of two symbols, and every part of a kernel around them.
struct Fixture {
  Trace trace;
  BarPanel panel{{"AAA", "BBB"}};
  NyseSessions sessions;
  SimClock clock;
  TraceStrategy strategy{trace};
  Planner planner{PlannerOptions{}};
  RiskGate risk{0.0, {}};
  TraceVenue venue{trace};
  Ledger ledger{2, 1000.0};
  RunRecord record;
  std::vector<std::string> symbols{"AAA", "BBB"};
  OrderManager orders{venue, ledger, record, symbols, "t"};
  Kernel kernel{
      KernelParts{panel, sessions, clock, strategy, planner, risk, venue, orders, ledger, record},
      KernelOptions{2, -1, false}};
  Fixture() {
    Days d = *ParseIsoDate("2024-01-02");
    for (int r = 0; r < 3; ++r, d += std::chrono::days{1}) {
      const std::size_t row = panel.AppendRow(DayToTimestamp(d));
      panel.SetBar(row, 0, 10.0 + r, 10.0 + r, 10.0 + r, 10.0 + r, 100);
      panel.SetBar(row, 1, 20.0 + r, 20.0 + r, 20.0 + r, 20.0 + r, 100);
    }
  }
};

TEST(KernelTest, EachSliceRunsOpenMarksTimersStrategyOrdersClose) {
  Fixture f;
  f.clock.ScheduleAt(f.panel.Time(1), [&] { f.trace.push_back("timer"); });
  for (std::size_t r = 0; r < 3; ++r)
    f.kernel.OnSlice(r);
  const Trace want{"open 0", "decide 0", "submit buy 0", "submit buy 1", "close 0",  "open 1",
                   "timer",  "decide 1", "close 1",      "open 2",       "decide 2", "close 2"};
  EXPECT_EQ(f.trace, want);
  // The strategy sees the slice's own close as the mark (step 2 came before step 4).
  EXPECT_EQ(f.strategy.marks_seen, (std::vector<double>{10.0, 11.0, 12.0}));
  EXPECT_EQ(f.strategy.first_seen, (std::vector<bool>{true, false, false}));
  // The venue's listener is the order manager: fills go through it to the ledger.
  EXPECT_EQ(f.venue.listener, &f.orders);
  EXPECT_EQ(f.orders.OpenOrders(), 2u);
}

TEST(KernelTest, ResumeMakesTheNextSliceNotTheFirst) {
  Fixture f;
  f.kernel.Resume(*ParseIsoDate("2024-01-01"));
  f.kernel.OnSlice(1);
  EXPECT_EQ(f.strategy.first_seen, std::vector<bool>{false});
  EXPECT_EQ(f.orders.OpenOrders(), 0u);  // no allocation: a resumed session is not a first day
}

TEST(KernelTest, AFurtherSliceOfTheSameSessionRechecksAndNeverDecidesAgain) {
  // Live, the stream updates today's row between checks: the strategy's schedule must not see
  // a second session (it would count it, or rebalance twice on a due day).
  Fixture f;
  f.kernel.OnSlice(0);
  f.trace.clear();
  f.panel.SetBar(0, 0, 10.0, 13.0, 10.0, 13.0, 150);  // a later price for the same day
  f.kernel.OnSlice(0);
  f.kernel.OnSlice(1);
  const Trace want{"open 0", "recheck 0", "close 0", "open 1", "decide 1", "close 1"};
  EXPECT_EQ(f.trace, want);
  EXPECT_EQ(f.kernel.Marks()[0], 11.0);  // row 1's close; row 0's update was marked before it
  EXPECT_EQ(f.strategy.marks_seen, (std::vector<double>{10.0, 11.0}));
}

}  // namespace
}  // namespace ballast
