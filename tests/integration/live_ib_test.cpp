// `ballast live --broker ib` against the loopback IB Gateway (tests/testkit/fake_tws): the same
// session, planner, risk gate and journal as on Alpaca, with orders through placeOrder, fills
// from execDetails + commissionReport, and IB's account and positions as the truth.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

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

// Each test's session directory and portfolio config.
class LiveIb : public ::testing::Test {
 protected:
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
};

testkit::CliResult RunIb(const std::string& config, const std::string& out,
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
  // ... because every fill was booked at its price and fee, not because the reconciliation
  // after it took the broker's numbers.
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_EQ(events.find("reconcile_difference"), std::string::npos) << events;
}

TEST_F(LiveIb, MonthlyRebalanceThroughTheGatewayNeverRepeatsOrReusesAnOrderId) {
  std::set<long long> ids;
  std::map<std::string, double> positions;
  double cash = 0.0;
  {
    FakeTwsOptions o = GatewayOn("2026-06-29");
    FakeTws fake(o);
    IbEnv env(fake);
    const auto r = RunIb(cfg, out);
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
    const auto again = RunIb(cfg, out);
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
    const auto r = RunIb(cfg, out);
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

TEST_F(LiveIb, PartialFillsSentTwiceAreBookedOncePerExecution) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.partial_fills = true;  // two executions per order, the first execDetails sent twice
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto fills = Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM fills");
  EXPECT_EQ(fills.at(0).at(0), "4");
  ExpectLedgerIsTheAccount(out, fake);
  EXPECT_EQ(testkit::ReadCsv(out + "/trades.csv").size(), 1u + 4u);
}

TEST_F(LiveIb, ARejectedOrderSaysIbsReasonAndTheCycleIsIncomplete) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.reject_symbols = {"AGG"};
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  EXPECT_EQ(r.exit_code, 5) << r.err << r.out;
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("No Trading Permission"), std::string::npos) << events;
  EXPECT_EQ(PlaceOrders(fake).size(), 2u) << "a refused order is not sent again";
  ExpectLedgerIsTheAccount(out, fake);
}

TEST_F(LiveIb, APaperSessionOnALiveLoginIsRefusedBeforeAnythingIsWritten) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.accounts = "U7654321";
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("IB account U7654321"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a live account"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST_F(LiveIb, SeveralAccountsNeedOneNamedAndTheNamedOneIsTraded) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.accounts = "DU1111111,DU2222222";
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, dir / "a");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("manages 2 accounts (DU1111111, DU2222222)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("IB_ACCOUNT"), std::string::npos) << r.err;
  ::setenv("IB_ACCOUNT", "DU3333333", 1);
  const auto wrong = RunIb(cfg, dir / "b");
  EXPECT_EQ(wrong.exit_code, 4) << wrong.err;
  EXPECT_NE(wrong.err.find("DU3333333 is not an account"), std::string::npos) << wrong.err;
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST_F(LiveIb, ClientIdInUseIsABrokerErrorThatSaysSo) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.client_id_in_use = true;
  FakeTws fake(o);
  IbEnv env(fake);
  ::setenv("IB_CLIENT_ID", "7", 1);
  const auto r = RunIb(cfg, dir / "session");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("326"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "session"));
}

}  // namespace
}  // namespace ballast

namespace ballast {
namespace {

TEST_F(LiveIb, AConnectionLostBetweenPlaceOrderAndItsReplyFindsTheOrderAgainByOrderRef) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.drop_after_place = 1;  // the first order fills at IB; its replies are lost with the socket
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_EQ(r.exit_code, 0) << r.err << events;
  EXPECT_GE(fake.Connections(), 2) << "reconnected";
  EXPECT_EQ(PlaceOrders(fake).size(), 2u) << "the order whose reply was lost is not sent again";
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM fills").at(0).at(0), "2");
  ExpectLedgerIsTheAccount(out, fake);
  EXPECT_NE(events.find("\"disconnected\""), std::string::npos) << events;
}

TEST_F(LiveIb, Kill9BetweenSendingAndFillThenRestartDoesNotDoubleOrder) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.hold_fills = true;
  FakeTws fake(o);
  IbEnv env(fake);
  const pid_t pid = testkit::SpawnCli(
      {"live", cfg, "--broker", "ib", "--paper", "--once", "--out", out}, dir / "run1.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PlaceOrders(fake).size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(PlaceOrders(fake).size(), 2u) << testkit::ReadFile(dir / "run1.log");
  ::kill(pid, SIGKILL);
  EXPECT_EQ(testkit::WaitCli(pid), -SIGKILL);
  // While the process is dead, IB fills the orders; the next run finds them by orderRef.
  fake.ReleaseFills();
  const auto r = RunIb(cfg, out);
  ASSERT_EQ(r.exit_code, 0) << r.err << testkit::ReadFile(out + "/events.jsonl");
  EXPECT_EQ(PlaceOrders(fake).size(), 2u) << "no order sent twice";
  const auto orders = Query(out + "/journal.sqlite", "SELECT state FROM orders");
  ASSERT_EQ(orders.size(), 2u);
  for (const auto& row : orders)
    EXPECT_EQ(row[0], "filled");
  ExpectLedgerIsTheAccount(out, fake);
}

TEST_F(LiveIb, OrdersNotFilledByTheTimeoutStayWorkingAndTheNextRunFindsThem) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.hold_fills = true;
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out, {"--fill-timeout", "1"});
  EXPECT_EQ(r.exit_code, 5) << r.err << r.out;
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT state FROM cycles").at(0).at(0), "incomplete");
  for (const auto& row : Query(out + "/journal.sqlite", "SELECT state FROM orders"))
    EXPECT_FALSE(row[0] == "filled" || row[0] == "canceled" || row[0] == "rejected") << row[0];
  // They fill later the same day; the next run books them and sends nothing new.
  fake.ReleaseFills();
  const auto again = RunIb(cfg, out);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(PlaceOrders(fake).size(), 2u);
  for (const auto& row : Query(out + "/journal.sqlite", "SELECT state FROM orders"))
    EXPECT_EQ(row[0], "filled");
  ExpectLedgerIsTheAccount(out, fake);
}

TEST_F(LiveIb, OutsideRegularHoursNothingIsSent) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.epoch_seconds += 3 * 3600;  // 18:50 New York: closed
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  EXPECT_EQ(r.exit_code, 5) << r.err << r.out;
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("\"reason\":\"market closed\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"next_open\":\"2026-06-30T13:30:00.000000000Z\""), std::string::npos)
      << events;
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST_F(LiveIb, LinkLostAndRestoredMidCycleIsReconciledAndBookedOnce) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.link_blip = true;  // 1100 ... the first order's replies ... 1102
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err << events;
  EXPECT_NE(events.find("\"link_lost\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"link_restored\""), std::string::npos) << events;
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM fills").at(0).at(0), "2");
  ExpectLedgerIsTheAccount(out, fake);
}

TEST_F(LiveIb, PositionsThatNeverCompleteAreUnknownNotEmpty) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.positions = {{"SPY", 10.0}};
  o.positions_never_end = true;
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out, {"--set", "broker.ib.connect_timeout_seconds=2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("reqPositions did not complete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown"), std::string::npos) << r.err;
  EXPECT_TRUE(PlaceOrders(fake).empty()) << "no order on a guess of the positions";
}

// The same config through IB day by day (a fresh Gateway each day, holding what the last one
// left) and through `ballast backtest`: the same trades at the same prices and fees, and the
// same equity, cash and positions every day. IB's fixed-rate commission is the backtest's
// per-share model (USD 0.005 a share, at least USD 1), and IB trades whole shares.
TEST_F(LiveIb, ParityWithTheBacktestOverSeveralSessions) {
  const std::string body = R"(
  "portfolio": {"initial_cash": 100000, "shares": "whole"},
  "strategy": )" + std::string(kMonthlySixtyForty) +
                           R"(,
  "execution": {"fill": "close", "commission": {"model": "per_share", "per_share": 0.005,
                "min": 1}, "slippage_bps": 0},
  "live": {"fill_timeout_seconds": 10, "history_days": 60, "cash_buffer": 0}})";
  const std::string store = testkit::SampleStore();
  const std::string live_cfg = dir / "live.json";
  const std::string bt_cfg = dir / "bt.json";
  testkit::WriteFile(live_cfg,
                     R"({"name": "IB parity", "data": {"store": ")" + store + R"("},)" + body);
  testkit::WriteFile(bt_cfg, R"({"name": "IB parity", "data": {"store": ")" + store +
                                 R"(", "start": "2026-06-29", "end": "2026-07-02"},)" + body);
  std::map<std::string, double> positions;
  double cash = 100000.0;
  for (const char* day : {"2026-06-29", "2026-06-30", "2026-07-01", "2026-07-02"}) {
    FakeTwsOptions o = GatewayOn(day);
    o.positions = positions;
    o.cash = cash;
    FakeTws fake(o);
    IbEnv env(fake);
    const auto r = RunIb(live_cfg, out);
    ASSERT_EQ(r.exit_code, 0) << day << r.err << r.out;
    positions = fake.Positions();
    cash = fake.Cash();
  }
  const auto bt = testkit::RunCli({"backtest", bt_cfg, "--out", dir / "bt"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  const auto a = testkit::ReadCsv(dir / "bt/equity.csv");
  const auto b = testkit::ReadCsv(out + "/equity.csv");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (std::size_t r = 1; r < a.size(); ++r) {
    ASSERT_EQ(a[r][0], b[r][0]);
    for (std::size_t c = 1; c < 8; ++c) {
      const double x = a[r][c].empty() ? 0.0 : std::stod(a[r][c]);
      const double y = b[r][c].empty() ? 0.0 : std::stod(b[r][c]);
      EXPECT_NEAR(x, y, 1e-6 * std::max(1.0, std::abs(x)))
          << a[0][c] << " on " << a[r][0] << ": backtest " << a[r][c] << ", IB " << b[r][c];
    }
  }
  // Trades: backtest date,decision,client_order_id,symbol,side,quantity,price,commission...;
  // live time,client_order_id,symbol,side,qty,price,source.
  std::map<std::string, std::pair<double, double>> bt_trades, ib_trades;
  for (const auto& t : testkit::ReadCsv(dir / "bt/trades.csv")) {
    if (t[0] != "date")
      bt_trades[t[0] + " " + t[3] + " " + t[4]] = {std::stod(t[5]), std::stod(t[6])};
  }
  for (const auto& t : testkit::ReadCsv(out + "/trades.csv")) {
    if (t[0] == "time") continue;
    EXPECT_EQ(t[6], "fill");
    ib_trades[t[0].substr(0, 10) + " " + t[2] + " " + t[3]] = {std::stod(t[4]), std::stod(t[5])};
  }
  ASSERT_FALSE(bt_trades.empty());
  ASSERT_EQ(bt_trades.size(), ib_trades.size());
  for (const auto& [k, v] : bt_trades) {
    ASSERT_EQ(ib_trades.count(k), 1u) << k;
    EXPECT_EQ(ib_trades[k].first, v.first) << k;
    EXPECT_NEAR(ib_trades[k].second, v.second, 1e-9 * v.second) << k;
  }
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  for (const auto& [sym, q] : positions)
    EXPECT_EQ(s["positions"][sym]["qty"].get<double>(), q) << sym;
}

// Polls /ready until `want` (the status), at most a minute; the last body.
std::string WaitReady(unsigned short port, int want, int* got) {
  std::string body;
  for (int i = 0; i < 600; ++i) {
    try {
      body = HttpGet(port, "/ready", got);
    } catch (const std::exception&) {
      *got = 0;
    }
    if (*got == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return body;
}

TEST_F(LiveIb, AServiceSaysWhyItIsNotReadyWhileIbIsAwayAndComesBack) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  FakeTws fake(o);
  IbEnv env(fake);
  unsigned short port = 0;
  pid_t pid = 0;
  int status = 0;
  // A port found free may be taken by a parallel test before the service binds it: then the
  // service exits at once (before any order) and the test tries another port.
  for (int attempt = 0; attempt < 5 && status != 200; ++attempt) {
    port = FreePort();
    pid = testkit::SpawnCli({"live", cfg, "--broker", "ib", "--paper", "--force", "--out", out,
                             "--metrics-port", std::to_string(port)},
                            dir / "svc.log");
    for (int i = 0; i < 600 && status != 200; ++i) {
      int wstatus = 0;
      if (waitpid(pid, &wstatus, WNOHANG) == pid) break;
      try {
        (void)HttpGet(port, "/ready", &status);
      } catch (const std::exception&) {
      }
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_EQ(status, 200) << testkit::ReadFile(dir / "svc.log.err");
  // The forced cycle's orders are booked before anything else is asked of it.
  for (int i = 0;
       i < 600 && HttpGet(port, "/metrics").find("ballast_fills_total 2\n") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(PlaceOrders(fake).size(), 2u);
  // IB and the Gateway lose each other: not ready, and why.
  fake.Notice(1100, "Connectivity between IB and Trader Workstation has been lost.");
  std::string body = WaitReady(port, 503, &status);
  ASSERT_EQ(status, 503) << body;
  EXPECT_NE(body.find("(1100)"), std::string::npos) << body;
  std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("ballast_ready 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ballast_broker_outages_total 1\n"), std::string::npos) << metrics;
  fake.Notice(1102,
              "Connectivity between IB and Trader Workstation has been restored - data "
              "maintained.");
  body = WaitReady(port, 200, &status);
  ASSERT_EQ(status, 200) << body;
  // The Gateway restarts: the connection drops, the service says so and connects again.
  fake.DropConnections();
  body = WaitReady(port, 503, &status);
  ASSERT_EQ(status, 503) << body;
  EXPECT_NE(body.find("connection to IB Gateway lost"), std::string::npos) << body;
  body = WaitReady(port, 200, &status);
  ASSERT_EQ(status, 200) << body;
  EXPECT_GE(fake.Connections(), 2);
  metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("ballast_broker_outages_total 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ballast_reconnects_total 1\n"), std::string::npos) << metrics;
  ::kill(pid, SIGTERM);
  EXPECT_EQ(testkit::WaitCli(pid), 0);
  EXPECT_EQ(PlaceOrders(fake).size(), 2u) << "nothing sent twice across the outages";
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  for (const char* kind : {"\"link_lost\"", "\"link_restored\"", "\"disconnected\"",
                           "\"reconnected\"", "\"session_stopped\""})
    EXPECT_NE(events.find(kind), std::string::npos) << kind;
  ExpectLedgerIsTheAccount(out, fake);
}

TEST_F(LiveIb, ASymbolIbDoesNotKnowIsAConfigErrorNamingIt) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.contracts.erase(std::remove_if(o.contracts.begin(), o.contracts.end(),
                                   [](const auto& c) { return c.symbol == "AGG"; }),
                    o.contracts.end());
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("symbol AGG: IB has no US stock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(cfg), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(PlaceOrders(fake).empty());
}

TEST_F(LiveIb, ASymbolListedTwiceNeedsItsPrimaryExchangeAndTradesThatContract) {
  FakeTwsOptions o = GatewayOn("2026-06-29");
  o.contracts.push_back({"AGG", 777001, "NYSE", "A DIFFERENT AGG"});
  FakeTws fake(o);
  IbEnv env(fake);
  const auto r = RunIb(cfg, out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("AGG is ambiguous at IB: 2 contracts (primary exchanges ARCA, NYSE)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("broker.ib.primary_exchanges"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  const auto named = RunIb(cfg, out, {"--set", "broker.ib.primary_exchanges.AGG=ARCA"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  bool agg = false;
  for (const auto& p : PlaceOrders(fake)) {
    if (p.at(3) != "AGG") continue;
    agg = true;
    EXPECT_EQ(p.at(2), "39622943") << "the ARCA contract, by its conId";
  }
  EXPECT_TRUE(agg);
}

}  // namespace
}  // namespace ballast
