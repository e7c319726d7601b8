// The TWS API client against the loopback fake IB Gateway (tests/testkit/fake_tws.*): the
// handshake at each server version, refusals, forward compatibility, and requests whose answer
// is unknown rather than empty.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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
