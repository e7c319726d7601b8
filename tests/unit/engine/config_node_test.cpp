#include "ballast/engine/config_node.hpp"

#include <gtest/gtest.h>

#include "ballast/engine/error.hpp"

namespace ballast {
namespace {

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigNodeTest, ErrorsNameFilePathAndExpectation) {
  auto doc =
      ConfigDocument::FromText(R"({"strategy": {"frequency": "montly", "n": "x"}})", "cfg.json");
  const auto root = doc.Root();
  EXPECT_EQ(ErrorOf([&] {
              (void)root.At("strategy").EnumOr("frequency", {"daily", "monthly"}, "daily");
            }),
            R"(cfg.json: strategy.frequency: expected one of "daily", "monthly", got "montly")");
  EXPECT_EQ(ErrorOf([&] { (void)root.At("strategy").At("n").Number(); }),
            R"(cfg.json: strategy.n: expected a number, got "x")");
  EXPECT_EQ(ErrorOf([&] { (void)root.At("data"); }), "cfg.json: data: missing required key");
  EXPECT_EQ(ErrorOf([&] { root.At("strategy").ExpectKeys({"frequency"}); }),
            "cfg.json: strategy.n: unknown key (allowed here: frequency)");
}

TEST(ConfigNodeTest, RejectsInvalidJsonWithPosition) {
  const auto msg = ErrorOf([] { (void)ConfigDocument::FromText("{\"a\": 1,,}", "bad.json"); });
  EXPECT_NE(msg.find("bad.json: not valid JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 1"), std::string::npos) << msg;
}

TEST(ConfigNodeTest, SetParsesJsonOrFallsBackToString) {
  auto doc = ConfigDocument::FromText(R"({"a": {"b": 1, "c": {"d": 2}}})", "x");
  doc.ApplySet("a.b=2.5");
  doc.ApplySet("a.s=monthly");
  doc.ApplySet("new.path.deep=true");
  doc.ApplySet(R"(a.c={"e": 3})");
  const auto root = doc.Root();
  EXPECT_EQ(root.At("a").At("b").Number(), 2.5);
  EXPECT_EQ(root.At("a").At("s").String(), "monthly");
  EXPECT_TRUE(root.At("new").At("path").At("deep").Bool());
  EXPECT_FALSE(root.At("a").At("c").Has("d"));  // an object value replaces the subtree
  EXPECT_EQ(root.At("a").At("c").At("e").Integer(), 3);
  EXPECT_THROW(doc.ApplySet("novalue"), Error);
  EXPECT_THROW(doc.ApplySet("a.b.x=1"), Error);  // a.b is a number, not an object
}

// Hostile configs: each of these crashed or misled before (issue 13).
TEST(ConfigNodeTest, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string deep =
      R"({"a": {"b": )" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  const auto msg = ErrorOf([&] { (void)ConfigDocument::FromText(deep, "deep.json"); });
  EXPECT_EQ(msg.rfind("deep.json: a.b[0][0]", 0), 0u) << msg.substr(0, 200);
  EXPECT_NE(msg.find("nested deeper than 256 levels"), std::string::npos);
  EXPECT_LT(msg.size(), 200u);  // the path is shortened, the value never printed whole
  // 255 levels are fine.
  const std::string ok = R"({"a": )" + std::string(254, '[') + std::string(254, ']') + "}";
  EXPECT_NO_THROW((void)ConfigDocument::FromText(ok, "ok.json"));
  // --set values are bounded the same way.
  auto doc = ConfigDocument::FromText("{}", "x.json");
  EXPECT_NE(ErrorOf([&] {
              doc.ApplySet("k=" + std::string(300, '[') + std::string(300, ']'));
            }).find("nested deeper"),
            std::string::npos);
}

TEST(ConfigNodeTest, NumberOutOfRangeNamesFileAndKey) {
  const auto msg = ErrorOf([] {
    (void)ConfigDocument::FromText(R"({"execution": {"fill": "close", "slippage_bps": 1e400}})",
                                   "c.json");
  });
  EXPECT_EQ(msg,
            "c.json: execution.slippage_bps: number out of range ('1e400'); expected a finite "
            "number");
  EXPECT_EQ(ErrorOf([] { (void)ConfigDocument::FromText(R"({"a": [1, 2, -1e999]})", "c.json"); }),
            "c.json: a[2]: number out of range ('-1e999'); expected a finite number");
  auto doc = ConfigDocument::FromText("{}", "x.json");
  EXPECT_EQ(
      ErrorOf([&] { doc.ApplySet("portfolio.initial_cash=1e999"); }),
      "--set portfolio.initial_cash: number out of range ('1e999'); expected a finite number");
}

// Found by fuzz_config: a --set value that is not JSON became a string holding invalid UTF-8,
// and writing the config out (config.json) threw nlohmann's type_error (exit 1).
TEST(ConfigNodeTest, SetValuesMustBeValidUtf8) {
  auto doc = ConfigDocument::FromText(R"({"a": 1})", "x.json");
  EXPECT_EQ(ErrorOf([&] { doc.ApplySet("name=caf\xff"); }),
            "--set name: the value is not valid UTF-8");
  EXPECT_EQ(ErrorOf([&] { doc.ApplySet("name=\xc0\xaf"); }),  // overlong '/'
            "--set name: the value is not valid UTF-8");
  doc.ApplySet("name=caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");  // café € 📈
  EXPECT_EQ(doc.Root().At("name").String(), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");
  EXPECT_NO_THROW((void)doc.Pretty());
}

TEST(ConfigNodeTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(ErrorOf([] {
              (void)ConfigDocument::FromText(R"({"x": {"fill": "close", "fill": "next_open"}})",
                                             "d.json");
            }),
            "d.json: x.fill: duplicate key");
  // The same key in sibling objects is fine.
  EXPECT_NO_THROW((void)ConfigDocument::FromText(R"({"a": {"k": 1}, "b": {"k": 2}})", "d.json"));
}

TEST(ConfigNodeTest, KeysKeepDocumentOrder) {
  auto doc = ConfigDocument::FromText(R"({"z": 1, "a": 2, "m": 3})", "x");
  EXPECT_EQ(doc.Root().Keys(), (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(doc.Pretty(), "{\n  \"z\": 1,\n  \"a\": 2,\n  \"m\": 3\n}\n");
}

}  // namespace
}  // namespace ballast
