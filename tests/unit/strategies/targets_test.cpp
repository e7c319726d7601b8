#include "ballast/strategies/targets.hpp"

#include <gtest/gtest.h>

#include "ballast/engine/error.hpp"
#include "ballast/strategies/registry.hpp"
#include "ballast/strategies/target_source.hpp"

namespace ballast::strategies {
namespace {

std::string ErrorOf(const std::string& json) {
  auto doc = ConfigDocument::FromText(json, "c.json");
  try {
    (void)ParseTargets(doc.Root().At("targets"));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    return e.what();
  }
  return "";
}

TEST(TargetsTest, ParsesInDocumentOrder) {
  auto doc = ConfigDocument::FromText(R"({"targets": {"TLT": 0.4, "SPY": 0.6}})", "c.json");
  const auto t = ParseTargets(doc.Root().At("targets"));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].symbol, "TLT");
  EXPECT_EQ(t[1].weight, 0.6);
}

TEST(TargetsTest, RejectsBadWeightsWithPathAndHint) {
  EXPECT_NE(ErrorOf(R"({"targets": {"SPY": 60, "TLT": 40}})").find("they look like percentages"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"targets": {"SPY": 0.5, "TLT": 0.4}})")
                .find("c.json: targets: expected weights summing to 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"targets": {"SPY": 1.2, "TLT": -0.2}})")
                .find("c.json: targets.TLT: expected a weight >= 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"targets": {"SPY": "0.6"}})").find("targets.SPY: expected a number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"targets": {}})").find("expected at least one symbol"), std::string::npos);
  EXPECT_EQ(ErrorOf(R"({"targets": {"A": 0.1, "B": 0.2, "C": 0.7000000000000001}})"), "");
}

TEST(RegistryTest, UnknownTypeListsKnownOnes) {
  StrategyRegistry r;
  RegisterBuiltinStrategies(r);
  auto doc = ConfigDocument::FromText(R"({"strategy": {"type": "momentum"}})", "c.json");
  try {
    (void)r.Parse(doc.Root().At("strategy"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(
        std::string(e.what()),
        R"(c.json: strategy.type: expected a strategy type, one of "buy_and_hold", "calendar", "dca", "signal_swap", "sleeves", "threshold", got "momentum")");
  }
}

}  // namespace
}  // namespace ballast::strategies

namespace ballast::strategies {
namespace {

TEST(GlidePathTest, ShareFollowsTheTableOrTheRule) {
  GlidePath g;
  EXPECT_DOUBLE_EQ(g.ShareAt(30), 0.8);  // default rule: (110 - age) / 100
  EXPECT_DOUBLE_EQ(g.ShareAt(5), 1.0);   // clamped
  EXPECT_DOUBLE_EQ(g.ShareAt(120), 0.0);
  g.table = {{40, 0.9}, {50, 0.7}, {65, 0.4}};
  EXPECT_DOUBLE_EQ(g.ShareAt(30), 0.9);  // flat before the first row
  EXPECT_DOUBLE_EQ(g.ShareAt(45), 0.8);
  EXPECT_DOUBLE_EQ(g.ShareAt(60), 0.5);
  EXPECT_DOUBLE_EQ(g.ShareAt(80), 0.4);  // and after the last
}

TEST(GlidePathTest, AgeFromBirthDateOrAgeAtStart) {
  using std::chrono::sys_days;
  using namespace std::chrono_literals;
  GlidePath g;
  g.birth = sys_days{1960y / 1 / 1};
  const Days first = sys_days{2010y / 1 / 4};
  // 1960-01-01 to 2010-01-01 is 18,263 days (50 years, 13 of them leap years).
  EXPECT_DOUBLE_EQ(g.AgeOn(sys_days{2010y / 1 / 1}, first), 18263 / 365.25);
  GlidePath h;
  h.age_at_start = 40;
  EXPECT_DOUBLE_EQ(h.AgeOn(first, first), 40.0);
  EXPECT_DOUBLE_EQ(h.AgeOn(first + std::chrono::days{3 * 365 + 1}, first), 40.0 + 1096 / 365.25);
}

}  // namespace
}  // namespace ballast::strategies
