#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sstream>

#include "ballast/engine/run_record.hpp"
#include "ballast/live/journal.hpp"
#include "ballast/live/time_ny.hpp"
#include "testkit.hpp"

namespace ballast::live {
namespace {

TEST(Journal, SurvivesReopenAndTracksOrdersAndFills) {
  testkit::TempDir dir;
  const std::string path = dir / "j.sqlite";
  const Days day = *ParseIsoDate("2026-07-14");
  std::int64_t cycle = 0;
  {
    Journal j(path);
    EXPECT_FALSE(j.LastCycle());
    cycle = j.BeginCycle(day, "scheduled", 1);
    auto order = [&](const char* id, const char* sym, const char* side, double qty, double px) {
      JournalOrder o;
      o.client_order_id = id;
      o.cycle = cycle;
      o.symbol = sym;
      o.side = side;
      o.qty = qty;
      o.ref_price = px;
      o.state = "planned";
      return o;
    };
    j.PlanOrders(cycle, {order("c1", "SPY", "buy", 10, 500), order("c2", "AGG", "sell", 5, 100)},
                 "[]");
    j.SetOrderState("c1", "sending");
    j.SetState("last_decision_day", "2026-07-14");
  }
  Journal j(path);  // a new process
  const auto last = j.LastCycle();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->id, cycle);
  EXPECT_EQ(last->state, "planned");
  EXPECT_EQ(last->day, day);
  const auto open = j.OpenOrders();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].state, "sending");
  EXPECT_EQ(open[1].state, "planned");
  EXPECT_DOUBLE_EQ(j.SentNotional(day), 10 * 500);  // only what may have left
  EXPECT_TRUE(j.RecordFill(JournalFill{"e1", "c1", "SPY", "buy", 4, 501, 0, 2}));
  EXPECT_FALSE(j.RecordFill(JournalFill{"e1", "c1", "SPY", "buy", 4, 501, 0, 2}));  // duplicate
  EXPECT_TRUE(j.RecordFill(JournalFill{"e2", "c1", "SPY", "buy", 6, 502, 0, 3}));
  EXPECT_DOUBLE_EQ(j.FilledQty("c1"), 10.0);
  j.SetOrderState("c1", "filled", "broker-1");
  j.SetOrderState("c2", "rejected", {}, "HTTP 403 insufficient buying power");
  EXPECT_TRUE(j.OpenOrders().empty());
  const auto orders = j.CycleOrders(cycle);
  EXPECT_EQ(orders[0].broker_id, "broker-1");
  EXPECT_EQ(orders[1].reason, "HTTP 403 insufficient buying power");
  EXPECT_EQ(*j.State("last_decision_day"), "2026-07-14");
  EXPECT_FALSE(j.State("nothing"));
}

TEST(Journal, EquityKeepsOneRowPerDayAndTheCsvMatchesHandFigures) {
  testkit::TempDir dir;
  const std::string path = dir / "j.sqlite";
  const Days d1 = *ParseIsoDate("2026-07-13"), d2 = *ParseIsoDate("2026-07-14"),
             d3 = *ParseIsoDate("2026-07-15");
  {
    Journal j(path);
    j.RecordEquity({d1, 1, 1000.0, 100.0, 0.0, "done", 50.0});
    j.RecordEquity({d2, 2, 1200.0, 100.0, 0.01, "waiting", 55.0});
    j.RecordEquity({d2, 3, 1100.0, 100.0, 0.02, "nothing_due", 55.0});  // replaces d2's row
  }
  Journal j(path);  // survives reopening
  j.RecordEquity({d3, 4, 990.0, 90.0, 0.03, "done", 49.5});
  const auto rows = j.EquityRows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].cycle_state, "nothing_due");
  const std::string csv = EquityCsv(rows);
  std::istringstream in(csv);
  std::string header, r1, r2, r3;
  std::getline(in, header);
  std::getline(in, r1);
  std::getline(in, r2);
  std::getline(in, r3);
  EXPECT_EQ(header,
            "date,equity,cash,positions_value,daily_return,drawdown,flow,benchmark_equity,drift,"
            "cycle_state,time");
  // By hand: returns 1100/1000-1 = 0.1 and 990/1100-1 = -0.1; peak 1100, drawdown 990/1100-1;
  // benchmark 1000 * 55/50 = 1100 and 1000 * 49.5/50 = 990.
  EXPECT_EQ(r1.substr(0, r1.rfind(',')), "2026-07-13,1000,100,900,0,0,0,1000,0,done");
  EXPECT_EQ(r2.substr(0, r2.rfind(',')), "2026-07-14,1100,100,1000," +
                                             JsonNumber(1100.0 / 1000.0 - 1.0) +
                                             ",0,0,1100,0.02,nothing_due");
  EXPECT_EQ(r3.substr(0, r3.rfind(',')), "2026-07-15,990,90,900," +
                                             JsonNumber(990.0 / 1100.0 - 1.0) + "," +
                                             JsonNumber(990.0 / 1100.0 - 1.0) + ",0,990,0.03,done");
}

TEST(Journal, EquityCsvIsTimeWeightedFromTheBaseAndAFlowIsNotAReturn) {
  testkit::TempDir dir;
  Journal j(dir / "j.sqlite");
  const Days d1 = *ParseIsoDate("2026-07-13"), d2 = *ParseIsoDate("2026-07-14");
  j.RecordEquity({d1, 1, 990.0, 0.0, 0.0, "done", 50.0});   // 10 of costs on day one
  j.RecordEquity({d2, 2, 1210.0, 0.0, 0.0, "done", 55.0});  // +200 contributed, +20 earned
  j.SetFlow(d2, 100.0);
  j.SetFlow(d2, 200.0);  // set, not added: a re-made decision books its flow once
  EXPECT_DOUBLE_EQ(j.FlowTotal(), 200.0);
  const auto rows = j.EquityRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[1].flow, 200.0);
  std::istringstream lump(EquityCsv(rows, 1000.0, /*benchmark_same_flows=*/false));
  std::string line;
  for (int i = 0; i < 3; ++i)
    std::getline(lump, line);
  EXPECT_NE(line.find(",200," + JsonNumber(1000.0 * 55 / 50) + ","), std::string::npos) << line;
  std::istringstream in(EquityCsv(rows, 1000.0));
  std::string header, r1, r2;
  std::getline(in, header);
  std::getline(in, r1);
  std::getline(in, r2);
  // By hand, from the base 1000: day one 990/1000-1 = -0.01 (drawdown 0: as in a backtest, the
  // peak is the index's since the first day); day two (1210-200)/990-1 = 0.0202..., the index
  // 1.01 a new peak; the benchmark account gets the same money (issue 15): 1000 bought 20 units
  // at 50, worth 1100 at 55, and the 200 contributed buys 200/55 more: 1300.
  EXPECT_EQ(r1.substr(0, r1.find(",done")),
            "2026-07-13,990,0,990," + JsonNumber(990.0 / 1000 - 1) + ",0,0,1000,0");
  const double index2 = (990.0 / 1000) * (1010.0 / 990.0);
  EXPECT_EQ(r2.substr(0, r2.find(",done")),
            "2026-07-14,1210,0,1210," + JsonNumber(index2 / (990.0 / 1000) - 1) + ",0,200," +
                JsonNumber(1000.0 * 55 / 50 + 200.0) + ",0");
}

TEST(Journal, KeepsLimitPricesAndStatusesAndOpensAJournalWrittenBeforeThem) {
  testkit::TempDir dir;
  const std::string path = dir / "j.sqlite";
  const Days day = *ParseIsoDate("2026-07-14");
  auto order = [](std::int64_t cycle, const char* id, double limit) {
    JournalOrder o;
    o.client_order_id = id;
    o.cycle = cycle;
    o.symbol = "SPY";
    o.side = "buy";
    o.qty = 1.0;
    o.ref_price = 400.0;
    o.limit_price = limit;
    o.state = "planned";
    return o;
  };
  {
    Journal j(path);
    const auto c = j.BeginCycle(day, "scheduled", 1);
    j.PlanOrders(c, {order(c, "old-market", 0.0)}, "[]");
  }
  // As a journal from before limit orders and the order manager's status: neither column.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE orders DROP COLUMN limit_price; "
                         "ALTER TABLE orders DROP COLUMN status",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  {
    Journal j(path);
    const auto old_orders = j.OpenOrders();
    ASSERT_EQ(old_orders.size(), 1u);
    EXPECT_EQ(old_orders[0].limit_price, 0.0);  // a market order, as it was sent
    EXPECT_EQ(old_orders[0].status, "");        // the order manager never said
    j.SetOrderStatus("old-market", "accepted");
    const auto c = j.BeginCycle(day + std::chrono::days(1), "scheduled", 2);
    j.PlanOrders(c, {order(c, "new-limit", 400.4)}, "[]");
  }
  Journal j(path);
  const auto orders = j.OpenOrders();
  ASSERT_EQ(orders.size(), 2u);
  for (const auto& o : orders) {
    EXPECT_EQ(o.limit_price, o.client_order_id == "new-limit" ? 400.4 : 0.0);
    EXPECT_EQ(o.status, o.client_order_id == "old-market" ? "accepted" : "");
    EXPECT_EQ(o.state, "planned");  // the venue's column is its own
  }
}

TEST(Journal, UnwritablePathIsAClearError) {
  try {
    Journal j("/proc/ballast/none/j.sqlite");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/ballast/none/j.sqlite"), std::string::npos);
  }
}

TEST(NewYorkTime, DaylightSavingRules) {
  // 2026: DST from 8 March 07:00Z to 1 November 06:00Z.
  const auto at = [](const char* d, int h, int m) {
    return DayToTimestamp(*ParseIsoDate(d)) + (h * 60LL + m) * 60'000'000'000LL;
  };
  EXPECT_EQ(NyOffsetMinutes(at("2026-03-08", 6, 59)), -300);
  EXPECT_EQ(NyOffsetMinutes(at("2026-03-08", 7, 0)), -240);
  EXPECT_EQ(NyOffsetMinutes(at("2026-11-01", 5, 59)), -240);
  EXPECT_EQ(NyOffsetMinutes(at("2026-11-01", 6, 0)), -300);
  // 15:45 in New York: 19:45Z in July, 20:45Z in December.
  EXPECT_EQ(NyLocalToUtc(*ParseIsoDate("2026-07-14"), 945), at("2026-07-14", 19, 45));
  EXPECT_EQ(NyLocalToUtc(*ParseIsoDate("2026-12-14"), 945), at("2026-12-14", 20, 45));
  EXPECT_EQ(FormatDate(NyDate(at("2026-07-15", 3, 0))), "2026-07-14");  // 23:00 the day before
  EXPECT_EQ(NyMinuteOfDay(at("2026-07-14", 13, 30)), 570);
}

}  // namespace
}  // namespace ballast::live
