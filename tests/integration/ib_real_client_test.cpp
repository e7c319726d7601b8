// The fake IB Gateway checked against a real TWS API client: @stoqey/ib (npm; a TypeScript port
// of IB's Java client) connects to it, reads the clock, the account summary, positions and a
// contract and daily bars, and is refused an unknown contract (tests/ib_client/check.mjs). Where the fake and a real
// client disagree, the real client is right. scripts/test.sh installs the client (npm ci).
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
  ASSERT_EQ(j["errors"].size(), 1u) << out;
  EXPECT_EQ(j["errors"][0]["code"], 200);
  EXPECT_EQ(j["errors"][0]["reqId"], 9003);
  // What the real client sent, as the fake received it: startApi first; and the real client
  // writes an unset conId and strike as empty fields where ib_async writes 0 and 0.0.
  const auto rx = fake.Received();
  ASSERT_FALSE(rx.empty());
  EXPECT_EQ(rx[0].at(0), "71");
  bool details = false;
  for (const auto& f : rx)
    details = details || (f.size() > 4 && f[0] == "9" && f[4] == "SPY");
  EXPECT_TRUE(details);
}

}  // namespace
}  // namespace ballast
