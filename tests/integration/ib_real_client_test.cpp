// The fake IB Gateway checked against a real TWS API client: @stoqey/ib (npm; a TypeScript port
// of IB's Java client) connects to it, reads the clock, the account summary, positions and a
// contract and daily bars, and is refused an unknown contract (tests/ib_client/check.mjs). Where
// the fake and a real client disagree, the real client is right. scripts/test.sh installs the
// client (npm ci).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "ballast/data/bar_store.hpp"
#include "fake_tws.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;

TEST(IbRealClient, StoqeyIbReadsTheFakeGatewayAsItWouldReadIbs) {
  const fs::path dir = testkit::SourceDir() / "tests/ib_client";
  if (!fs::exists(dir / "node_modules/@stoqey/ib/package.json") ||
      std::system("node --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "@stoqey/ib not installed (scripts/test.sh runs: npm ci --prefix "
                    "tests/ib_client; needs nodejs and npm)";
  }
  testkit::FakeTwsOptions o;
  o.cash = 40000;
  o.positions = {{"SPY", 100}};
  o.prices = {{"SPY", 500}};
  o.bars = data::LoadSeries(testkit::SampleStore(), {"SPY"}, *ParseIsoDate("2026-06-01"),
                            *ParseIsoDate("2026-07-14"));
  testkit::FakeTws fake(o);
  const std::string cmd =
      "node " + (dir / "check.mjs").string() + " " + std::to_string(fake.Port()) + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr)
    out += buf.data();
  const int status = ::pclose(p);
  ASSERT_EQ(status, 0) << out;
  const auto j =
      nlohmann::json::parse(out.substr(out.rfind('{', out.find("\"errors\""))), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;

  // It asked for more versions than the fake speaks and settled on 178, as with a Gateway.
  EXPECT_EQ(fake.Handshakes().at(0).substr(0, 6), "v100..");
  EXPECT_EQ(j["serverVersion"], 178);
  EXPECT_EQ(j["nextValidId"], 117);
  EXPECT_EQ(j["accounts"], "DU1234567");
  EXPECT_EQ(j["currentTime"], 1784058300);
  ASSERT_EQ(j["notices"].size(), 3u) << out;
  EXPECT_EQ(j["notices"][0]["code"], 2104);
  EXPECT_EQ(j["notices"][2]["code"], 2158);
  EXPECT_EQ(j["summary"]["NetLiquidation"]["value"], "90000");
  EXPECT_EQ(j["summary"]["TotalCashValue"]["value"], "40000");
  EXPECT_EQ(j["summary"]["BuyingPower"]["currency"], "USD");
  EXPECT_EQ(j["positions"]["SPY"]["conId"], 756733);
  EXPECT_EQ(j["positions"]["SPY"]["pos"], 100);
  EXPECT_EQ(j["positions"]["SPY"]["avgCost"], 500);
  EXPECT_EQ(j["contracts"]["SPY"]["conId"], 756733);
  EXPECT_EQ(j["contracts"]["SPY"]["primaryExchange"], "ARCA");
  EXPECT_EQ(j["contracts"]["SPY"]["minTick"], 0.01);
  EXPECT_EQ(j["contracts"]["SPY"]["timeZoneId"], "US/Eastern");
  // Ten calendar days to 2026-07-14 (Tuesday): the sessions from 2026-07-06 on, with the store's
  // closes, as the real client decoded them.
  const auto& h = j["history"];
  ASSERT_EQ(h.size(), 7u) << out;
  EXPECT_EQ(h[0]["date"], "20260706");
  EXPECT_EQ(h[6]["date"], "20260714");
  EXPECT_EQ(h[6]["close"].get<double>(), o.bars[0].close.back());
  ASSERT_EQ(j["errors"].size(), 2u) << out;
  EXPECT_EQ(j["errors"][0]["code"], 200);
  EXPECT_EQ(j["errors"][0]["reqId"], 9003);
  EXPECT_EQ(j["errors"][1]["code"], 202);  // the cancel's confirmation
  EXPECT_EQ(j["errors"][1]["reqId"], 118);
  // Orders. A market buy of 10 SPY: its statuses, its execution (live, reqId -1) and commission.
  const auto& mkt = j["orders"]["117"];
  EXPECT_EQ(mkt["statuses"], nlohmann::json({"PreSubmitted", "Submitted", "Filled"})) << out;
  EXPECT_EQ(mkt["filled"], 10);
  EXPECT_EQ(mkt["avgFillPrice"], 500);
  ASSERT_EQ(j["executions"].size(), 2u) << out;
  EXPECT_EQ(j["executions"][0]["reqId"], -1);
  EXPECT_EQ(j["executions"][0]["orderRef"], "bltest-20260714-1-SPY");
  EXPECT_EQ(j["executions"][0]["side"], "BOT");
  EXPECT_EQ(j["executions"][0]["cumQty"], 10);
  ASSERT_EQ(j["commissions"].size(), 1u) << out;
  EXPECT_EQ(j["commissions"][0]["execId"], j["executions"][0]["execId"]);
  EXPECT_EQ(j["commissions"][0]["commission"], 1);
  EXPECT_FALSE(j["commissions"][0].contains("realizedPNL"));  // the sentinel: no value
  // A limit buy below the market: working, in the open orders with its ref (the fake's
  // openOrder walked to its state field by the real decoder), then cancelled.
  ASSERT_EQ(j["open"].size(), 1u) << out;
  EXPECT_EQ(j["open"][0]["id"], 118);
  EXPECT_EQ(j["open"][0]["orderRef"], "bltest-20260714-1-AGG");
  EXPECT_EQ(j["open"][0]["type"], "LMT");
  EXPECT_EQ(j["open"][0]["status"], "Submitted");
  EXPECT_EQ(j["orders"]["118"]["statuses"].back(), "Cancelled");
  // reqExecutions finds the fill again, under its request id.
  EXPECT_EQ(j["executions"][1]["reqId"], 9005);
  EXPECT_EQ(j["executions"][1]["execId"], j["executions"][0]["execId"]);
  EXPECT_DOUBLE_EQ(fake.Cash(), 40000.0 - 5000.0 - 1.0);
  // What the real client sent, as the fake received it: startApi first; its placeOrder has the
  // 114 fields of ib_async's at 178, orderRef at 26; and it writes an unset conId and strike as
  // empty fields where ib_async writes 0 and 0.0.
  const auto rx = fake.Received();
  ASSERT_FALSE(rx.empty());
  EXPECT_EQ(rx[0].at(0), "71");
  for (const auto& f : rx) {
    if (f.at(0) != "3") continue;
    EXPECT_EQ(f.size(), 114u);
    EXPECT_EQ(f.at(26).substr(0, 16), "bltest-20260714-");
  }
  bool details = false;
  for (const auto& f : rx)
    details = details || (f.size() > 4 && f[0] == "9" && f[4] == "SPY");
  EXPECT_TRUE(details);
}

}  // namespace
}  // namespace ballast
