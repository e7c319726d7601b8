// Hostile brokers and endpoints (issue 13): keys echoed back in an error body, garbage where JSON
// should be, bar pages that never end, and URLs that only look like loopback. Against the
// loopback fake Alpaca, with the real binary.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "fake_alpaca.hpp"
#include "live_fixtures.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

namespace fs = std::filesystem;
using testkit::FakeAlpaca;
using testkit::FakeAlpacaOptions;

// Every byte the run left: its stdout, stderr and every file under `dir`.
std::string EverythingWritten(const testkit::CliResult& r, const fs::path& dir) {
  std::string all = r.out + r.err;
  if (fs::exists(dir)) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) all += testkit::ReadFile(e.path());
    }
  }
  return all;
}

TEST(LiveHostile, KeysEchoedInABrokerErrorAreRedactedEverywhere) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  o.echo_headers_on_error = true;
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const auto r = Live(Config(dir), dir / "s");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  // The echo reached us (so the test can fail) and was redacted.
  EXPECT_NE(r.err.find("APCA-API-SECRET-KEY: [redacted]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  const std::string all = EverythingWritten(r, dir.path());
  EXPECT_EQ(all.find(o.secret), std::string::npos);
  EXPECT_EQ(all.find(o.key_id), std::string::npos);
  // advise --from-broker reads the same account.
  const auto a = testkit::RunCli({"advise", Config(dir), "--from-broker"});
  EXPECT_EQ((a.out + a.err).find(o.secret), std::string::npos) << a.err;
}

TEST(LiveHostile, GarbageFromClockOrPositionsIsABrokerErrorNamingTheEndpoint) {
  for (const bool clock : {true, false}) {
    testkit::TempDir dir;
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    o.garbage_clock = clock;
    o.garbage_positions = !clock;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(Config(dir), dir / "s");
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find(clock ? "GET /v2/clock" : "GET /v2/positions"), std::string::npos)
        << r.err;
    EXPECT_EQ(fake.Posts(), 0u);
  }
}

TEST(LiveHostile, EndlessBarPagesStopWithAClearError) {
  for (const char* kind : {"loop", "empty"}) {
    testkit::TempDir dir;
    FakeAlpacaOptions o;
    o.bars = Bars("2026-07-14");
    o.endless_bars = kind;
    FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = testkit::RunCli({"data", "fetch", "--symbols", "SPY", "--start", "2026-01-02",
                                    "--end", "2026-06-30", "--out", dir / "s.h5"});
    EXPECT_EQ(r.exit_code, 3) << kind << r.err;
    EXPECT_NE(r.err.find(std::string(kind) == "loop" ? "repeated a page token seen before"
                                                     : "no bars but a next page token"),
              std::string::npos)
        << r.err;
    EXPECT_LE(fake.Requests("/v2/stocks/bars"), 3u) << kind;
    EXPECT_FALSE(fs::exists(dir / "s.h5"));
  }
}

TEST(LiveHostile, UrlsThatOnlyLookLikeLoopbackAreRefusedNamingTheKey) {
  testkit::TempDir dir;
  FakeAlpacaOptions o;
  o.bars = Bars("2026-07-14");
  FakeAlpaca fake(o);
  fake.ExportEnvironment();
  const std::string cfg = Config(dir);
  const std::pair<const char*, const char*> cases[] = {
      {"APCA_API_BASE_URL", "http://127.attacker.example:1"},
      {"APCA_API_DATA_URL", "http://127.0.0.1.nip.io"},
      {"APCA_API_STREAM_URL", "ws://localhost.example/stream"},
      {"APCA_API_DATA_STREAM_URL", "ws://10.0.0.1/v2/iex"},
      {"APCA_API_BASE_URL", "http://127.0.0.1:99999"}};
  for (const auto& [var, url] : cases) {
    const std::string saved = std::getenv(var);
    setenv(var, url, 1);
    const auto r = Live(cfg, dir / "s");
    setenv(var, saved.c_str(), 1);
    EXPECT_EQ(r.exit_code, 2) << var << "=" << url << ": " << r.err;
    EXPECT_NE(r.err.find(var), std::string::npos) << r.err;
  }
  setenv("APCA_API_DATA_URL", "http://127.attacker.example", 1);
  const auto f = testkit::RunCli(
      {"data", "fetch", "--symbols", "SPY", "--start", "2026-01-02", "--out", dir / "f.h5"});
  EXPECT_EQ(f.exit_code, 2) << f.err;
  EXPECT_NE(f.err.find("APCA_API_DATA_URL"), std::string::npos) << f.err;
  EXPECT_EQ(fake.Requests("/"), 0u);
  EXPECT_FALSE(fs::exists(dir / "s"));
}

TEST(LiveHostile, CommandLineNumbersAreValidatedLikeTheConfig) {
  testkit::TempDir dir;
  const std::string cfg = Config(dir);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"live", cfg, "--metrics-port", "70000"},
        {"live", cfg, "--metrics-port", "-5"},
        {"live", cfg, "--fill-timeout", "1e308"},
        {"live", cfg, "--fill-timeout", "-3"},
        {"signals", dir / "x.sqlite", "--recent", "-1"},
        {"suite", dir / "x.json", "--threads", "-2"},
        {"suite", dir / "x.json", "--max-runs", "0"}}) {
    const auto r = testkit::RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << args[2] << " " << args[3];
    EXPECT_NE(r.err.find("not in range"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ballast
