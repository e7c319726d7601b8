// Splits and dividends live: the broker re-bases a position and pays a dividend while this
// process's ledger holds the shares from before; reconciliation recognises both as corporate
// actions (events `split`, `dividend_paid`), not differences, and books the dividend once as
// income (journal `income`, summary.json `dividends_received`), across processes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using nlohmann::json;
using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

std::vector<json> EventsOf(const std::string& path, const std::string& type) {
  std::vector<json> out;
  std::istringstream in(testkit::ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

TEST(LiveCorporateActions, ASplitAndADividendAreRecognisedAndTheDividendIsBookedOnce) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  // SPY already at its 60 % (1.5 x cash at the last close), so the rebalance only buys AGG and
  // the ledger holds SPY's shares from before the split.
  const double spy_close = o.bars[0].close.back();
  const double spy_qty = 1.5 * o.cash / spy_close;
  o.positions = {{"SPY", spy_qty}};
  // While the order is out: 0.50 a share paid on the shares held, then a 2:1 split.
  o.actions_on_first_order = {{"SPY", false, 0.50}, {"SPY", true, 2.0}};
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const std::string config = Config(dir);
  const auto r = Live(config, out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string events = out + "/events.jsonl";
  const auto orders = fake.Orders();
  ASSERT_EQ(orders.size(), 1u) << testkit::ReadFile(events);
  EXPECT_EQ(orders[0].symbol, "AGG");

  const auto splits = EventsOf(events, "split");
  ASSERT_EQ(splits.size(), 1u) << testkit::ReadFile(events);
  EXPECT_EQ(splits[0]["symbol"], "SPY");
  EXPECT_DOUBLE_EQ(splits[0]["ratio"].get<double>(), 2.0);
  EXPECT_NEAR(splits[0]["before"].get<double>(), spy_qty, 1e-6);
  EXPECT_NEAR(splits[0]["after"].get<double>(), 2.0 * spy_qty, 1e-6);
  const auto paid = EventsOf(events, "dividend_paid");
  ASSERT_EQ(paid.size(), 1u);
  EXPECT_NEAR(paid[0]["amount"].get<double>(), 0.50 * spy_qty, 1e-6);
  // Neither shows up as a discrepancy.
  EXPECT_TRUE(EventsOf(events, "reconcile_difference").empty()) << testkit::ReadFile(events);

  const auto income = Query(out + "/journal.sqlite", "SELECT symbol, amount FROM income");
  ASSERT_EQ(income.size(), 1u);
  EXPECT_EQ(income[0][0], "SPY");
  EXPECT_NEAR(std::stod(income[0][1]), 0.50 * spy_qty, 1e-6);
  const json summary = json::parse(testkit::ReadFile(out + "/summary.json"));
  EXPECT_NEAR(summary["dividends_received"].get<double>(), 0.50 * spy_qty, 1e-6);
  EXPECT_NEAR(summary["positions"]["SPY"]["qty"].get<double>(), 2.0 * spy_qty, 1e-6);

  // The next process asks again from the day it checked through: the same dividend is not
  // booked twice.
  const auto again = Live(config, out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Query(out + "/journal.sqlite", "SELECT id FROM income").size(), 1u);
  EXPECT_EQ(EventsOf(events, "dividend_paid").size(), 1u);
  EXPECT_GE(fake.Requests("/v2/account/activities"), 2u);
  EXPECT_GE(fake.Requests("/v1/corporate-actions"), 2u);
}

TEST(LiveCorporateActions, AReverseSplitsFractionPaidInCashIsNotADifference) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  // 101 whole SPY shares at their 60 %; a 1:2 reverse split leaves 50.5: 50 shares and half a
  // new share (one old share) in cash.
  const double spy_close = o.bars[0].close.back();
  o.positions = {{"SPY", 101.0}};
  o.cash = 101.0 * spy_close / 1.5;
  o.actions_on_first_order = {{"SPY", true, 0.5, /*cash_in_lieu=*/true}};
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string out = dir / "s";
  const auto r = Live(Config(dir), out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string events = out + "/events.jsonl";
  ASSERT_EQ(fake.Orders().size(), 1u) << testkit::ReadFile(events);
  const auto splits = EventsOf(events, "split");
  ASSERT_EQ(splits.size(), 1u) << testkit::ReadFile(events);
  EXPECT_DOUBLE_EQ(splits[0]["after"].get<double>(), 50.0);
  EXPECT_NEAR(splits[0]["cash_in_lieu_shares"].get<double>(), 0.5, 1e-9);
  const auto lieu = EventsOf(events, "cash_in_lieu");
  ASSERT_EQ(lieu.size(), 1u) << testkit::ReadFile(events);
  EXPECT_NEAR(lieu[0]["amount"].get<double>(), spy_close, 1e-6);  // half of a 2 x close share
  EXPECT_TRUE(EventsOf(events, "reconcile_difference").empty()) << testkit::ReadFile(events);
  EXPECT_TRUE(Query(out + "/journal.sqlite", "SELECT id FROM income").empty());  // not income
}

}  // namespace
}  // namespace ballast
