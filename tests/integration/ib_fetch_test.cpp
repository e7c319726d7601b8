// `ballast data fetch --provider ib` against the loopback IB Gateway: daily bars through
// reqHistoricalData into the store, the duration asked for, pacing violations waited out, and
// the errors a user can meet.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "ballast/data/bar_store.hpp"
#include "fake_tws.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using testkit::FakeTws;
using testkit::FakeTwsOptions;

// The history requests the fake received.
std::vector<std::vector<std::string>> HistoryRequests(const FakeTws& fake) {
  std::vector<std::vector<std::string>> out;
  for (const auto& f : fake.Received())
    if (!f.empty() && f[0] == "20") out.push_back(f);
  return out;
}

TEST(IbFetch, DailyBarsIntoTheStore) {
  testkit::TempDir dir;
  FakeTwsOptions o;
  o.bars = Bars("2026-07-14", {"SPY", "AGG", "GLD"});
  FakeTws fake(o);
  ::setenv("IB_PORT", std::to_string(fake.Port()).c_str(), 1);  // as users' .env files have it
  const std::string store = dir / "ib.h5";
  const auto r = testkit::RunCli({"data", "fetch", "--provider", "ib", "--symbols", "SPY,AGG,GLD",
                                  "--start", "2026-01-02", "--end", "2026-06-30", "--out", store});
  ::unsetenv("IB_PORT");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = data::LoadSeries(store, {"AGG", "GLD", "SPY"}, std::nullopt, std::nullopt);
  const auto want = data::LoadSeries(testkit::SampleStore(), {"AGG", "GLD", "SPY"},
                                     *ParseIsoDate("2026-01-02"), *ParseIsoDate("2026-06-30"));
  ASSERT_EQ(got.size(), 3u);
  std::size_t bars = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].time, want[i].time) << got[i].symbol;
    EXPECT_EQ(got[i].close, want[i].close) << got[i].symbol;
    EXPECT_EQ(got[i].open, want[i].open) << got[i].symbol;
    EXPECT_EQ(got[i].price_adjustment, "adjusted") << got[i].symbol;  // ADJUSTED_LAST
    EXPECT_EQ(got[i].source, "ib");
    bars += got[i].Rows();
  }
  // One clock request, then a contract and a history request per symbol.
  EXPECT_NE(r.out.find(fmt::format("wrote {}: 3 symbol(s), {} bars from Interactive Brokers at "
                                   "127.0.0.1:{} (7 requests; adjusted)",
                                   store, bars, fake.Port())),
            std::string::npos)
      << r.out;
  const auto asked = HistoryRequests(fake);
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0][2], "756733");  // the conId contract details resolved
  EXPECT_EQ(asked[0][10], "ARCA");   // and its primary exchange
  EXPECT_EQ(asked[0][16], "1 day");  // bar size
  EXPECT_EQ(asked[0][17], "194 D");  // 2026-01-02 to today (2026-07-14) at IB
  EXPECT_EQ(asked[0][18], "1");      // regular hours
  EXPECT_EQ(asked[0][19], "ADJUSTED_LAST");
  EXPECT_EQ(asked[0][15], "");  // ADJUSTED_LAST takes no end
}

TEST(IbFetch, TradesAreSplitAdjustedAndLongSpansAskInYears) {
  testkit::TempDir dir;
  FakeTwsOptions o;
  o.bars = Bars("2026-07-14", {"SPY"});
  FakeTws fake(o);
  const std::string store = dir / "ib.h5";
  const auto r = testkit::RunCli({"data", "fetch", "--provider", "ib", "--ib-port",
                                  std::to_string(fake.Port()), "--symbols", "SPY", "--what",
                                  "TRADES", "--start", "2024-01-02", "--out", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = data::LoadSeries(store, {"SPY"}, std::nullopt, std::nullopt);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].price_adjustment, "split_adjusted");
  EXPECT_EQ(FormatDate(TimestampToDay(got[0].time.back())), "2026-07-14");
  const auto asked = HistoryRequests(fake);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0][17], "3 Y");  // 925 days: more than IB takes in days
  EXPECT_EQ(asked[0][19], "TRADES");
}

TEST(IbFetch, PacingViolationsAreWaitedOut) {
  testkit::TempDir dir;
  FakeTwsOptions o;
  o.bars = Bars("2026-07-14", {"SPY"});
  o.pacing_violations = 2;
  FakeTws fake(o);
  const auto r = testkit::RunCli({"data", "fetch", "--provider", "ib", "--ib-port",
                                  std::to_string(fake.Port()), "--symbols", "SPY", "--start",
                                  "2026-06-01", "--pacing-wait", "0.05", "--out", dir / "ib.h5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("IB pacing violation for SPY; waiting 0.05 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("IB pacing violation for SPY; waiting 0.1 s"), std::string::npos) << r.err;
  EXPECT_EQ(HistoryRequests(fake).size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(dir / "ib.h5"));
}

TEST(IbFetch, ErrorsNameWhatWentWrongAndWriteNothing) {
  testkit::TempDir dir;
  FakeTwsOptions o;
  o.bars = Bars("2026-07-14", {"SPY"});
  FakeTws fake(o);
  const std::string port = std::to_string(fake.Port());
  auto fetch = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"data", "fetch", "--start", "2026-06-01", "--out", dir / "x.h5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testkit::RunCli(args);
  };
  // A symbol IB does not know: a data error naming it.
  auto r = fetch({"--provider", "ib", "--ib-port", port, "--symbols", "SPY,ZZZZ"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("reqContractDetails for ZZZZ: IB error 200"), std::string::npos) << r.err;
  // Pacing that never ends: after three retries, a data error.
  {
    FakeTwsOptions busy_o = o;
    busy_o.pacing_violations = 100;
    FakeTws busy(busy_o);
    r = fetch({"--provider", "ib", "--ib-port", std::to_string(busy.Port()), "--symbols", "SPY",
               "--pacing-wait", "0.01"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("IB historical data for SPY: reqHistoricalData for SPY: IB error 162: "
                         "Historical Market Data Service error message:Historical data request "
                         "pacing violation"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(HistoryRequests(busy).size(), 4u);
  }
  // Nothing listening: the broker's failure, exit 4.
  unsigned short closed = 0;
  {
    FakeTws gone;
    closed = gone.Port();
  }
  r = fetch({"--provider", "ib", "--ib-port", std::to_string(closed), "--symbols", "SPY"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(fmt::format("cannot connect to IB Gateway / TWS at 127.0.0.1:{}: "
                                   "Connection refused (is it running, with the API enabled on "
                                   "that port?)",
                                   closed)),
            std::string::npos)
      << r.err;
  // Usage errors.
  r = fetch({"--provider", "ib", "--ib-port", port, "--symbols", "SPY", "--actions"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("IB's TWS API serves no corporate actions"), std::string::npos) << r.err;
  r = fetch({"--provider", "alpaca", "--symbols", "SPY", "--what", "TRADES"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("are for --provider ib"), std::string::npos) << r.err;
  r = fetch({"--provider", "ib", "--ib-port", "abc", "--symbols", "SPY"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--ib-port: 'abc' is not a whole number from 1 to 65535"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
}

}  // namespace
}  // namespace ballast
