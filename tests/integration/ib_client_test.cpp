// The TWS API client against the loopback fake IB Gateway (tests/testkit/fake_tws.*): the
// handshake at each server version, refusals, forward compatibility, and requests whose answer
// is unknown rather than empty.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "ballast/adapters/ib/client.hpp"
#include "fake_tws.hpp"

namespace ballast::ib {
namespace {

using testkit::FakeTws;
using testkit::FakeTwsOptions;

ConnectOptions To(const FakeTws& fake,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  ConnectOptions o;
  o.port = fake.Port();
  o.client_id = 1;
  o.timeout = timeout;
  return o;
}

// Polls `done` for up to 20 s (a condition, not a duration).
template <class F>
bool WaitFor(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class IbHandshake : public ::testing::TestWithParam<int> {};

TEST_P(IbHandshake, IsReadyOnNextValidIdAndManagedAccounts) {
  FakeTwsOptions fo;
  fo.server_version = GetParam();
  FakeTws fake(fo);
  std::atomic<int> unsolicited{0};
  TwsClient c(To(fake), [&](int, const Fields&) { ++unsolicited; });
  c.Connect();
  EXPECT_TRUE(c.Connected());
  EXPECT_EQ(c.ServerVersion(), GetParam());
  EXPECT_EQ(c.ConnectionTime(), "20260714 15:45:00 EST");
  EXPECT_EQ(c.Accounts(), (std::vector<std::string>{"DU1234567"}));
  EXPECT_EQ(c.NextValidId(), 117);
  ASSERT_EQ(fake.Handshakes(), (std::vector<std::string>{"v176..178"}));
  ASSERT_FALSE(fake.Received().empty());
  EXPECT_EQ(fake.Received()[0], (Fields{"71", "2", "1", ""}));  // startApi
  // The farm notices that follow the greeting are the connection's, kept and passed on.
  ASSERT_TRUE(WaitFor([&] { return c.Notices().size() == 3; }));
  EXPECT_EQ(c.Notices()[0].code, 2104);
  EXPECT_EQ(c.Notices()[2].code, 2158);
  EXPECT_TRUE(WaitFor([&] { return unsolicited >= 3; }));
  EXPECT_EQ(c.CurrentTime(), 1784058300);
  EXPECT_EQ(c.UnknownMessages(), 0u);
}

INSTANTIATE_TEST_SUITE_P(ServerVersions, IbHandshake, ::testing::Values(176, 177, 178));

TEST(IbClient, RefusesAGatewayOlderThanItsProtocol) {
  FakeTwsOptions fo;
  fo.server_version = 175;
  FakeTws fake(fo);
  TwsClient c(To(fake));
  try {
    c.Connect();
    FAIL() << "server version 175 accepted";
  } catch (const TwsError& e) {
    EXPECT_NE(std::string(e.what()).find("speaks API server version 175; ballast needs 176 to 178"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(c.Connected());
}

TEST(IbClient, AClientIdInUseIsAClearRefusal) {
  FakeTwsOptions fo;
  fo.client_id_in_use = true;
  FakeTws fake(fo);
  TwsClient c(To(fake));
  try {
    c.Connect();
    FAIL() << "connected with a client id in use";
  } catch (const TwsError& e) {
    EXPECT_EQ(e.code(), 326);
    EXPECT_NE(std::string(e.what()).find("refused the connection: error 326: Unable to connect "
                                         "as the client id is already in use"),
              std::string::npos)
        << e.what();
  }
}

TEST(IbClient, NothingListeningIsACannotConnect) {
  unsigned short port = 0;
  {
    FakeTws gone;
    port = gone.Port();
  }
  ConnectOptions o;
  o.port = port;
  TwsClient c(o);
  try {
    c.Connect();
    FAIL() << "connected to nothing";
  } catch (const TwsError& e) {
    EXPECT_EQ(e.code(), 0);
    EXPECT_NE(std::string(e.what()).find("cannot connect to IB Gateway / TWS at 127.0.0.1:"),
              std::string::npos)
        << e.what();
  }
}

TEST(IbClient, UnknownMessagesAreCountedAndIgnored) {
  FakeTwsOptions fo;
  fo.unsolicited_unknown = true;
  fo.notice_before_version = true;  // and a notice before the version reply is skipped
  FakeTws fake(fo);
  TwsClient c(To(fake));
  c.Connect();
  ASSERT_TRUE(WaitFor([&] { return c.UnknownMessages() == 1; }));
  EXPECT_EQ(c.CurrentTime(), 1784058300);  // the connection carries on
  EXPECT_TRUE(c.Connected());
}

TEST(IbClient, ReadsTheAccountPositionsAndContracts) {
  FakeTwsOptions fo;
  fo.cash = 40000;
  fo.positions = {{"SPY", 100}, {"AGG", 50}};
  fo.prices = {{"SPY", 500}, {"AGG", 98}};
  FakeTws fake(fo);
  TwsClient c(To(fake));
  c.Connect();
  std::map<std::string, std::string> tags;
  for (const auto& v : c.AccountSummary("NetLiquidation,TotalCashValue,BuyingPower")) {
    EXPECT_EQ(v.account, "DU1234567");
    tags[v.tag] = v.value;
  }
  EXPECT_EQ(tags["NetLiquidation"], "94900");  // 40,000 + 100 × 500 + 50 × 98
  EXPECT_EQ(tags["TotalCashValue"], "40000");
  EXPECT_EQ(tags.size(), 3u);
  // The summary is a subscription: cancelled once read.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& f : fake.Received())
      if (f.size() == 3 && f[0] == "63" && f[2] == "9000") return true;
    return false;
  }));

  const auto pos = c.Positions();
  ASSERT_EQ(pos.size(), 2u);
  std::map<std::string, double> held;
  for (const auto& p : pos)
    held[p.symbol] = p.position;
  EXPECT_DOUBLE_EQ(held["SPY"], 100);
  EXPECT_DOUBLE_EQ(held["AGG"], 50);

  const auto spy = c.ResolveStock("SPY");
  EXPECT_EQ(spy.con_id, 756733);
  EXPECT_EQ(spy.primary_exchange, "ARCA");
  EXPECT_DOUBLE_EQ(spy.min_tick, 0.01);
  EXPECT_EQ(spy.time_zone, "US/Eastern");
  try {
    (void)c.ResolveStock("NOPE");
    FAIL() << "a contract for NOPE";
  } catch (const TwsError& e) {
    EXPECT_EQ(e.code(), 200);
    EXPECT_NE(std::string(e.what()).find("reqContractDetails for NOPE: IB error 200: No security "
                                         "definition has been found"),
              std::string::npos)
        << e.what();
  }
}

TEST(IbClient, APositionsRequestThatNeverEndsIsUnknownNotEmpty) {
  FakeTwsOptions fo;
  fo.positions = {{"SPY", 100}};
  fo.positions_never_end = true;
  FakeTws fake(fo);
  TwsClient c(To(fake, std::chrono::milliseconds(1500)));
  c.Connect();
  try {
    (void)c.Positions();
    FAIL() << "positions without their end";
  } catch (const TwsError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "reqPositions did not complete within 1.5 s: the answer is unknown"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(c.Connected());  // the connection is fine; only that answer is unknown
}

TEST(IbClient, AGatewayThatGoesAwayEndsItsRequestsAsUnknown) {
  FakeTwsOptions fo;
  fo.positions_never_end = true;
  FakeTws fake(fo);
  TwsClient c(To(fake));
  c.Connect();
  std::thread stop([&] {
    // Once the request is in, the Gateway goes away.
    (void)WaitFor([&] {
      for (const auto& f : fake.Received())
        if (!f.empty() && f[0] == "61") return true;
      return false;
    });
    fake.Stop();
  });
  try {
    (void)c.Positions();
    FAIL() << "positions from a Gateway that went away";
  } catch (const TwsError& e) {
    EXPECT_NE(std::string(e.what()).find("reqPositions: the connection to IB Gateway at "
                                         "127.0.0.1:"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("the answer is unknown"), std::string::npos) << e.what();
  }
  stop.join();
  EXPECT_FALSE(c.Connected());
  EXPECT_NE(c.DownReason(), "");
}

}  // namespace
}  // namespace ballast::ib

namespace ballast::ib {
namespace {

// What the Gateway sent unasked, kept for a test to wait on.
class Inbox {
 public:
  TwsClient::Unsolicited Handler() {
    return [this](int id, const Fields& f) {
      std::lock_guard lock(mu_);
      frames_.emplace_back(id, f);
    };
  }
  std::vector<Fields> Of(int id) const {
    std::lock_guard lock(mu_);
    std::vector<Fields> out;
    for (const auto& [i, f] : frames_)
      if (i == id) out.push_back(f);
    return out;
  }
  bool HasStatus(std::int64_t order_id, const std::string& status) const {
    for (const auto& f : Of(in::kOrderStatus)) {
      const auto s = ParseOrderStatus(f);
      if (s.order_id == order_id && s.status == status) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<int, Fields>> frames_;
};

Contract Stock(std::int64_t con_id, const std::string& symbol) {
  Contract c;
  c.con_id = con_id;
  c.symbol = symbol;
  return c;
}

OrderTicket Ticket(std::int64_t id, const std::string& action, double qty, const std::string& ref) {
  OrderTicket t;
  t.order_id = id;
  t.action = action;
  t.quantity = qty;
  t.account = "DU1234567";
  t.order_ref = ref;
  return t;
}

TEST(IbClient, AnOrderReportsItsLifeAndIsFoundAgainByItsRef) {
  FakeTwsOptions fo;
  fo.prices = {{"SPY", 500}, {"AGG", 98}};
  FakeTws fake(fo);
  Inbox inbox;
  TwsClient c(To(fake), inbox.Handler());
  c.Connect();
  const int v = c.ServerVersion();
  const std::int64_t id = c.NextValidId();
  c.Send(PlaceOrder(Stock(756733, "SPY"), Ticket(id, "BUY", 10, "bltest-20260714-1-SPY"), v));
  ASSERT_TRUE(WaitFor(
      [&] { return inbox.HasStatus(id, "Filled") && !inbox.Of(in::kCommissionReport).empty(); }));
  EXPECT_TRUE(inbox.HasStatus(id, "PreSubmitted"));
  EXPECT_TRUE(inbox.HasStatus(id, "Submitted"));
  const auto open = ParseOpenOrder(inbox.Of(in::kOpenOrder).at(0));
  EXPECT_EQ(open.order_id, id);
  EXPECT_EQ(open.order_ref, "bltest-20260714-1-SPY");
  EXPECT_EQ(open.account, "DU1234567");
  EXPECT_EQ(open.client_id, 1);
  EXPECT_DOUBLE_EQ(open.quantity, 10);
  const auto x = ParseExecDetails(inbox.Of(in::kExecDetails).at(0), v);
  EXPECT_EQ(x.req_id, -1);  // a live execution
  EXPECT_EQ(x.order_ref, "bltest-20260714-1-SPY");
  EXPECT_EQ(x.side, "BOT");
  EXPECT_DOUBLE_EQ(x.cum_qty, 10);
  EXPECT_DOUBLE_EQ(x.price, 500);
  const auto fee = ParseCommissionReport(inbox.Of(in::kCommissionReport).at(0));
  EXPECT_EQ(fee.exec_id, x.exec_id);
  ASSERT_TRUE(fee.commission);
  EXPECT_DOUBLE_EQ(*fee.commission, 1.0);
  EXPECT_FALSE(fee.realized_pnl);
  EXPECT_DOUBLE_EQ(fake.Cash(), 100000.0 - 5000.0 - 1.0);
  EXPECT_DOUBLE_EQ(fake.Positions().at("SPY"), 10);

  // A limit below the market works; the open orders find it by its ref, with its status.
  OrderTicket limit = Ticket(id + 1, "BUY", 5, "bltest-20260714-1-AGG");
  limit.order_type = "LMT";
  limit.limit_price = 1.5;
  c.Send(PlaceOrder(Stock(39622943, "AGG"), limit, v));
  ASSERT_TRUE(WaitFor([&] { return inbox.HasStatus(id + 1, "Submitted"); }));
  const auto working = c.OpenOrders();
  ASSERT_EQ(working.size(), 1u);
  EXPECT_EQ(working[0].order.order_ref, "bltest-20260714-1-AGG");
  ASSERT_TRUE(working[0].order.limit_price);
  EXPECT_DOUBLE_EQ(*working[0].order.limit_price, 1.5);
  ASSERT_TRUE(working[0].status);
  EXPECT_EQ(working[0].status->status, "Submitted");
  c.Send(CancelOrder(id + 1, v));
  ASSERT_TRUE(WaitFor([&] { return inbox.HasStatus(id + 1, "Cancelled"); }));
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& f : inbox.Of(in::kError))
      if (ParseError(f).code == 202) return true;
    return false;
  }));
  EXPECT_TRUE(c.OpenOrders().empty());

  // The executions of this client: the fill, with our ref, found again.
  const auto execs = c.Executions(ExecutionFilter{1, "", "", ""});
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].exec_id, x.exec_id);
  EXPECT_EQ(execs[0].order_ref, "bltest-20260714-1-SPY");
  EXPECT_GE(execs[0].req_id, 9000);

  // An order id used before is refused (103): ids only go up.
  c.Send(PlaceOrder(Stock(756733, "SPY"), Ticket(id, "BUY", 1, "bltest-20260714-2-SPY"), v));
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& f : inbox.Of(in::kError))
      if (ParseError(f).code == 103) return true;
    return false;
  }));
  EXPECT_DOUBLE_EQ(fake.Positions().at("SPY"), 10);
}

TEST(IbClient, APartialFillSentTwiceKeepsOneExecIdPerExecution) {
  FakeTwsOptions fo;
  fo.prices = {{"SPY", 500}};
  fo.partial_fills = true;
  FakeTws fake(fo);
  Inbox inbox;
  TwsClient c(To(fake), inbox.Handler());
  c.Connect();
  const std::int64_t id = c.NextValidId();
  c.Send(PlaceOrder(Stock(756733, "SPY"), Ticket(id, "BUY", 11, "bltest-20260714-1-SPY"),
                    c.ServerVersion()));
  ASSERT_TRUE(WaitFor([&] {
    return inbox.HasStatus(id, "Filled") && inbox.Of(in::kCommissionReport).size() == 2;
  }));
  // Three execDetails frames for two executions: the first came twice. Keyed by execId they are
  // 5 and 6 shares, and the cumulative quantities say the same.
  const auto frames = inbox.Of(in::kExecDetails);
  ASSERT_EQ(frames.size(), 3u);
  std::map<std::string, Execution> by_id;
  for (const auto& f : frames) {
    const auto x = ParseExecDetails(f, c.ServerVersion());
    by_id[x.exec_id] = x;
  }
  ASSERT_EQ(by_id.size(), 2u);
  double shares = 0.0, last_cum = 0.0;
  for (const auto& [exec_id, x] : by_id) {
    shares += x.shares;
    last_cum = std::max(last_cum, x.cum_qty);
  }
  EXPECT_DOUBLE_EQ(shares, 11);
  EXPECT_DOUBLE_EQ(last_cum, 11);
  // The status between them: part filled, still working.
  bool partial = false;
  for (const auto& f : inbox.Of(in::kOrderStatus)) {
    const auto st = ParseOrderStatus(f);
    partial = partial || (st.status == "Submitted" && st.filled == 5 && st.remaining == 6);
  }
  EXPECT_TRUE(partial);
  EXPECT_DOUBLE_EQ(fake.Positions().at("SPY"), 11);
}

TEST(IbClient, ARejectedOrderSaysWhyAndGoesInactive) {
  FakeTwsOptions fo;
  fo.reject_symbols = {"GLD"};
  FakeTws fake(fo);
  Inbox inbox;
  TwsClient c(To(fake), inbox.Handler());
  c.Connect();
  const std::int64_t id = c.NextValidId();
  c.Send(PlaceOrder(Stock(51529211, "GLD"), Ticket(id, "BUY", 3, "bltest-20260714-1-GLD"),
                    c.ServerVersion()));
  ASSERT_TRUE(WaitFor([&] { return inbox.HasStatus(id, "Inactive"); }));
  bool refused = false;
  for (const auto& f : inbox.Of(in::kError)) {
    const auto e = ParseError(f);
    refused = refused || (e.req_id == id && e.code == 201 &&
                          e.text == "Order rejected - reason:No Trading Permission" &&
                          Classify(e.code) == ErrorClass::kRequest);
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(inbox.Of(in::kExecDetails).empty());
  EXPECT_TRUE(fake.Positions().empty());
}

}  // namespace
}  // namespace ballast::ib
