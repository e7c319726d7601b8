// Which splits explain a reconciliation's differences (live/src/account_actions.*), and the
// account-activities parser the Alpaca adapter books dividends from.
#include "account_actions.hpp"

#include <gtest/gtest.h>

#include "ballast/adapters/alpaca/messages.hpp"

namespace ballast::live::detail {
namespace {

broker::AccountAction Split(const char* symbol, double ratio, const char* id = "s1") {
  broker::AccountAction a;
  a.kind = broker::AccountAction::Kind::kSplit;
  a.id = id;
  a.symbol = symbol;
  a.date = *ParseIsoDate("2026-07-14");
  a.ratio = ratio;
  return a;
}

const std::vector<std::string> kSymbols{"SPY", "AGG", "GLD"};

TEST(ExplainingSplits, TheBrokerQuantityIsTheLedgersTimesTheRatio) {
  const std::vector<double> mine{10.0, 7.0, 3.0}, theirs{20.0, 7.0, 3.0};
  const std::vector<broker::AccountAction> actions{Split("SPY", 2.0)};
  const auto s = ExplainingSplits(kSymbols, mine, theirs, actions, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].symbol, 0u);
  EXPECT_DOUBLE_EQ(s[0].before, 10.0);
  EXPECT_DOUBLE_EQ(s[0].after, 20.0);
  EXPECT_EQ(s[0].in_lieu, 0.0);
  // Once recognised, the same split explains nothing again.
  EXPECT_TRUE(ExplainingSplits(kSymbols, mine, theirs, actions, {"s1"}).empty());
  // Quantities that already agree need no split (a reconcile after the ledger took the broker's).
  EXPECT_TRUE(ExplainingSplits(kSymbols, theirs, theirs, actions, {}).empty());
}

TEST(ExplainingSplits, AnotherQuantityIsADifferenceNotASplit) {
  const std::vector<broker::AccountAction> actions{Split("SPY", 2.0), Split("GLD", 3.0, "s2")};
  // 21 is not 10 x 2 (a manual trade, or a split plus a trade): reported as a difference.
  EXPECT_TRUE(ExplainingSplits(kSymbols, std::vector<double>{10, 7, 3},
                               std::vector<double>{21, 7, 3}, actions, {})
                  .empty());
  // A split of a symbol the broker did not re-base explains nothing either.
  EXPECT_TRUE(ExplainingSplits(kSymbols, std::vector<double>{10, 7, 3},
                               std::vector<double>{10, 8, 3}, actions, {})
                  .empty());
  // An untracked symbol's split is not ours to explain.
  EXPECT_TRUE(ExplainingSplits(kSymbols, std::vector<double>{10, 7, 3},
                               std::vector<double>{10, 7, 3},
                               std::vector<broker::AccountAction>{Split("QQQ", 2.0, "s3")}, {})
                  .empty());
}

TEST(ExplainingSplits, AReverseSplitOnWholeSharesPaysTheFractionInCash) {
  // 1:4 on 10 shares is 2.5: a whole-share account gets 2 and cash for half a share.
  const std::vector<broker::AccountAction> actions{Split("AGG", 0.25)};
  const auto s = ExplainingSplits(kSymbols, std::vector<double>{0, 10, 0},
                                  std::vector<double>{0, 2, 0}, actions, {});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].symbol, 1u);
  EXPECT_DOUBLE_EQ(s[0].in_lieu, 0.5);
  // Fractional accounts keep the fraction.
  const auto f = ExplainingSplits(kSymbols, std::vector<double>{0, 10, 0},
                                  std::vector<double>{0, 2.5, 0}, actions, {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].in_lieu, 0.0);
}

TEST(AlpacaActivities, DividendsWithWithholdingAndAMalformedOneIsAnError) {
  // The shape of Alpaca's non-trade activity (docs.alpaca.markets, account activities).
  alpaca::ParseError e;
  const auto a = alpaca::ParseActivities(
      R"([{"activity_type":"DIV","id":"20190801011955195::5f596936-6f23-4cef-bdf1-3806aae57dbf",
           "date":"2019-08-01","net_amount":"1.97","description":"","symbol":"T","qty":"5",
           "per_share_amount":"0.51","status":"executed"},
          {"activity_type":"DIVNRA","id":"20190801011955196::x","date":"2019-08-01T00:00:00Z",
           "net_amount":-0.58,"symbol":"T"}])",
      e);
  ASSERT_TRUE(a) << e.what;
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].symbol, "T");
  EXPECT_DOUBLE_EQ((*a)[0].net_amount, 1.97);
  EXPECT_DOUBLE_EQ((*a)[0].per_share_amount, 0.51);
  EXPECT_EQ((*a)[0].date, *ParseIsoDate("2019-08-01"));
  EXPECT_DOUBLE_EQ((*a)[1].net_amount, -0.58);  // withholding: a number, and a timestamped date
  EXPECT_EQ((*a)[1].date, *ParseIsoDate("2019-08-01"));
  EXPECT_FALSE(
      alpaca::ParseActivities(R"([{"activity_type":"DIV","id":"x","date":"2019-08-01"}])", e));
  EXPECT_NE(e.what.find("activities[0]"), std::string::npos) << e.what;
  EXPECT_FALSE(alpaca::ParseActivities(R"({"activities":[]})", e));
}

}  // namespace
}  // namespace ballast::live::detail
