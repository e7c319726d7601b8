// `ballast data fetch` against the loopback Alpaca server: bars across pages, and raw bars with
// the corporate actions of /v1/corporate-actions for `data.prices: "raw"`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ballast/data/bar_store.hpp"
#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

TEST(DataFetch, AlpacaBarsIntoTheStoreAcrossPages) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14", {"SPY", "AGG", "GLD"});
  o.bars_page_size = 50;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string store = dir / "fetched.h5";
  const auto r =
      testkit::RunCli({"data", "fetch", "--provider", "alpaca", "--symbols", "SPY,AGG,GLD",
                       "--start", "2026-01-02", "--end", "2026-06-30", "--out", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = data::LoadSeries(store, {"AGG", "GLD", "SPY"}, std::nullopt, std::nullopt);
  const auto want = data::LoadSeries(testkit::SampleStore(), {"AGG", "GLD", "SPY"},
                                     *ParseIsoDate("2026-01-02"), *ParseIsoDate("2026-06-30"));
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].time, want[i].time) << got[i].symbol;
    EXPECT_EQ(got[i].close, want[i].close) << got[i].symbol;
    EXPECT_EQ(got[i].price_adjustment, "adjusted") << got[i].symbol;  // adjustment=all
    EXPECT_TRUE(got[i].actions.empty());
  }
  EXPECT_EQ(fake.Requests("/v1/corporate-actions"), 0u);
  EXPECT_GT(fake.Requests("/v2/stocks/bars"), 5u);
  // Unknown symbol: a data error naming it; nothing written.
  const auto bad = testkit::RunCli(
      {"data", "fetch", "--symbols", "ZZZZ", "--start", "2026-01-02", "--out", dir / "bad.h5"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("ZZZZ"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.h5"));
}

TEST(DataFetch, ActionsBringRawBarsAndTheSplitsAndDividendsTheStoreModels) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14", {"SPY", "AGG"});
  o.raw_bars = o.bars;
  auto& spy = o.raw_bars[0];
  auto& agg = o.raw_bars[1];
  ASSERT_EQ(spy.symbol, "SPY");
  ASSERT_GT(spy.Rows(), 120u);
  ASSERT_GT(agg.Rows(), 120u);
  // As traded: SPY split 2:1 at row 60 (twice the price before it), AGG 1:4 at row 100.
  for (std::size_t i = 0; i < 60; ++i)
    spy.close[i] *= 2.0;
  for (std::size_t i = 100; i < agg.Rows(); ++i)
    agg.close[i] *= 4.0;
  const auto day = [&](std::size_t i) { return TimestampToDay(spy.time[i]); };
  const auto agg_day = [&](std::size_t i) { return TimestampToDay(agg.time[i]); };
  spy.actions = {{day(0), ActionKind::kDividend, 1.0},  // on the first bar: changes nothing
                 {day(60), ActionKind::kSplit, 2.0}};
  agg.actions = {{agg_day(30), ActionKind::kDividend, 0.25},
                 {agg_day(90), ActionKind::kDividend, 0.30},
                 {agg_day(100), ActionKind::kSplit, 0.25},
                 // Paid (processed) two weeks after the last bar: still this store's.
                 {agg_day(agg.Rows() - 2), ActionKind::kDividend, 0.20}};
  o.actions_page_size = 1;  // six pages
  // A special dividend beside AGG's regular one, a spin-off the store does not model, and an
  // action of a symbol not asked for.
  o.extra_corporate_actions = fmt::format(
      R"({{"cash_dividends": [{{"symbol": "AGG", "rate": 0.10, "special": true, "ex_date": "{0}",
            "process_date": "{0}", "record_date": "{0}", "payable_date": "{0}"}},
          {{"symbol": "FCF", "rate": 0.125, "ex_date": "{0}"}}],
          "spin_offs": [{{"source_symbol": "SPY", "source_rate": 1, "new_symbol": "NEWCO",
            "new_rate": 0.1, "ex_date": "{1}", "process_date": "{1}"}}]}})",
      FormatDate(agg_day(90)), FormatDate(day(70)));
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string store = dir / "raw.h5";
  const auto r = testkit::RunCli({"data", "fetch", "--symbols", "SPY,AGG", "--actions", "--start",
                                  FormatDate(day(0)), "--out", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The summary docs/live.md quotes.
  EXPECT_EQ(r.out, "wrote " + store +
                       ": 2 symbol(s), 391 bars from Alpaca (7 requests); raw prices with 2 "
                       "split(s) and 3 dividend(s)\n");
  EXPECT_NE(r.err.find("1 spin_offs SPY not applied"), std::string::npos) << r.err;
  EXPECT_EQ(fake.Requests("/v1/corporate-actions"), 6u);
  const auto got = data::LoadSeries(store, {"SPY", "AGG"}, std::nullopt, std::nullopt);
  ASSERT_EQ(got.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(got[k].price_adjustment, "raw") << got[k].symbol;
    EXPECT_EQ(got[k].close, o.raw_bars[k].close) << got[k].symbol;
  }
  ASSERT_EQ(got[0].actions.size(), 1u);
  EXPECT_EQ(got[0].actions[0].ex_date, day(60));
  EXPECT_EQ(got[0].actions[0].kind, ActionKind::kSplit);
  EXPECT_DOUBLE_EQ(got[0].actions[0].value, 2.0);
  ASSERT_EQ(got[1].actions.size(), 4u);
  EXPECT_DOUBLE_EQ(got[1].actions[0].value, 0.25);
  EXPECT_EQ(got[1].actions[1].ex_date, agg_day(90));
  EXPECT_NEAR(got[1].actions[1].value, 0.40, 1e-12);  // regular + special
  EXPECT_EQ(got[1].actions[2].kind, ActionKind::kSplit);
  EXPECT_DOUBLE_EQ(got[1].actions[2].value, 0.25);
  EXPECT_EQ(got[1].actions[3].ex_date, agg_day(agg.Rows() - 2));
  const auto info = testkit::RunCli({"data", "info", store});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("raw"), std::string::npos) << info.out;
}

}  // namespace
}  // namespace ballast
