// Golden runs: tests/golden/<scenario>/config.json is run and its outputs compared with
// tests/golden/<scenario>/expected/* token by token: numbers to a relative 1e-9 (absolute 1e-9
// near zero), everything else exactly. The store placeholder "@sample" / "@yahoo" in data.store
// is replaced with the test stores. Rewrite the expected files with BALLAST_UPDATE_GOLDEN=1 and
// review the diff like code.

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <filesystem>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/outputs.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Tokens(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool AsNumber(const std::string& s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

void CompareFiles(const fs::path& expected, const fs::path& actual) {
  const auto e = testkit::ReadFile(expected);
  const auto a = testkit::ReadFile(actual);
  std::istringstream es(e), as(a);
  std::string el, al;
  int line = 0;
  while (true) {
    const bool ge = static_cast<bool>(std::getline(es, el));
    const bool ga = static_cast<bool>(std::getline(as, al));
    ++line;
    ASSERT_EQ(ge, ga) << expected.filename() << ": line count differs at line " << line;
    if (!ge) break;
    const auto et = Tokens(el), at = Tokens(al);
    ASSERT_EQ(et.size(), at.size())
        << expected.filename() << ":" << line << "\n  expected: " << el << "\n  actual:   " << al;
    for (std::size_t i = 0; i < et.size(); ++i) {
      double x = 0, y = 0;
      if (AsNumber(et[i], x) && AsNumber(at[i], y)) {
        ASSERT_LE(std::abs(x - y), 1e-9 * std::max(1.0, std::abs(x)))
            << expected.filename() << ":" << line << " token " << i << "\n  expected: " << el
            << "\n  actual:   " << al;
      } else {
        ASSERT_EQ(et[i], at[i]) << expected.filename() << ":" << line << "\n  expected: " << el
                                << "\n  actual:   " << al;
      }
    }
  }
}

TEST(GoldenTest, ScenariosMatchExpectedOutputs) {
  const fs::path root = testkit::SourceDir() / "tests/golden";
  const bool update = std::getenv("BALLAST_UPDATE_GOLDEN") != nullptr;
  int scenarios = 0;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory() && fs::exists(e.path() / "config.json")) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.filename().string());
    ++scenarios;
    auto doc = ConfigDocument::FromFile((dir / "config.json").string());
    const std::string store = doc.Root().At("data").At("store").String();
    doc.SetString("data.store", store == "@yahoo" ? testkit::YahooStore() : testkit::SampleStore());
    strategies::StrategyRegistry reg;
    strategies::RegisterBuiltinStrategies(reg);
    const auto result = backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
    testkit::TempDir out;
    backtests::WriteRunOutputs(result, out / "run", false);
    const fs::path expected = dir / "expected";
    if (update) {
      fs::create_directories(expected);
      for (const char* f :
           {"summary.json", "equity.csv", "trades.csv", "weights.csv", "events.jsonl"}) {
        // Keep the set of golden files a scenario chose (all five for new scenarios).
        if (!fs::exists(expected / f) && fs::exists(expected / ".partial")) continue;
        fs::copy_file(out.path() / "run" / f, expected / f, fs::copy_options::overwrite_existing);
      }
      continue;
    }
    int files = 0;
    for (const auto& e : fs::directory_iterator(expected)) {
      if (e.path().filename().string().front() == '.') continue;
      ++files;
      CompareFiles(e.path(), out.path() / "run" / e.path().filename());
    }
    EXPECT_GT(files, 0);
  }
  EXPECT_GE(scenarios, 3);
}

// Every example config in configs/portfolios runs on the bundled sample (the ETF sample, or the
// S&P 500 sample for configs that name sp500.h5) and its summary.json
// matches tests/golden/examples/<config name>.summary.json.
TEST(GoldenTest, ExamplePortfoliosMatchTheirSummaries) {
  const fs::path examples = testkit::SourceDir() / "configs/portfolios";
  const fs::path expected_dir = testkit::SourceDir() / "tests/golden/examples";
  const bool update = std::getenv("BALLAST_UPDATE_GOLDEN") != nullptr;
  std::vector<fs::path> configs;
  for (const auto& e : fs::directory_iterator(examples)) {
    if (e.path().extension() == ".json") configs.push_back(e.path());
  }
  std::sort(configs.begin(), configs.end());
  EXPECT_GE(configs.size(), 24u);
  for (const auto& cfg : configs) {
    SCOPED_TRACE(cfg.filename().string());
    auto doc = ConfigDocument::FromFile(cfg.string());
    const bool sp500 = doc.Root().At("data").At("store").String().ends_with("sp500.h5");
    doc.SetString("data.store", sp500 ? testkit::Sp500Store() : testkit::SampleStore());
    strategies::StrategyRegistry reg;
    strategies::RegisterBuiltinStrategies(reg);
    const auto result = backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
    testkit::TempDir out;
    testkit::WriteFile(out.path() / "summary.json", backtests::SummaryJson(result));
    const fs::path expected = expected_dir / (cfg.stem().string() + ".summary.json");
    if (update) {
      fs::create_directories(expected_dir);
      fs::copy_file(out.path() / "summary.json", expected, fs::copy_options::overwrite_existing);
      continue;
    }
    ASSERT_TRUE(fs::exists(expected)) << expected << " missing: run with BALLAST_UPDATE_GOLDEN=1";
    CompareFiles(expected, out.path() / "summary.json");
  }
}

// `ballast advise` on a fixed date: the JSON report matches tests/golden/advise/.
TEST(GoldenTest, AdviseReportOnAFixedDate) {
  const fs::path expected =
      testkit::SourceDir() / "tests/golden/advise/morning-check-2017-06-15.json";
  const auto r = testkit::RunCli(
      {"advise", (testkit::SourceDir() / "configs/advise/morning-check.json").string(), "--as-of",
       "2017-06-15", "--json", "--set", "data.store=" + testkit::Sp500Store()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testkit::TempDir out;
  testkit::WriteFile(out.path() / "advise.json", r.out);
  if (std::getenv("BALLAST_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(expected.parent_path());
    fs::copy_file(out.path() / "advise.json", expected, fs::copy_options::overwrite_existing);
    return;
  }
  ASSERT_TRUE(fs::exists(expected)) << expected << " missing: run with BALLAST_UPDATE_GOLDEN=1";
  CompareFiles(expected, out.path() / "advise.json");
}

}  // namespace
}  // namespace ballast
