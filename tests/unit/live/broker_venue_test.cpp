// The live session's Venue over the broker seam, against a scripted broker and the engine's
// real OrderManager and Ledger: the order lifecycle the kernel sees live is the backtest's.
#include <gtest/gtest.h>

#include <map>

#include "ballast/engine/ledger.hpp"
#include "ballast/engine/order_manager.hpp"
#include "ballast/engine/run_record.hpp"
#include "broker_venue.hpp"
#include "session_journal.hpp"
#include "testkit.hpp"

namespace ballast::live::detail {
namespace {

/// A broker whose answers the test sets: orders it was sent are kept by client order id.
class ScriptedBroker final : public broker::Broker {
 public:
  broker::OrderRules rules{9, 1.0};
  double cash = 10'000.0;
  bool reject_next = false;
  std::vector<broker::OrderRequest> placed;
  std::map<std::string, broker::BrokerOrder> orders;

  broker::OrderRules Rules() const noexcept override { return rules; }
  std::string_view Name() const noexcept override { return "scripted"; }
  std::string Endpoint() const override { return "local"; }
  broker::Account GetAccount() override {
    broker::Account a;
    a.cash = cash;
    a.equity = cash;
    a.buying_power = cash;
    return a;
  }
  std::vector<broker::Position> GetPositions() override { return {}; }
  std::vector<broker::BrokerOrder> GetOpenOrders() override { return {}; }
  std::optional<broker::BrokerOrder> FindOrder(std::string_view coid) override {
    const auto it = orders.find(std::string(coid));
    if (it == orders.end()) return std::nullopt;
    return it->second;
  }
  std::optional<broker::Asset> GetAsset(std::string_view symbol) override {
    return broker::Asset{std::string(symbol), true, true};
  }
  broker::PlaceResult Place(const broker::OrderRequest& r) override {
    placed.push_back(r);
    broker::PlaceResult res;
    if (std::exchange(reject_next, false)) {
      res.kind = broker::PlaceResult::Kind::kRejected;
      res.status = 422;
      res.message = "halted";
      return res;
    }
    broker::BrokerOrder& o = orders[r.client_order_id];
    o.id = "b-" + r.client_order_id;
    o.client_order_id = r.client_order_id;
    o.symbol = r.symbol;
    o.side = r.side;
    o.qty = r.qty;
    o.phase = broker::OrderPhase::kWorking;
    o.status = "new";
    res.kind = broker::PlaceResult::Kind::kAccepted;
    res.order = o;
    return res;
  }
  bool Cancel(const broker::BrokerOrder&) override { return true; }
  void Restore(const broker::BookedAccount&) override {}
  bool SupportsTransfers() const noexcept override { return false; }
  void Transfer(double) override {}
  std::vector<broker::AccountAction> GetAccountActions(const std::vector<std::string>&, Days,
                                                       Days) override {
    return {};
  }
  void StartUpdates(broker::BrokerListener&) override {}
  void StopUpdates() override {}
  bool UpdatesReady() const noexcept override { return true; }
  Stats GetStats() const noexcept override { return {}; }

  /// The broker fills `qty` more of the order at `price`: its record, and the update it sends.
  broker::OrderUpdate Fill(const std::string& coid, double qty, double price, std::string exec) {
    broker::BrokerOrder& o = orders.at(coid);
    o.filled_avg_price = (o.filled_avg_price * o.filled_qty + price * qty) / (o.filled_qty + qty);
    o.filled_qty += qty;
    const bool done = o.filled_qty >= o.qty - 1e-9;
    o.phase = done ? broker::OrderPhase::kFilled : broker::OrderPhase::kPartiallyFilled;
    o.status = done ? "filled" : "partially_filled";
    broker::OrderUpdate u;
    u.event = done ? "fill" : "partial_fill";
    u.phase = o.phase;
    u.order = o;
    u.execution = true;
    u.execution_id = std::move(exec);
    u.qty = qty;
    u.price = price;
    u.at = 1;
    return u;
  }
};

class Host final : public VenueHost {
 public:
  OrderManager* orders = nullptr;
  std::vector<std::string> symbols;
  std::vector<std::string> kinds;  // every event logged
  int adopted = 0;
  int settled = 0;
  void Log(std::string_view kind, std::string, spdlog::level::level_enum) override {
    kinds.emplace_back(kind);
  }
  void AppendTrade(Timestamp, std::string_view, std::string_view, std::string_view, double, double,
                   std::string_view) override {}
  Timestamp Now() const override { return 1; }
  OrderId Adopt(const JournalOrder& jo) override {
    ++adopted;
    Order o;
    o.symbol = static_cast<SymbolIndex>(std::find(symbols.begin(), symbols.end(), jo.symbol) -
                                        symbols.begin());
    o.side = jo.side == "sell" ? Side::kSell : Side::kBuy;
    o.quantity = jo.qty;
    o.reference_price = jo.ref_price;
    return orders->Adopt(o, jo.filled_qty, jo.avg_price);
  }
  bool Oversells(SymbolIndex, double) override { return false; }
  void OnOrdersSettled() override { ++settled; }
  [[nodiscard]] int Count(std::string_view kind) const {
    return static_cast<int>(std::count(kinds.begin(), kinds.end(), kind));
  }
};

JournalOrder Planned(std::string coid, std::int64_t cycle, std::string symbol, Side side,
                     double qty, double price) {
  JournalOrder jo;
  jo.client_order_id = std::move(coid);
  jo.cycle = cycle;
  jo.symbol = std::move(symbol);
  jo.side = std::string(ToString(side));
  jo.qty = qty;
  jo.ref_price = price;
  jo.state = "planned";
  return jo;
}

class BrokerVenueTest : public ::testing::Test {
 protected:
  testkit::TempDir dir;
  std::vector<std::string> symbols{"SPY", "AGG"};
  ScriptedBroker broker;
  Journal journal{dir / "journal.sqlite", false};
  Host host;
  BrokerVenue venue{broker, journal, host, symbols, 2, SendRules{false, 1, 0, 1, 0, "fill", "t"}};
  Ledger ledger{2, 10'000.0, true};
  RunRecord record;
  OrderManager orders{venue, ledger, record, symbols, "t"};
  SessionJournal order_journal{journal, host, venue, symbols, "fill"};
  std::vector<double> held{0.0, 50.0};
  std::vector<double> marks{500.0, 100.0};
  std::int64_t cycle = journal.BeginCycle(Days{std::chrono::days(20'000)}, "scheduled", 1);

  BrokerVenueTest() {
    host.orders = &orders;
    host.symbols = symbols;
    orders.SetJournal(&order_journal);
    const std::vector<double> costs{0.0, 100.0};
    ledger.Reconcile(held, costs, 10'000.0);
  }

  /// Plans `plan` as the kernel would (order manager, venue), journals it as the session does,
  /// and releases it. Returns the journaled orders.
  std::vector<JournalOrder> Decide(const Plan& plan) {
    orders.Submit(plan, 1, 1);
    const auto queued = venue.Prepare(AccountView{10'000.0, 15'000.0, held, marks});
    std::vector<JournalOrder> planned;
    for (const auto& q : queued) {
      const JournalOrder jo = Planned("t-" + symbols[q.symbol], cycle, symbols[q.symbol], q.side,
                                      q.quantity, marks[q.symbol]);
      venue.Bind(jo.client_order_id, q.id);
      planned.push_back(jo);
    }
    journal.PlanOrders(cycle, planned, "[]");
    venue.Release(planned);
    return planned;
  }
};

Plan MakePlan(std::vector<PlannedOrder> orders) {
  Plan p;
  p.orders = std::move(orders);
  return p;
}

TEST_F(BrokerVenueTest, SendsBuysOnlyAfterTheSellsThatFundThemAreFinal) {
  Decide(MakePlan({{1, Side::kSell, 50.0, 100.0}, {0, Side::kBuy, 20.0, 500.0}}));
  ASSERT_EQ(broker.placed.size(), 1u);
  EXPECT_EQ(broker.placed[0].symbol, "AGG");
  EXPECT_TRUE(venue.SellsOpen());
  EXPECT_TRUE(venue.HasPendingBuys());
  EXPECT_EQ(orders.Orders()[0].status, OrderStatus::kAccepted);  // reported by the venue

  broker.cash = 15'000.0;
  venue.OnBrokerUpdate(broker.Fill("t-AGG", 50.0, 100.0, "e1"));
  ASSERT_EQ(broker.placed.size(), 2u);  // the sell is final: its buy goes now
  EXPECT_EQ(broker.placed[1].symbol, "SPY");
  EXPECT_EQ(orders.Orders()[0].status, OrderStatus::kFilled);
  EXPECT_DOUBLE_EQ(ledger.Quantity(1), 0.0);
  EXPECT_DOUBLE_EQ(ledger.Cash(), 15'000.0);

  venue.OnBrokerUpdate(broker.Fill("t-SPY", 20.0, 500.0, "e2"));
  EXPECT_EQ(orders.Orders()[1].status, OrderStatus::kFilled);
  EXPECT_DOUBLE_EQ(ledger.Quantity(0), 20.0);
  EXPECT_DOUBLE_EQ(ledger.Cash(), 5'000.0);
  EXPECT_EQ(orders.OpenOrders(), 0u);
  EXPECT_EQ(venue.OpenCount(), 0u);
  EXPECT_EQ(host.settled, 1);
  EXPECT_EQ(record.trades.size(), 2u);
}

TEST_F(BrokerVenueTest, BooksAnExecutionOnceWhicheverRouteReportsIt) {
  Decide(MakePlan({{0, Side::kBuy, 10.0, 500.0}}));
  const auto update = broker.Fill("t-SPY", 4.0, 499.0, "exec-1");
  venue.OnBrokerUpdate(update);
  venue.OnBrokerUpdate(update);  // the stream repeats itself
  venue.Poll();                  // and the poll sees the same 4 shares
  EXPECT_DOUBLE_EQ(ledger.Quantity(0), 4.0);
  EXPECT_DOUBLE_EQ(orders.Orders()[0].filled, 4.0);
  EXPECT_EQ(journal.Fills().size(), 1u);
  EXPECT_EQ(order_journal.Booked(), 1u);
  EXPECT_EQ(journal.CycleOrders(cycle)[0].status, "partially_filled");  // the manager's

  // The rest fills while the stream is down: the poll books only the new 6, at their price.
  (void)broker.Fill("t-SPY", 6.0, 502.0, "exec-2");
  venue.Poll();
  EXPECT_DOUBLE_EQ(ledger.Quantity(0), 10.0);
  ASSERT_EQ(journal.Fills().size(), 2u);
  EXPECT_NEAR(journal.Fills()[1].price, 502.0, 1e-9);
  EXPECT_EQ(orders.Orders()[0].status, OrderStatus::kFilled);
  EXPECT_EQ(venue.OpenCount(), 0u);
}

TEST_F(BrokerVenueTest, ReportsWhatItWillNotSendAndWhatTheBrokerRefuses) {
  // $0.50 of SPY is below the broker's $1 fractional minimum: never sent, canceled.
  Decide(MakePlan({{0, Side::kBuy, 0.001, 500.0}}));
  EXPECT_TRUE(broker.placed.empty());
  EXPECT_EQ(orders.Orders()[0].status, OrderStatus::kCanceled);
  EXPECT_EQ(host.Count("order_skipped"), 1);

  broker.reject_next = true;
  ASSERT_EQ(Decide(MakePlan({{1, Side::kBuy, 1.0, 100.0}})).size(), 1u);
  EXPECT_EQ(orders.Orders()[1].status, OrderStatus::kRejected);
  EXPECT_EQ(journal.CycleOrders(cycle).back().state, "rejected");
  EXPECT_EQ(journal.CycleOrders(cycle).back().status, "rejected");
  EXPECT_EQ(venue.Count().rejected, 1u);
  EXPECT_EQ(orders.OpenOrders(), 0u);
}

TEST_F(BrokerVenueTest, AdoptsAnEarlierProcesssOrderSoItsFillsBookThroughTheOrderManager) {
  // An earlier process sent a sell of 50 AGG and 20 had filled when it died.
  const JournalOrder jo = Planned("t-old-AGG", cycle, "AGG", Side::kSell, 50.0, 100.0);
  journal.PlanOrders(cycle, {jo}, "[]");
  journal.SetOrderState(jo.client_order_id, "sent", "b-old");
  broker.orders[jo.client_order_id] =
      broker::BrokerOrder{"b-old", jo.client_order_id,           "AGG", Side::kSell, 50.0, 0.0, 0.0,
                          0.0,     broker::OrderPhase::kWorking, "new", "",          0};
  (void)broker.Fill(jo.client_order_id, 20.0, 100.0, "old-1");

  venue.Recover(std::nullopt);
  EXPECT_EQ(journal.FilledQty(jo.client_order_id), 20.0);  // journaled, not booked twice:
  EXPECT_DOUBLE_EQ(ledger.Quantity(1), 50.0);              // the reconciled ledger has it
  ASSERT_NE(venue.Open(jo.client_order_id), nullptr);
  EXPECT_EQ(host.adopted, 0);

  venue.OnBrokerUpdate(broker.Fill(jo.client_order_id, 30.0, 101.0, "new-1"));
  EXPECT_EQ(host.adopted, 1);
  ASSERT_EQ(orders.Orders().size(), 1u);
  EXPECT_EQ(orders.Orders()[0].status, OrderStatus::kFilled);  // 20 before + 30 now of 50
  EXPECT_DOUBLE_EQ(ledger.Quantity(1), 20.0);
  EXPECT_DOUBLE_EQ(ledger.Cash(), 10'000.0 + 30.0 * 101.0);
  EXPECT_EQ(venue.OpenCount(), 0u);
}

}  // namespace
}  // namespace ballast::live::detail
