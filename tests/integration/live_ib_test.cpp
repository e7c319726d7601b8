// `ballast live --broker ib` against the loopback IB Gateway (tests/testkit/fake_tws): the same
// session, planner, risk gate and journal as on Alpaca, with orders through placeOrder, fills
// from execDetails + commissionReport, and IB's account and positions as the truth.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "fake_tws.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using json = nlohmann::json;
using testkit::FakeTws;
using testkit::FakeTwsOptions;

// The Gateway of `day` at 15:50 New York (EDT): bars through that day, fills at its closes.
FakeTwsOptions GatewayOn(const char* day) {
  FakeTwsOptions o;
  o.bars = Bars(day);
  for (const auto& s : o.bars)
    o.prices[s.symbol] = s.close.back();
  const Days d = *ParseIsoDate(day);
  o.epoch_seconds = DayToTimestamp(d) / 1'000'000'000LL + (19 * 60 + 50) * 60;
  return o;
}

struct IbEnv {
  explicit IbEnv(const FakeTws& fake) {
    ::setenv("IB_HOST", "127.0.0.1", 1);
    ::setenv("IB_PORT", std::to_string(fake.Port()).c_str(), 1);
    ::unsetenv("IB_ACCOUNT");
    ::unsetenv("IB_CLIENT_ID");
  }
  ~IbEnv() {
    for (const char* v : {"IB_HOST", "IB_PORT", "IB_ACCOUNT", "IB_CLIENT_ID"})
      ::unsetenv(v);
  }
  IbEnv(const IbEnv&) = delete;
  IbEnv& operator=(const IbEnv&) = delete;
};

testkit::CliResult LiveIb(const std::string& config, const std::string& out,
                          std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), {"--broker", "ib"});
  return Live(config, out, extra);
}

// The placeOrder frames the Gateway received: [3, orderId, conId, symbol, ...].
std::vector<std::vector<std::string>> PlaceOrders(const FakeTws& fake) {
  std::vector<std::vector<std::string>> out;
  for (const auto& f : fake.Received())
    if (!f.empty() && f[0] == "3") out.push_back(f);
  return out;
}

// The ledger the session wrote equals the Gateway's account, share for share and to the cent.
void ExpectLedgerIsTheAccount(const std::string& out, const FakeTws& fake) {
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  for (const auto& [sym, q] : fake.Positions())
    EXPECT_NEAR(s["positions"][sym]["qty"].get<double>(), q, 1e-9) << sym;
  EXPECT_NEAR(s["cash"].get<double>(), fake.Cash(), 1e-6);
}

TEST(LiveIb, MonthlyRebalanceThroughTheGatewayNeverRepeatsOrReusesAnOrderId) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
  std::set<long long> ids;
  std::map<std::string, double> positions;
  double cash = 0.0;
  {
    FakeTwsOptions o = GatewayOn("2026-06-29");
    FakeTws fake(o);
    IbEnv env(fake);
    const auto r = LiveIb(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("rebalance preview 2026-06-29"), std::string::npos) << r.out;
    const auto placed = PlaceOrders(fake);
    ASSERT_EQ(placed.size(), 2u);
    for (const auto& p : placed) {
      ids.insert(std::stoll(p.at(1)));
      EXPECT_GE(std::stoll(p.at(1)), o.next_valid_id);
      EXPECT_EQ(p.at(26).rfind("bl", 0), 0u) << "orderRef is ballast's client order id";
      EXPECT_EQ(p.at(21), "DAY");
      EXPECT_EQ(p.at(23), "DU1234567");
    }
    EXPECT_EQ(ids.size(), 2u);
    // Whole shares (the account trades no fractions), each side within a share of 60/40.
    const auto held = fake.Positions();
    double equity = fake.Cash();
    for (const auto& [sym, q] : held) {
      EXPECT_EQ(q, std::floor(q)) << sym;
      equity += q * o.prices.at(sym);
    }
    EXPECT_NEAR(held.at("SPY") * o.prices.at("SPY") / equity, 0.6, o.prices.at("SPY") / equity);
    EXPECT_NEAR(held.at("AGG") * o.prices.at("AGG") / equity, 0.4, o.prices.at("AGG") / equity);
    ExpectLedgerIsTheAccount(out, fake);
    // IB's commissions (from commissionReport) are in the journal's fills.
    const auto fees = Query(out + "/journal.sqlite", "SELECT SUM(commission) FROM fills");
    EXPECT_GT(std::stod(fees.at(0).at(0)), 1.99);
    // Again the same day: decided already, nothing sent.
    const auto again = LiveIb(cfg, out);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(PlaceOrders(fake).size(), 2u);
    positions = fake.Positions();
    cash = fake.Cash();
  }
  {
    // A new month, on a Gateway restarted with nextValidId rolled back to where it was: the
    // ids the journal recorded are not used again.
    FakeTwsOptions o = GatewayOn("2026-07-01");
    o.positions = positions;
    o.cash = cash;
    FakeTws fake(o);
    IbEnv env(fake);
    const auto r = LiveIb(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const auto placed = PlaceOrders(fake);
    ASSERT_FALSE(placed.empty());
    for (const auto& p : placed) {
      const long long id = std::stoll(p.at(1));
      EXPECT_GT(id, *ids.rbegin()) << "an order id of the first month was reused";
      EXPECT_TRUE(ids.insert(id).second);
    }
    ExpectLedgerIsTheAccount(out, fake);
  }
  const auto cycles =
      Query(out + "/journal.sqlite", "SELECT session_day, state FROM cycles ORDER BY id");
  ASSERT_EQ(cycles.size(), 2u);
  EXPECT_EQ(cycles[0], (std::vector<std::string>{"2026-06-29", "done"}));
  EXPECT_EQ(cycles[1], (std::vector<std::string>{"2026-07-01", "done"}));
  const auto broker_ids = Query(out + "/journal.sqlite",
                                "SELECT COUNT(broker_id), COUNT(DISTINCT broker_id) FROM orders");
  EXPECT_EQ(broker_ids.at(0).at(0), broker_ids.at(0).at(1));
}

TEST(LiveIb, PartialFillsSentTwiceAreBookedOncePerExecution) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.partial_fills = true;  // two executions per order, the first execDetails sent twice
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = LiveIb(cfg, out);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto fills = Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM fills");
  EXPECT_EQ(fills.at(0).at(0), "4");
  ExpectLedgerIsTheAccount(out, fake);
  EXPECT_EQ(testkit::ReadCsv(out + "/trades.csv").size(), 1u + 4u);
}

TEST(LiveIb, ARejectedOrderSaysIbsReasonAndTheCycleIsIncomplete) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.reject_symbols = {"AGG"};
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = LiveIb(cfg, out);
  EXPECT_EQ(r.exit_code, 5) << r.err << r.out;
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("No Trading Permission"), std::string::npos) << events;
  EXPECT_EQ(PlaceOrders(fake).size(), 2u) << "a refused order is not sent again";
  ExpectLedgerIsTheAccount(out, fake);
}

TEST(LiveIb, APaperSessionOnALiveLoginIsRefusedBeforeAnythingIsWritten) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.accounts = "U7654321";
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = LiveIb(cfg, out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("IB account U7654321"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a live account"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST(LiveIb, SeveralAccountsNeedOneNamedAndTheNamedOneIsTraded) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.accounts = "DU1111111,DU2222222";
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = LiveIb(cfg, dir / "a");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("manages 2 accounts (DU1111111, DU2222222)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("IB_ACCOUNT"), std::string::npos) << r.err;
  ::setenv("IB_ACCOUNT", "DU3333333", 1);
  const auto wrong = LiveIb(cfg, dir / "b");
  EXPECT_EQ(wrong.exit_code, 4) << wrong.err;
  EXPECT_NE(wrong.err.find("DU3333333 is not an account"), std::string::npos) << wrong.err;
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST(LiveIb, ClientIdInUseIsABrokerErrorThatSaysSo) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.client_id_in_use = true;
  FakeTws fake(o);
  IbEnv env(fake);
  ::setenv("IB_CLIENT_ID", "7", 1);
  const auto r = LiveIb(cfg, dir / "session");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("326"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "session"));
}

}  // namespace
}  // namespace ballast
