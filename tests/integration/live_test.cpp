// `ballast live` against the loopback Alpaca server (tests/testkit/fake_alpaca.*): scripted
// scenarios over real HTTP and WebSocket sockets, the real binary, the real SQLite journal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "ballast/adapters/alpaca/net.hpp"
#include "ballast/data/bar_store.hpp"
#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using nlohmann::json;
using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

/// Weight of each symbol at the fake broker, at its last closes.
std::map<std::string, double> BrokerWeights(const FakeAlpaca& f,
                                            const std::vector<data::SymbolSeries>& bars) {
  std::map<std::string, double> value;
  double equity = f.Cash();
  for (const auto& [s, q] : f.Positions()) {
    for (const auto& b : bars) {
      if (b.symbol == s) {
        value[s] = q * b.close.back();
        equity += value[s];
      }
    }
  }
  for (auto& [s, v] : value)
    v /= equity;
  return value;
}

TEST(LiveAlpaca, MonthlyRebalanceAcrossSessionsNeitherRepeatsNorSkips) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  const std::string out = dir / "session";
  // Day 1 (2026-06-29): the first run allocates.
  auto bars = Bars("2026-06-29");
  FakeAlpacaOptions o;
  o.bars = bars;
  o.bars_page_size = 37;  // several pages
  double cash = 0;
  std::map<std::string, double> positions;
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("rebalance preview 2026-06-29"), std::string::npos) << r.out;
    ASSERT_EQ(fake.Orders().size(), 2u);
    const auto w = BrokerWeights(fake, bars);
    EXPECT_NEAR(w.at("SPY"), 0.6, 1e-6);
    EXPECT_NEAR(w.at("AGG"), 0.4, 1e-6);
    EXPECT_GT(fake.Requests("/v2/stocks/bars"), 2u);
    // The engine's ledger after reconciliation equals the broker's account.
    const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
    EXPECT_EQ(s["cycle_state"], "done");
    for (const auto& [sym, q] : fake.Positions())
      EXPECT_NEAR(s["positions"][sym]["qty"].get<double>(), q, 1e-9) << sym;
    EXPECT_NEAR(s["cash"].get<double>(), fake.Cash(), 1e-6);
    EXPECT_NEAR(s["drift"].get<double>(), 0.0, 1e-9);
    // Run again the same day: already decided, nothing sent.
    const auto again = Live(cfg, out);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(fake.Posts(), 2u);
    cash = fake.Cash();
    positions = fake.Positions();
  }
  // Day 2 (2026-06-30): same month, nothing due.
  o.bars = Bars("2026-06-30");
  o.cash = cash;
  o.positions = positions;
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(fake.Posts(), 0u);
    EXPECT_EQ(json::parse(testkit::ReadFile(out + "/summary.json"))["cycle_state"], "nothing_due");
  }
  // Day 3 (2026-07-01): a new month, the rebalance is due (prices moved: small trades).
  o.bars = Bars("2026-07-01");
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(fake.Posts(), 2u);
    const auto w = BrokerWeights(fake, o.bars);
    EXPECT_NEAR(w.at("SPY"), 0.6, 1e-6);
  }
  const auto cycles =
      Query(out + "/journal.sqlite", "SELECT session_day, state FROM cycles ORDER BY id");
  ASSERT_EQ(cycles.size(), 3u);
  EXPECT_EQ(cycles[0], (std::vector<std::string>{"2026-06-29", "done"}));
  EXPECT_EQ(cycles[1], (std::vector<std::string>{"2026-06-30", "nothing_due"}));
  EXPECT_EQ(cycles[2], (std::vector<std::string>{"2026-07-01", "done"}));
  // equity.csv: one row per session day (the same-day rerun replaced its row), in the
  // backtest's columns first, so a paper session lines up with a backtest of the same period.
  const auto eq = testkit::ReadCsv(out + "/equity.csv");
  ASSERT_EQ(eq.size(), 1u + 3u);
  const auto bt = testkit::RunCli({"backtest", cfg, "--out", dir / "bt"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  const auto bt_header = testkit::ReadCsv(dir / "bt/equity.csv").at(0);
  ASSERT_GE(eq[0].size(), bt_header.size());
  EXPECT_EQ(std::vector<std::string>(eq[0].begin(), eq[0].begin() + bt_header.size()), bt_header);
  EXPECT_EQ(eq[1][0], "2026-06-29");
  EXPECT_EQ(eq[2][0], "2026-06-30");
  EXPECT_EQ(eq[3][0], "2026-07-01");
  EXPECT_EQ(eq[2].at(bt_header.size() + 1), "nothing_due");
  EXPECT_NEAR(std::stod(eq[3][4]), std::stod(eq[3][1]) / std::stod(eq[2][1]) - 1.0, 1e-12);
  // Secrets never reach outputs or the journal.
  for (const auto* f : {"events.jsonl", "summary.json", "equity.csv", "trades.csv", "preview.json",
                        "journal.sqlite"}) {
    EXPECT_EQ(testkit::ReadFile(out + "/" + f).find(o.secret), std::string::npos) << f;
  }
}

TEST(LiveAlpaca, SignalSwapSignalsAreTrackedWithWhatWasActedOn) {
  testkit::TempDir dir;
  const std::vector<std::string> symbols{"SPY", "AGG", "GLD", "QQQ", "TLT"};
  const std::string cfg = dir / "signals.json";
  testkit::WriteFile(
      cfg, R"({"name": "Live signal swap", "data": {"store": ")" + testkit::SampleStore() + R"("},
  "portfolio": {"initial_cash": 100000}, "benchmark": "SPY",
  "strategy": {"type": "signal_swap", "holdings": ["AGG", "GLD", "QQQ"], "watchlist": ["TLT"],
    "benchmark": "SPY", "frequency": "weekly", "min_positions": 3,
    "indicators": {"rsi": 5, "macd_fast": 3, "macd_slow": 6, "macd_signal": 3, "ma_short": 5,
                   "ma_long": 20, "volume_window": 5, "return_window": 10}},
  "execution": {"fill": "close", "commission": {"model": "none"}, "slippage_bps": 0},
  "live": {"fill_timeout_seconds": 10, "history_days": 90}})");
  const std::string out = dir / "s";
  FakeAlpacaOptions o;
  // Week 1: the starting allocation (no signals: the holdings are bought equal weight).
  o.bars = Bars("2026-07-06", symbols);
  std::map<std::string, double> positions;
  double cash = 0;
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(cfg, out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    positions = fake.Positions();
    cash = fake.Cash();
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/signals.sqlite"));
  // Week 2: a scheduled decision scores every symbol; its signals are tracked.
  o.bars = Bars("2026-07-13", symbols);
  o.positions = positions;
  o.cash = cash;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(cfg, out);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string db = out + "/signals.sqlite";
  const auto rows = Query(db,
                          "SELECT symbol, signal_type, acted_on, source, signal_date FROM "
                          "trading_signals ORDER BY id");
  ASSERT_EQ(rows.size(), symbols.size() - 1);  // every tradable symbol, once
  std::set<std::pair<std::string, std::string>> sent;
  for (const auto& ord : fake.Orders())
    sent.insert({ord.symbol, ord.side});
  ASSERT_FALSE(sent.empty());  // the decision traded, so some signals were acted on
  for (const auto& row : rows) {
    EXPECT_EQ(row[3], "alpaca:Live signal swap");
    EXPECT_EQ(row[4], "2026-07-13");
    const bool acted = sent.count({row[0], row[1]}) > 0;
    EXPECT_EQ(row[2], acted ? "1" : "0") << row[0] << " " << row[1];
  }
  // The next day's run settles them: a position a buy opened is marked `open` with its profit.
  const auto positions2 = fake.Positions();
  const double cash2 = fake.Cash();
  o.bars = Bars("2026-07-14", symbols);
  o.positions = positions2;
  o.cash = cash2;
  FakeAlpaca next(o);
  next.ExportEnvironment();
  ASSERT_EQ(Live(cfg, out).exit_code, 0);
  const auto openers = Query(db,
                             "SELECT symbol, outcome, profit FROM trading_signals WHERE "
                             "signal_type = 'buy' AND acted_on = 1 AND suggested_action = 'open'");
  ASSERT_FALSE(openers.empty());  // the decision bought a new name (TLT on this data)
  for (const auto& row : openers) {
    EXPECT_EQ(row[1], "open") << row[0];
    EXPECT_FALSE(row[2].empty()) << row[0];
  }
  const auto report = testkit::RunCli({"signals", out});
  EXPECT_EQ(report.exit_code, 0) << report.err;
}

TEST(LiveAlpaca, AdviseReadsHoldingsAndCashFromTheBroker) {
  testkit::TempDir dir;
  const std::string cfg = dir / "advise.json";
  testkit::WriteFile(cfg, R"({"name": "Broker check", "data": {"store": ")" +
                              testkit::SampleStore() + R"("}, "benchmark": "SPY",
  "strategy": {"type": "signal_swap", "holdings": [], "watchlist": ["TLT", "VNQ"],
    "benchmark": "SPY", "min_positions": 3}})");
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14", {"SPY", "AGG", "GLD", "QQQ"});
  o.positions = {{"AGG", 100}, {"GLD", 40}, {"QQQ", 30}};
  o.cash = 5000;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = testkit::RunCli({"advise", cfg, "--from-broker", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_NEAR(j["portfolio"]["cash"].get<double>(), 5000.0, 1e-9);
  std::map<std::string, double> shares;
  for (const auto& h : j["holdings"])
    shares[h["symbol"].get<std::string>()] = h["shares"].get<double>();
  EXPECT_EQ(shares, (std::map<std::string, double>{{"AGG", 100}, {"GLD", 40}, {"QQQ", 30}}));
  EXPECT_EQ(fake.Posts(), 0u);  // read-only
  EXPECT_GE(fake.Requests("/v2/positions"), 1u);
  EXPECT_EQ(r.out.find(o.secret), std::string::npos);
  // Refused keys: a broker error (exit 4), nothing printed as advice.
  FakeAlpacaOptions bad = o;
  bad.bad_keys = true;
  FakeAlpaca refusing(bad);
  refusing.ExportEnvironment();
  const auto denied = testkit::RunCli({"advise", cfg, "--from-broker"});
  EXPECT_EQ(denied.exit_code, 4) << denied.err;
  EXPECT_TRUE(denied.out.empty()) << denied.out;
  EXPECT_EQ(denied.err.find(o.secret), std::string::npos);
}

TEST(LiveAlpaca, PartialFillsAndDuplicateUpdatesBookEachExecutionOnce) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.partial_fills = true;
  o.duplicate_updates = true;
  o.new_auth_reply = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto fills = Query(out + "/journal.sqlite", "SELECT client_order_id, qty FROM fills");
  EXPECT_EQ(fills.size(), 4u);  // two executions per order, duplicates dropped
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  for (const auto& [sym, q] : fake.Positions())
    EXPECT_NEAR(s["positions"][sym]["qty"].get<double>(), q, 1e-9);
  const auto orders =
      Query(out + "/journal.sqlite", "SELECT state, filled_qty, qty, status FROM orders");
  for (const auto& row : orders) {
    EXPECT_EQ(row[0], "filled");  // the broker's word, written by the venue
    EXPECT_NEAR(std::stod(row[1]), std::stod(row[2]), 1e-9);
    EXPECT_EQ(row[3], "filled");  // the order manager's, written through its OrderJournal
  }
}

TEST(LiveAlpaca, RejectedOrderFailsTheDecisionWithoutRetrying) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.reject_symbols = {"SPY"};
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(fake.Posts(), 2u);  // one attempt per order, no retry storm
  const auto rows =
      Query(out + "/journal.sqlite", "SELECT symbol, state, reason FROM orders ORDER BY symbol");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "filled");  // AGG
  EXPECT_EQ(rows[1][1], "rejected");
  EXPECT_NE(rows[1][2].find("insufficient buying power"), std::string::npos);
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT state FROM cycles")[0][0], "failed");
  EXPECT_NE(testkit::ReadFile(out + "/events.jsonl").find("\"order_rejected\""), std::string::npos);
}

TEST(LiveAlpaca, LimitOrdersGoOutAtTheirLimitOnTheTickAndRestWhenAwayFromTheMarket) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  std::map<std::string, double> last;
  for (const auto& b : o.bars)
    last[b.symbol] = b.close.back();
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const std::string out = dir / "marketable";
    const auto r =
        Live(Config(dir), out,
             {"--set", "execution.order_type=limit", "--set", "execution.limit_offset_bps=10"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto orders = fake.Orders();
    ASSERT_EQ(orders.size(), 2u);
    for (const auto& v : orders) {
      EXPECT_EQ(v.type, "limit");
      EXPECT_EQ(v.side, "buy");
      // 10 bps above the last close, up to the next cent (computed here, not by ballast).
      EXPECT_NEAR(v.limit_price, std::ceil(last[v.symbol] * 1.001 * 100 - 1e-9) / 100, 1e-9)
          << v.symbol;
      EXPECT_EQ(v.status, "filled");
      EXPECT_LE(v.filled_avg_price, v.limit_price);
    }
    const auto rows = Query(out + "/journal.sqlite", "SELECT symbol, limit_price FROM orders");
    ASSERT_EQ(rows.size(), 2u);
    for (const auto& row : rows) {
      for (const auto& v : orders) {
        if (v.symbol == row[0]) {
          EXPECT_NEAR(std::stod(row[1]), v.limit_price, 1e-9);
        }
      }
    }
    const json preview = json::parse(testkit::ReadFile(out + "/preview.json"));
    EXPECT_EQ(preview["orders"][0]["type"], "limit");
  }
  {
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const std::string out = dir / "passive";
    const auto r = Live(Config(dir), out,
                        {"--set", "execution.order_type=limit", "--set",
                         "execution.limit_offset_bps=-50", "--set", "live.fill_timeout_seconds=1"});
    EXPECT_EQ(r.exit_code, 5) << r.err;  // incomplete: the day orders are working
    const auto orders = fake.Orders();
    ASSERT_EQ(orders.size(), 2u);
    for (const auto& v : orders) {
      EXPECT_EQ(v.type, "limit");
      EXPECT_EQ(v.status, "accepted");
      EXPECT_NEAR(v.limit_price, std::ceil(last[v.symbol] * 0.995 * 100 - 1e-9) / 100, 1e-9);
    }
    EXPECT_TRUE(fake.Positions().empty() || fake.Positions().begin()->second == 0.0);
    EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT state FROM cycles")[0][0], "incomplete");
  }
}

TEST(LiveAlpaca, RateLimitWaitsForTheResetAndCompletes) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.rate_limit_first = 2;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Orders().size(), 2u);
  EXPECT_NE(testkit::ReadFile(out + "/events.jsonl").find("\"rate_limited\""), std::string::npos);
}

TEST(LiveAlpaca, AuthFailureIsFatalWithAClearMessageAndNoSecret) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.bad_keys = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("APCA_API_KEY_ID"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(o.secret), std::string::npos);
  EXPECT_EQ(fake.Posts(), 0u);
  // Refused before anything was created: no session directory, no journal.
  EXPECT_FALSE(std::filesystem::exists(dir / "s"));
}

/// A test CA and a server certificate it signs for `san` (e.g. "IP:127.0.0.1"), made with the
/// openssl command-line tool; returns false when the tool is missing or fails.
bool MakeCertificates(const testkit::TempDir& dir, const std::string& san) {
  const std::string d = dir.path().string();
  const std::string cmd =
      "cd '" + d +
      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout ca.key -out ca.pem -days 2 -subj '/CN=ballast test CA' "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
      ">/dev/null 2>&1 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout server.key -out server.csr -subj '/CN=fake alpaca' >/dev/null 2>&1 && "
      "printf 'subjectAltName=" +
      san +
      "\\n' > ext.cnf && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out server.pem -days 2 -extfile ext.cnf >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

/// The portfolio config with `broker.alpaca.ca_file` set.
std::string ConfigWithCa(const testkit::TempDir& dir, const std::string& ca_file) {
  const std::string path = Config(dir);
  json c = json::parse(testkit::ReadFile(path));
  c["broker"]["alpaca"]["ca_file"] = ca_file;
  testkit::WriteFile(path, c.dump(2));
  return path;
}

TEST(LiveAlpaca, TlsVerifiesTheServerAgainstTheGivenCaAndTheHostName) {
  testkit::TempDir certs;
  ASSERT_TRUE(MakeCertificates(certs, "IP:127.0.0.1")) << "openssl failed";
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.tls_cert_file = certs / "server.pem";
  o.tls_key_file = certs / "server.key";
  {
    // Trusted through ca_file: https + wss end to end, orders filled.
    testkit::TempDir dir;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    ASSERT_EQ(fake.HttpUrl().rfind("https://", 0), 0u);
    const auto r = Live(ConfigWithCa(dir, certs / "ca.pem"), dir / "s");
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(fake.Orders().size(), 2u);
    EXPECT_GE(fake.TradeStreamConnections(), 1);
  }
  {
    // Without the CA the system store does not trust the server: refused before any order.
    testkit::TempDir dir;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(Config(dir), dir / "s");
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("broker.alpaca.ca_file"), std::string::npos) << r.err;
    EXPECT_EQ(fake.Posts(), 0u);
  }
  {
    // A certificate the CA signed for another host name: refused too.
    testkit::TempDir other;
    ASSERT_TRUE(MakeCertificates(other, "DNS:paper-api.alpaca.markets"));
    FakeAlpacaOptions wrong = o;
    wrong.tls_cert_file = other / "server.pem";
    wrong.tls_key_file = other / "server.key";
    testkit::TempDir dir;
    FakeAlpaca fake(wrong);
    fake.ExportEnvironment();
    const auto r = Live(ConfigWithCa(dir, other / "ca.pem"), dir / "s");
    EXPECT_NE(r.err.find("does not name the host 127.0.0.1"), std::string::npos) << r.err;
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_EQ(fake.Posts(), 0u);
  }
}

TEST(LiveAlpaca, MissingKeysAndLiveWithoutConfirmationAreUsageErrors) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  ::unsetenv("APCA_API_KEY_ID");
  auto r = Live(cfg, dir / "s");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("APCA_API_KEY_ID"), std::string::npos) << r.err;
  r = testkit::RunCli({"live", cfg, "--live", "--once", "--out", dir / "s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("real money"), std::string::npos) << r.err;
  ::setenv("APCA_API_BASE_URL", "https://api.alpaca.markets", 1);
  r = Live(cfg, dir / "s");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("live endpoint"), std::string::npos) << r.err;
  ::setenv("APCA_API_BASE_URL", "http://example.com", 1);
  ::setenv("APCA_API_KEY_ID", "x", 1);
  r = Live(cfg, dir / "s");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only allowed to loopback"), std::string::npos) << r.err;
  ::unsetenv("APCA_API_BASE_URL");
}

TEST(LiveAlpaca, DryRunPreviewsAndJournalsButSendsNothing) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out, {"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Posts(), 0u);
  EXPECT_NE(r.out.find("dry run"), std::string::npos);
  EXPECT_NE(r.out.find("SPY"), std::string::npos);
  const json p = json::parse(testkit::ReadFile(out + "/preview.json"));
  ASSERT_EQ(p["orders"].size(), 2u);
  double after = 0;
  for (const auto& ord : p["orders"])
    after += ord["weight_after"].get<double>();
  EXPECT_NEAR(after, 1.0, 1e-9);  // fully invested after the plan
  const auto rows = Query(out + "/journal.sqlite", "SELECT state FROM orders");
  for (const auto& row : rows)
    EXPECT_EQ(row[0], "dry_run");
}

TEST(LiveAlpaca, LostPostReplyIsLookedUpAndADuplicateRefusalCountsAsPlaced) {
  // The first POST places the order but its reply is lost; the lookup does not see the order yet
  // (lag), so the session sends once more and meets 422 "client_order_id must be unique".
  for (const int lag : {1, 2}) {
    SCOPED_TRACE(lag);
    testkit::TempDir dir;
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    o.lose_post_replies = 1;
    o.lookup_lag = lag;  // 1: found after the 422; 2: still hidden, found by the poll
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const std::string out = dir / "s";
    const auto r = Live(Config(dir), out);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(fake.Posts(), 3u);          // two orders, one of them sent twice
    EXPECT_EQ(fake.Orders().size(), 2u);  // and placed once
    const std::string events = testkit::ReadFile(out + "/events.jsonl");
    EXPECT_NE(events.find("\"order_uncertain\""), std::string::npos);
    EXPECT_NE(events.find("\"order_duplicate\""), std::string::npos);
    const auto w = BrokerWeights(fake, o.bars);
    EXPECT_NEAR(w.at("SPY"), 0.6, 1e-6);
    EXPECT_NEAR(w.at("AGG"), 0.4, 1e-6);
    const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
    EXPECT_EQ(s["cycle_state"], "done");
    EXPECT_NEAR(s["cash"].get<double>(), fake.Cash(), 1e-6);
    for (const auto& row : Query(out + "/journal.sqlite", "SELECT state FROM orders"))
      EXPECT_EQ(row[0], "filled");
  }
}

TEST(LiveAlpaca, JsonLogFormatWritesOneObjectPerLineOnStderr) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s", {"--dry-run", "--log-format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.err);
  std::string line;
  int n = 0;
  bool connected = false;
  while (std::getline(lines, line)) {
    const json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
    connected = connected || j["msg"].get<std::string>().find("127.0.0.1") != std::string::npos;
    ++n;
  }
  EXPECT_GT(n, 0);
  EXPECT_TRUE(connected) << r.err;
  EXPECT_EQ(r.err.find(o.secret), std::string::npos);
  // The preview table stays on stdout, free of log lines.
  EXPECT_NE(r.out.find("dry run"), std::string::npos);
  EXPECT_EQ(r.out.find("\"level\""), std::string::npos);
}

TEST(LiveAlpaca, RiskGateAndKillSwitchStopOrdersBeforeTheBroker) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  // 60% of 100,000 in SPY is above a 50,000 order limit; AGG's 40,000 passes.
  auto r = Live(Config(dir, R"(, "risk": {"max_order_notional": 50000})"), dir / "a");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  ASSERT_EQ(fake.Orders().size(), 1u);
  EXPECT_EQ(fake.Orders()[0].symbol, "AGG");
  EXPECT_NE(r.out.find("DENIED max_order_notional"), std::string::npos) << r.out;
  // Turnover per session day as a fraction of equity (the SPY buy, 60% of equity, breaks 50%)
  // and the post-trade weight of one symbol (SPY would end at 60%).
  r = Live(Config(dir, R"(, "risk": {"max_daily_turnover": 0.5})"), dir / "t");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.out.find("DENIED max_daily_turnover 0.5"), std::string::npos) << r.out;
  r = Live(Config(dir, R"(, "risk": {"max_weight": 0.5})"), dir / "w");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.out.find("DENIED max_weight 0.5"), std::string::npos) << r.out;
  EXPECT_EQ(fake.Orders().size(), 1u);
  // Kill switch file: nothing leaves.
  testkit::WriteFile(dir.path() / "STOP", "");
  r = Live(Config(dir, R"(, "risk": {"kill_switch_file": "STOP"})"), dir / "b");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(fake.Orders().size(), 1u);
  EXPECT_NE(r.out.find("DENIED kill_switch"), std::string::npos);
}

TEST(LiveAlpaca, TradeStreamDropAndMalformedFramesAreSurvived) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.drop_trade_stream_after = 1;  // the stream dies after the first update: fills are lost
  o.malformed_frames = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(fake.TradeStreamConnections(), 2);
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("\"stream_disconnected\""), std::string::npos);
  EXPECT_NE(events.find("\"malformed_message\""), std::string::npos);
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  EXPECT_EQ(s["cycle_state"], "done");
  for (const auto& [sym, q] : fake.Positions())
    EXPECT_NEAR(s["positions"][sym]["qty"].get<double>(), q, 1e-9);
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  return testkit::SpawnCli(args, log);
}

int WaitExit(pid_t pid) {
  return testkit::WaitCli(pid);
}

TEST(LiveAlpaca, Kill9BetweenSendingAndFillThenRestartDoesNotDoubleOrder) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.hold_fills = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string cfg = Config(dir);
  const std::string out = dir / "s";
  const pid_t pid = Spawn({"live", cfg, "--paper", "--once", "--out", out}, dir / "run1.log");
  ASSERT_TRUE(fake.WaitForOrders(2, std::chrono::seconds(20)));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(WaitExit(pid), -SIGKILL);
  // While the process is dead, the broker fills the orders.
  fake.ReleaseFills();
  const auto r = Live(cfg, out);
  ASSERT_EQ(r.exit_code, 0) << r.err << testkit::ReadFile(out + "/events.jsonl");
  EXPECT_EQ(fake.Posts(), 2u);  // no duplicate order
  EXPECT_EQ(fake.Orders().size(), 2u);
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  for (const auto& [sym, q] : fake.Positions())
    EXPECT_NEAR(s["positions"][sym]["qty"].get<double>(), q, 1e-9);
  EXPECT_NEAR(s["cash"].get<double>(), fake.Cash(), 1e-6);
  const auto orders = Query(out + "/journal.sqlite", "SELECT state FROM orders");
  ASSERT_EQ(orders.size(), 2u);
  for (const auto& row : orders)
    EXPECT_EQ(row[0], "filled");
  const auto fills = Query(out + "/journal.sqlite", "SELECT SUM(qty * price) FROM fills");
  EXPECT_GT(std::stod(fills[0][0]), 99000.0);
}

TEST(LiveAlpaca, SimBrokerKeepsItsAccountInTheJournal) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = testkit::RunCli({"live", Config(dir), "--broker", "sim", "--once", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake.Posts(), 0u);  // market data only
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  EXPECT_NEAR(s["equity"].get<double>(), 100000.0, 1e-6);  // zero-cost fills conserve value
  EXPECT_NEAR(s["positions"]["SPY"]["weight"].get<double>(), 0.6, 1e-9);
  const auto fills = Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM fills");
  EXPECT_EQ(fills[0][0], "2");
}

std::string DcaConfig(const testkit::TempDir& dir) {
  const std::string cfg = dir / "dca.json";
  testkit::WriteFile(cfg, R"({"name": "Live dca", "data": {"store": ")" + testkit::SampleStore() +
                              R"("}, "strategy": {"type": "dca", "frequency": "monthly",
    "investment_amount": 1000, "funding": "contribution", "targets": {"SPY": 0.6, "AGG": 0.4}},
    "live": {"fill_timeout_seconds": 10, "history_days": 30, "cash_buffer": 0}})");
  return cfg;
}

TEST(LiveAlpaca, DcaContributionsAreNotBookedLiveTheyComeFromTheBrokersCash) {
  testkit::TempDir dir;
  const std::string cfg = DcaConfig(dir);
  const std::string out = dir / "s";
  // Day 1 allocates; day 2 (first session of July) is a tranche whose contribution a backtest
  // books as new cash. At a real broker the money must already be there: no phantom cash.
  LiveOnDays(cfg, out, {"2026-06-30", "2026-07-01"}, 100000.0,
             [](const char* day, const FakeAlpaca& fake, const testkit::CliResult& r) {
               ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
               EXPECT_GE(fake.Cash(), -1e-9) << day;  // never spent money the account lacks
             });
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM flows")[0][0], "0");
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT COUNT(*) FROM cycles")[0][0], "2");
}

TEST(LiveAlpaca, TheSimulatedBrokerBooksDcaContributionsAsTransfers) {
  testkit::TempDir dir;
  const std::string cfg = DcaConfig(dir);
  const std::string out = dir / "s";
  for (const char* day : {"2026-06-30", "2026-07-01"}) {
    FakeAlpacaOptions o;
    o.bars = Bars(day);
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = testkit::RunCli({"live", cfg, "--broker", "sim", "--once", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  // The tranche's 1000 reached the simulated account (a simulated broker simulates the
  // deposit), was invested, and shows as the day's flow in equity.csv, as in a backtest.
  const auto flows = Query(out + "/journal.sqlite", "SELECT session_day, amount FROM flows");
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0][0], "2026-07-01");
  EXPECT_DOUBLE_EQ(std::stod(flows[0][1]), 1000.0);
  const auto bought =
      Query(out + "/journal.sqlite",
            "SELECT SUM(CASE side WHEN 'buy' THEN qty * price ELSE -qty * price END) FROM fills");
  EXPECT_NEAR(std::stod(bought[0][0]), 101000.0, 1e-6);
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  EXPECT_NEAR(s["cash"].get<double>(), 0.0, 1e-6);
  const std::string csv = testkit::ReadFile(out + "/equity.csv");
  EXPECT_NE(csv.find("\n2026-07-01,"), std::string::npos) << csv;
  const auto line = csv.substr(csv.find("\n2026-07-01,") + 1);
  std::vector<std::string> cells;
  std::stringstream ls(line.substr(0, line.find('\n')));
  for (std::string c; std::getline(ls, c, ',');)
    cells.push_back(c);
  ASSERT_GE(cells.size(), 7u);
  EXPECT_EQ(cells[6], "1000");  // the flow column
}

TEST(LiveAlpaca, ServiceExposesHealthReadyAndMetricsAndStopsOnSigterm) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.data_406_first = 1;  // the first market-data connection is refused: retried with backoff
  o.malformed_frames = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "svc";
  // A port found free may be taken by a parallel test before the service binds it: then the
  // service exits at once (before any order) and the test tries another port.
  unsigned short port = 0;
  pid_t pid = 0;
  int status = 0;
  for (int attempt = 0; attempt < 5 && status != 200; ++attempt) {
    port = FreePort();
    pid = Spawn({"live", Config(dir), "--paper", "--force", "--out", out, "--metrics-port",
                 std::to_string(port)},
                dir / "svc.log");
    bool exited = false;
    for (int i = 0; i < 200 && status != 200 && !exited; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      int wstatus = 0;
      exited = waitpid(pid, &wstatus, WNOHANG) == pid;
      if (exited) break;
      try {
        (void)HttpGet(port, "/ready", &status);
      } catch (const std::exception&) {
      }
    }
    const std::string err = testkit::ReadFile(dir / "svc.log.err");
    if (exited && err.find("Address already in use") == std::string::npos) FAIL() << err;
  }
  ASSERT_EQ(status, 200) << testkit::ReadFile(dir / "svc.log.err");
  EXPECT_EQ(HttpGet(port, "/health"), "ok\n");
  const std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("ballast_equity "), std::string::npos);
  EXPECT_NE(metrics.find("ballast_ready 1"), std::string::npos);
  testkit::WriteFile(dir.path() / "metrics.txt", metrics);
  const int promtool = std::system(("promtool check metrics < '" + (dir / "metrics.txt") + "' > '" +
                                    (dir / "promtool.out") + "' 2>&1")
                                       .c_str());
  EXPECT_EQ(promtool, 0) << testkit::ReadFile(dir / "promtool.out");
  EXPECT_EQ(fake.Orders().size(), 2u);  // --force: one cycle at start
  EXPECT_GE(fake.DataStreamConnections(), 2);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("\"session_stopped\""), std::string::npos);
  EXPECT_NE(events.find("\"stream_error\""), std::string::npos);  // the 406
  EXPECT_NE(events.find("\"cycle_scheduled\""), std::string::npos);
}

TEST(LiveAlpaca, ServiceDecidesOnUpdatedBarsAndReconnectsStaleData) {
  // The broker's clock says 15:44:45 New York; the session keeps its time, so its 15:45 check
  // fires fifteen seconds in (after the forced cycle at start, even on a loaded machine: a start
  // that ran past 15:45 would leave the check for tomorrow). By then the data stream has sent a
  // minute bar (close +2%) and an updated bar for the same minute (close +1%): the check must value
  // the book at +1%. The stream then goes quiet during market hours: the watchdog reconnects after
  // 0.5 s.
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.clock_offset_seconds = -15.0;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "svc";
  const pid_t pid =
      Spawn({"live", Config(dir, R"(, "check_time": "15:45", "stale_data_seconds": 0.5)"),
             "--paper", "--force", "--out", out},
            dir / "svc.log");
  bool checked = false;
  for (int i = 0; i < 600 && !checked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!std::filesystem::exists(out + "/events.jsonl")) continue;  // not started yet
    const std::string events = testkit::ReadFile(out + "/events.jsonl");
    checked = events.find("already decided today") != std::string::npos;
  }
  ASSERT_TRUE(checked) << testkit::ReadFile(dir / "svc.log.err");
  // The watchdog's reconnect is its own event: wait for it, not for a time (under load the
  // check can come first).
  for (int i = 0; i < 600 && fake.DataStreamConnections() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  const json s = json::parse(testkit::ReadFile(out + "/summary.json"));
  for (const auto& series : o.bars) {
    EXPECT_NEAR(s["positions"][series.symbol]["price"].get<double>(), series.close.back() * 1.01,
                1e-9)
        << series.symbol;
  }
  const std::string events = testkit::ReadFile(out + "/events.jsonl");
  EXPECT_NE(events.find("\"stale_data\""), std::string::npos) << events;
  EXPECT_GE(fake.DataStreamConnections(), 2);
  EXPECT_NE(events.find("\"clock_skew\""), std::string::npos);  // 15 s apart: logged
  EXPECT_EQ(fake.Orders().size(), 2u);  // the forced cycle at start; the check sends nothing
}

TEST(LiveAlpaca, ServiceWatchesDriftBandsOnStreamPricesBetweenChecks) {
  // A threshold portfolio checked daily: the forced cycle at start allocates 60/40 (today's
  // check). Later that session the stream says SPY is up 30 %: 65.9 % of the book, beyond its
  // 5 % band. The stream's price is a slice of today's row (a watch slice), the strategy's
  // recheck trades back to target, and that decision is a cycle of its own, journaled "watch".
  testkit::TempDir dir;
  const std::string cfg = Config(dir, R"(, "watch_seconds": 0.2)",
                                 R"({"type": "threshold", "band": {"absolute": 0.05},
                                     "check": "daily", "targets": {"SPY": 0.6, "AGG": 0.4}})");
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "svc";
  const pid_t pid = Spawn({"live", cfg, "--paper", "--force", "--out", out}, dir / "svc.log");
  auto events_have = [&](const std::string& what) {
    return std::filesystem::exists(out + "/events.jsonl") &&
           testkit::ReadFile(out + "/events.jsonl").find(what) != std::string::npos;
  };
  bool allocated = false;
  for (int i = 0; i < 600 && !allocated; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    allocated = events_have("\"cycle_finished\"");
  }
  ASSERT_TRUE(allocated) << testkit::ReadFile(dir / "svc.log.err");
  ASSERT_EQ(fake.Orders().size(), 2u);
  double spy = 0.0;
  for (const auto& series : o.bars)
    if (series.symbol == "SPY") spy = series.close.back();
  fake.PushMinuteBar("SPY", spy * 1.3, 15 * 60 + 46);
  const bool traded = fake.WaitForOrders(4, std::chrono::seconds(60));
  bool finished = false;
  for (int i = 0; i < 600 && traded && !finished; ++i) {
    finished = Query(out + "/journal.sqlite",
                     "SELECT state FROM cycles WHERE reason = 'watch' AND state = 'done'")
                   .size() == 1;
    if (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  ASSERT_TRUE(traded) << testkit::ReadFile(out + "/events.jsonl");
  EXPECT_TRUE(finished);
  const auto orders = fake.Orders();
  ASSERT_EQ(orders.size(), 4u);
  // The watch cycle sold SPY (up) and bought AGG, back to 60/40 at the stream's price.
  EXPECT_EQ(orders[2].side == "sell" ? orders[2].symbol : orders[3].symbol, "SPY");
  EXPECT_EQ(orders[2].side == "buy" ? orders[2].symbol : orders[3].symbol, "AGG");
  const auto cycles = Query(out + "/journal.sqlite", "SELECT reason FROM cycles ORDER BY id");
  ASSERT_EQ(cycles.size(), 2u);
  EXPECT_EQ(cycles[0][0], "forced");
  EXPECT_EQ(cycles[1][0], "watch");
  EXPECT_TRUE(events_have("\"watch_decided\""));
  EXPECT_TRUE(events_have("\"allocation_drift\""));
}

}  // namespace
}  // namespace ballast
