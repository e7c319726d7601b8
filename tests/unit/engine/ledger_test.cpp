#include "ballast/engine/ledger.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "ballast/engine/error.hpp"

namespace ballast {
namespace {

Fill MakeFill(SymbolIndex s, Side side, double q, double p, double fee = 0.0) {
  Fill f;
  f.order = 1;
  f.symbol = s;
  f.side = side;
  f.quantity = q;
  f.price = p;
  f.commission = fee;
  return f;
}

TEST(LedgerTest, BooksBuysAndSellsWithAverageCostAndRealizedPnl) {
  Ledger l(2, 10'000.0);
  l.ApplyFill(MakeFill(0, Side::kBuy, 10, 100.0, 1.0));
  l.ApplyFill(MakeFill(0, Side::kBuy, 10, 110.0, 1.0));
  EXPECT_DOUBLE_EQ(l.Cash(), 10'000.0 - 1000 - 1100 - 2);
  EXPECT_DOUBLE_EQ(l.Quantity(0), 20.0);
  EXPECT_DOUBLE_EQ(l.AverageCost(0), 105.0);
  l.ApplyFill(MakeFill(0, Side::kSell, 5, 120.0, 1.0));
  EXPECT_DOUBLE_EQ(l.RealizedPnl(), 5 * 15.0);
  EXPECT_DOUBLE_EQ(l.Quantity(0), 15.0);
  EXPECT_DOUBLE_EQ(l.Commissions(), 3.0);
  const std::vector<double> marks{130.0, 50.0};
  EXPECT_DOUBLE_EQ(l.Equity(marks), l.Cash() + 15 * 130.0);
  EXPECT_DOUBLE_EQ(l.UnrealizedPnl(marks), 15 * 25.0);
  // Money adds up: equity = initial + realized + unrealized - fees.
  EXPECT_NEAR(l.Equity(marks),
              10'000.0 + l.RealizedPnl() + l.UnrealizedPnl(marks) - l.Commissions(), 1e-9);
}

TEST(LedgerTest, SellingEverythingClearsThePosition) {
  Ledger l(1, 1000.0);
  l.ApplyFill(MakeFill(0, Side::kBuy, 3.3, 10.0));
  l.ApplyFill(MakeFill(0, Side::kSell, 3.3, 12.0));
  EXPECT_EQ(l.Quantity(0), 0.0);
  EXPECT_EQ(l.AverageCost(0), 0.0);
  EXPECT_NEAR(l.Cash(), 1000.0 + 3.3 * 2.0, 1e-9);
}

TEST(LedgerTest, ExternalFlowsAreBookedAsFlows) {
  Ledger l(1, 1000.0);
  l.ExternalFlow(500.0);
  l.ExternalFlow(-200.0);
  EXPECT_DOUBLE_EQ(l.Cash(), 1300.0);
  EXPECT_DOUBLE_EQ(l.NetFlows(), 1300.0);
}

// A broken invariant is a bug, reported as an error naming what broke (not abort(), which would
// kill a whole suite or a live session without a word).
void ExpectInvariantError(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error for " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ledger invariant broken"), std::string::npos);
  }
}

TEST(LedgerTest, ShortSaleIsAnInvariantError) {
  Ledger l(1, 1000.0);
  l.ApplyFill(MakeFill(0, Side::kBuy, 1, 10.0));
  ExpectInvariantError([&] { l.ApplyFill(MakeFill(0, Side::kSell, 2, 10.0)); }, "short selling");
}

TEST(LedgerTest, NegativeCashIsAnInvariantError) {
  Ledger l(1, 100.0);
  ExpectInvariantError([&] { l.ApplyFill(MakeFill(0, Side::kBuy, 2, 60.0)); }, "cash below zero");
}

TEST(LedgerTest, ZeroPriceIsAnInvariantError) {
  Ledger l(1, 100.0);
  ExpectInvariantError([&] { l.ApplyFill(MakeFill(0, Side::kBuy, 1, 0.0)); }, "price not positive");
}

}  // namespace
}  // namespace ballast
