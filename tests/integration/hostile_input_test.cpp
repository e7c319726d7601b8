// The hostile-input battery (issue 13), run as a user would with the built binary: outputs that
// must never delete or mix what is not ours, configs and data that used to crash or import wrong
// data with exit 0, and signals. Every failure must leave the directory as it was.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <zlib.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/output_dir.hpp"
#include "ballast/backtests/outputs.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/strategies/registry.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;
using testkit::Listing;
using testkit::RunCli;
using testkit::TempDir;

std::string Config(const TempDir& dir, const std::string& execution = R"({"fill": "close"})") {
  const std::string path = dir / "config.json";
  testkit::WriteFile(path, R"({
  "name": "hostile",
  "data": {"store": ")" + testkit::SampleStore() +
                               R"(", "start": "2015-01-01", "end": "2016-12-31"},
  "strategy": {"type": "calendar", "frequency": "monthly", "targets": {"SPY": 0.6, "AGG": 0.4}},
  "execution": )" + execution + "\n}\n");
  return path;
}

// Runs `args` in `cwd` and checks the failure: exit code, a one-line message containing `what`,
// and the directory exactly as before.
void ExpectRefused(const std::vector<std::string>& args, const fs::path& dir, int code,
                   const std::string& what, const std::string& shell_prefix = "") {
  const auto before = Listing(dir);
  const auto r = RunCli(args, dir.string(), shell_prefix);
  EXPECT_EQ(r.exit_code, code) << r.err << r.out;
  EXPECT_NE(r.err.find(what), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(Listing(dir), before) << "a failure left files behind or removed some";
}

TEST(HostileOutputTest, OutDotWithForceDeletesNothing) {
  TempDir dir;
  const auto cfg = Config(dir);
  testkit::WriteFile(dir.path() / "notes.txt", "mine");
  ExpectRefused({"backtest", cfg, "--out", ".", "--force"}, dir.path(), 2,
                "refusing to replace the current directory");
  ExpectRefused({"backtest", cfg, "--out", dir.path().string(), "--force"}, dir.path(), 2,
                "refusing to replace the current directory");
  // The config's own directory, from elsewhere (even once it carries the marker).
  testkit::WriteFile(dir.path() / ".ballast-run", "");
  TempDir elsewhere;
  ExpectRefused({"backtest", cfg, "--out", dir.path().string(), "--force"}, elsewhere.path(), 2,
                "refusing to replace " + dir.path().string());
  EXPECT_EQ(testkit::ReadFile(dir.path() / "notes.txt"), "mine");
}

TEST(HostileOutputTest, TrailingSlashWorksWithAndWithoutForce) {
  TempDir dir;
  const auto cfg = Config(dir);
  auto r = RunCli({"backtest", cfg, "--out", dir / "run/", "--no-workbook"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("outputs: " + (dir / "run") + "/ "), std::string::npos) << r.out;
  r = RunCli({"backtest", cfg, "--out", dir / "run/", "--no-workbook", "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.path() / "run/summary.json"));
  EXPECT_EQ(Listing(dir.path()).size(), 10u);  // config.json + run/ with marker and 7 files
  for (const auto& name : Listing(dir.path()))
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
}

TEST(HostileOutputTest, ForceNeverReplacesADirectoryBallastDidNotWrite) {
  TempDir dir;
  const auto cfg = Config(dir);
  testkit::WriteFile(dir.path() / "photos/2019/beach.jpg", "jpeg");
  ExpectRefused({"backtest", cfg, "--out", dir / "photos", "--force"}, dir.path(), 2,
                "not a directory ballast wrote");
  ExpectRefused({"suite", dir / "none.json", "--out", dir / "photos", "--force"}, dir.path(), 2,
                "none.json");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "photos/2019/beach.jpg"), "jpeg");
  ExpectRefused({"data", "import", "--out", dir / "config.json", "--force", cfg}, dir.path(), 2,
                "is not a ballast bar store");
}

TEST(HostileOutputTest, FailedSuiteLeavesNoStagingDirectory) {
  TempDir dir;
  Config(dir);
  // The config is valid; its store holds a NaN close, which only loading the data finds.
  auto series =
      data::LoadSeries(testkit::SampleStore(), {"SPY", "AGG"}, std::nullopt, std::nullopt);
  series[1].close[3000] = std::nan("");
  data::WriteStore(dir / "nan.h5", series, false);
  std::string text = testkit::ReadFile(dir.path() / "config.json");
  text.replace(text.find(testkit::SampleStore()), testkit::SampleStore().size(), dir / "nan.h5");
  testkit::WriteFile(dir.path() / "config.json", text);
  testkit::WriteFile(dir.path() / "suite.json", R"({"base": "config.json"})");
  ExpectRefused({"suite", "suite.json", "--out", "out"}, dir.path(), 3, "AGG: close at row 3000");
}

TEST(HostileOutputTest, InterruptedWriteKeepsNothing) {
  TempDir dir;
  strategies::StrategyRegistry registry;
  strategies::RegisterBuiltinStrategies(registry);
  const auto cfg = backtests::LoadBacktestConfig(Config(dir), {}, registry);
  const auto result = backtests::RunBacktest(cfg, backtests::LoadMarketData(cfg));
  const auto before = Listing(dir.path());
  std::atomic<bool> stop{true};  // as after Ctrl-C
  try {
    backtests::OutputDir out(dir / "run", false);
    backtests::WriteRunFiles(result, out.Begin(), false, &stop);
    FAIL() << "the write went on after the stop";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInterrupted);
  }
  EXPECT_EQ(Listing(dir.path()), before);
}

TEST(HostileConfigTest, CostsThatUsedToAbortAreBoundedAtValidation) {
  TempDir dir;
  const auto cfg = Config(dir);
  ExpectRefused({"backtest", cfg, "--set", "execution.slippage_bps=10000", "--out", dir / "r"},
                dir.path(), 2,
                "config.json: execution.slippage_bps: expected a number >= 0 and "
                "below 10000");
  ExpectRefused({"backtest", cfg, "--set", R"(execution.commission={"model":"bps","bps":20000})",
                 "--out", dir / "r"},
                dir.path(), 2, "execution.commission.bps: expected a number >= 0 and below 10000");
  ExpectRefused({"backtest", cfg, "--set",
                 R"(execution.commission={"model":"per_share","max_pct":1.5})", "--out", dir / "r"},
                dir.path(), 2, "execution.commission.max_pct");
  // Fees larger than the trade are accepted and never break the ledger: such sells are skipped.
  for (const char* fee : {R"({"model":"per_share","per_share":1000,"max_pct":0})",
                          R"({"model":"fixed","per_order":99999})"}) {
    const auto r =
        RunCli({"backtest", cfg, "--set", std::string("execution.commission=") + fee, "--set",
                "execution.fill=next_open", "--out", dir / "fees", "--force", "--no-workbook"});
    EXPECT_EQ(r.exit_code, 0) << fee << r.err;
  }
}

TEST(HostileConfigTest, HugeNumbersAndDeepNestingAreConfigErrorsNamingTheKey) {
  TempDir dir;
  Config(dir, R"({"fill": "close", "slippage_bps": 1e400})");
  ExpectRefused({"backtest", "config.json"}, dir.path(), 2,
                "config.json: execution.slippage_bps: number out of range ('1e400')");
  Config(dir, R"({"fill": )" + std::string(100000, '[') + std::string(100000, ']') + "}");
  ExpectRefused({"backtest", "config.json"}, dir.path(), 2, "nested deeper than 256 levels");
  Config(dir, R"({"fill": "close", "fill": "next_open"})");
  ExpectRefused({"backtest", "config.json"}, dir.path(), 2, "execution.fill: duplicate key");
}

TEST(HostileConfigTest, HugeGridsAreCountedBeforeTheyAreExpanded) {
  TempDir dir;
  Config(dir);
  // 10 keys x 10 values = 10^10 runs in 300 bytes.
  nlohmann::json grid = nlohmann::json::object();
  for (int k = 0; k < 10; ++k)
    grid["strategy.k" + std::to_string(k)] = nlohmann::json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  testkit::WriteFile(dir.path() / "grid.json",
                     nlohmann::json{{"base", "config.json"}, {"grid", grid}}.dump());
  ExpectRefused({"suite", "grid.json"}, dir.path(), 2,
                "grid: 1 base(s) x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 values = "
                "10000000000 runs, more than the limit of 100000");
  ExpectRefused({"suite", "grid.json", "--max-runs", "50"}, dir.path(), 2, "limit of 50");
}

std::string WriteGzip(const fs::path& path, const std::string& text, bool finish) {
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  if (finish) {
    gzclose(f);
  } else {
    // A stream cut at a flush point: everything so far decodes, but there is no end or trailer.
    gzflush(f, Z_SYNC_FLUSH);
    const std::string copy = testkit::ReadFile(path);
    gzclose(f);
    testkit::WriteFile(path, copy);
  }
  return path.string();
}

TEST(HostileImportTest, WrongOrEmptyInputNeverWritesAStore) {
  TempDir dir;
  std::string rows = "Date,Close\n";
  for (int d = 1; d <= 28; ++d)
    rows += "2020-02-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + ",10\n";
  WriteGzip(dir.path() / "in/CUT.csv.gz", rows, false);
  ExpectRefused({"data", "import", "--out", "s.h5", "in/CUT.csv.gz"}, dir.path(), 3,
                "in/CUT.csv.gz: the gzip stream ends early");
  testkit::WriteFile(dir.path() / "in/HDR.csv", "Date,Close\n");
  ExpectRefused({"data", "import", "--out", "s.h5", "in/HDR.csv"}, dir.path(), 3,
                "in/HDR.csv: no valid rows for HDR");
  testkit::WriteFile(dir.path() / "in/BAD.csv", "Date,Close\n2020-01-02,x\n2020-01-03,-1\n");
  ExpectRefused({"data", "import", "--out", "s.h5", "in/BAD.csv", "--skip-invalid"}, dir.path(), 3,
                "no valid rows for BAD (every row was skipped as invalid)");
  testkit::WriteFile(dir.path() / "in/OLD.csv", "Date,Close\n1500-01-02,10\n");
  ExpectRefused({"data", "import", "--out", "s.h5", "in/OLD.csv"}, dir.path(), 3,
                "in/OLD.csv:2: Date '1500-01-02' is not a date YYYY-MM-DD from 1800-01-01 to "
                "2200-12-31");
  testkit::WriteFile(dir.path() / "in/FAR.csv", "Date,Close\n2300-01-02,10\n");
  ExpectRefused({"data", "import", "--out", "s.h5", "in/FAR.csv"}, dir.path(), 3,
                "Date '2300-01-02'");
  testkit::WriteFile(dir.path() / "in/long.csv",
                     "symbol,date,open,high,low,close,volume\nAAA,2020-01-02,1,1,1,1,1\n"
                     ".,2020-01-02,1,1,1,1,1\n");
  ExpectRefused({"data", "import", "--out", "a/b/s.h5", "in/long.csv"}, dir.path(), 3,
                "in/long.csv:3: symbol '.' has no letter or digit");
  // A complete gzip file of the same rows imports.
  WriteGzip(dir.path() / "ok/FULL.csv.gz", rows, true);
  const auto r = RunCli({"data", "import", "--out", "s.h5", "ok/FULL.csv.gz"}, dir.path().string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("28 bars"), std::string::npos) << r.out;
}

TEST(HostileImportTest, FullDiskIsAnErrorNotACrashAndLeavesNothing) {
  TempDir dir;
  // A file size limit fails writes as a full disk does (ballast ignores SIGXFSZ).
  ExpectRefused({"data", "import", "--out", "a/b/x.h5",
                 (testkit::SourceDir() / "data/samples/etfs").string()},
                dir.path(), 1, "a/b/x.h5: cannot write the store: File too large",
                "ulimit -f 64; ");
}

TEST(HostileImportTest, DataInfoDescribesEmptySymbolsAndEscapesJson) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "A.csv", "Date,Close\n2020-01-02,10\n");
  const std::string store = dir / "we\"ird\\name.h5";
  ASSERT_EQ(RunCli({"data", "import", "--out", store, dir / "A.csv"}).exit_code, 0);
  const auto r = RunCli({"data", "info", store, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // throws if not valid JSON
  EXPECT_EQ(j["path"], store);
  EXPECT_EQ(j["symbols"][0]["first"], "2020-01-02");
  // A symbol without rows (another tool wrote it) has no dates, not 1970-01-01.
  auto empty = data::LoadSeries(store, {"A"}, std::nullopt, std::nullopt);
  empty[0].symbol = "EMPTY";
  for (auto* col :
       {&empty[0].open, &empty[0].high, &empty[0].low, &empty[0].close, &empty[0].volume})
    col->clear();
  empty[0].time.clear();
  data::WriteStore(dir / "empty.h5", empty, false);
  const auto text = RunCli({"data", "info", dir / "empty.h5"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find("1970"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("no bars"), std::string::npos) << text.out;
  const auto json = nlohmann::json::parse(RunCli({"data", "info", dir / "empty.h5", "--json"}).out);
  EXPECT_TRUE(json["symbols"][0]["first"].is_null());
  EXPECT_EQ(json["symbols"][0]["rows"], 0);
}

TEST(HostileFetchTest, SymbolsThatAreNotTickersAreRefusedBeforeAnyRequest) {
  TempDir dir;
  // No server listens on this port: a request would fail differently (exit 4).
  ExpectRefused(
      {"data", "fetch", "--symbols", "SPY,../../x", "--start", "2020-01-01", "--out", "s.h5"},
      dir.path(), 2, "--symbols: symbol '../../x' has character '/'");
}

TEST(HostileLiveTest, MissingKeysCreateNoSessionDirectory) {
  TempDir dir;
  const auto cfg = Config(dir);
  ExpectRefused({"live", cfg, "--paper", "--once", "--out", dir / "session", "--env-file",
                 dir / "missing.env"},
                dir.path(), 4, "missing.env: cannot read the env file");
}

// Waits (bounded) until the suite's staging directory holds at least one finished run.
bool WaitForStagedRun(const fs::path& parent) {
  for (int i = 0; i < 6000; ++i) {
    for (const auto& e : fs::directory_iterator(parent)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("out.tmp-", 0) == 0 && fs::exists(e.path() / "runs") &&
          !fs::is_empty(e.path() / "runs"))
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Starts a 400-run suite into DIR/out and returns its pid once a first run is staged.
int StartBigSuite(const TempDir& dir) {
  Config(dir);
  nlohmann::json grid = nlohmann::json::array();
  for (int i = 0; i < 400; ++i)
    grid.push_back(i * 0.01);
  nlohmann::json suite{
      {"name", "big"}, {"base", "config.json"}, {"grid", {{"execution.slippage_bps", grid}}}};
  testkit::WriteFile(dir.path() / "suite.json", suite.dump());
  const int pid = testkit::SpawnCli(
      {"suite", dir / "suite.json", "--out", dir / "out", "--threads", "1"}, dir / "suite.log");
  EXPECT_TRUE(WaitForStagedRun(dir.path())) << testkit::ReadFile(dir / "suite.log.err");
  return pid;
}

TEST(HostileSignalTest, SigtermOnASuiteKeepsFinishedRunsAndLeavesNoStaging) {
  TempDir dir;
  const int pid = StartBigSuite(dir);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(testkit::WaitCli(pid), 143) << testkit::ReadFile(dir / "suite.log.err");
  EXPECT_NE(testkit::ReadFile(dir / "suite.log.err").find("interrupted:"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.path() / "out/comparison.csv"));
  EXPECT_TRUE(fs::exists(dir.path() / "out/.ballast-run"));
  for (const auto& name : Listing(dir.path()))
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
}

TEST(HostileSignalTest, StagingLeftByKill9IsRemovedByTheNextRun) {
  TempDir dir;
  const int pid = StartBigSuite(dir);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(testkit::WaitCli(pid), -SIGKILL);
  const std::string stale = "out.tmp-" + std::to_string(pid);
  ASSERT_TRUE(fs::exists(dir.path() / stale));
  const auto r =
      RunCli({"backtest", "config.json", "--out", "out", "--no-workbook"}, dir.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("removed " + (dir / stale) + ", left by an interrupted run"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(dir.path() / stale));
}

}  // namespace
}  // namespace ballast
