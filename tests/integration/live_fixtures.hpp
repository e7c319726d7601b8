#pragma once
// What the live tests share: daily bars from the sample store, the portfolio config they trade,
// and `ballast live --paper --once`.

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "ballast/adapters/alpaca/net.hpp"
#include "ballast/data/bar_store.hpp"
#include "fake_alpaca.hpp"
#include "testkit.hpp"

namespace ballast {

inline std::vector<data::SymbolSeries> Bars(const char* last_day,
                                            std::vector<std::string> symbols = {"SPY", "AGG"}) {
  return data::LoadSeries(testkit::SampleStore(), symbols, *ParseIsoDate("2025-10-01"),
                          *ParseIsoDate(last_day));
}

/// The strategy the live tests trade.
inline constexpr const char* kMonthlySixtyForty =
    R"({"type": "calendar", "frequency": "monthly", "on": "first", "targets": {"SPY": 0.6, "AGG": 0.4}})";

/// A portfolio config in `dir` (the bundled sample store, close fills, no costs) with `extra_live`
/// appended to its `live` section and `strategy` as its strategy; `cash_buffer` 0 unless given,
/// so weights land exactly on target (the buffer has its own test).
inline std::string Config(const testkit::TempDir& dir, const std::string& extra_live = "",
                          const std::string& strategy = kMonthlySixtyForty) {
  const std::string path = dir / "portfolio.json";
  testkit::WriteFile(path, R"({
  "name": "Live sixty forty",
  "data": {"store": ")" + testkit::SampleStore() +
                               R"("},
  "portfolio": {"initial_cash": 100000},
  "strategy": )" + strategy + R"(,
  "execution": {"fill": "close", "commission": {"model": "none"}, "slippage_bps": 0},
  "live": {"fill_timeout_seconds": 10, "history_days": 60)" +
                               (extra_live.find("cash_buffer") == std::string::npos
                                    ? std::string(R"(, "cash_buffer": 0)")
                                    : std::string()) +
                               extra_live + R"(}
})");
  return path;
}

/// GET http://127.0.0.1:PORT/PATH (the ops endpoints): the body, and the status in `status`.
inline std::string HttpGet(unsigned short port, const std::string& path, int* status = nullptr) {
  net::HttpClient http({}, std::chrono::seconds(2));
  const auto r =
      http.Request("GET", net::ParseUrl("http://127.0.0.1:" + std::to_string(port)), path, {});
  if (status) *status = r.status;
  return r.body;
}

/// A port free a moment ago, for a child to listen on (bound to port 0 and released).
inline unsigned short FreePort() {
  testkit::FakeAlpacaOptions o;
  testkit::FakeAlpaca probe(o);
  return probe.Port();
}

inline std::vector<std::vector<std::string>> Query(const std::string& db_path,
                                                   const std::string& sql) {
  return testkit::SqlRows(db_path, sql);
}

inline testkit::CliResult Live(const std::string& config, const std::string& out,
                               std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"live", config, "--paper", "--once", "--out", out};
  args.insert(args.end(), extra.begin(), extra.end());
  return testkit::RunCli(args);
}

/// One `Live` run per day, each against a fresh fake broker that starts with the account the
/// previous day's left (positions and cash; the first day: `cash`). `check(day, fake, result)`
/// runs after each day, before the next fake is made.
template <class Check>
void LiveOnDays(const std::string& config, const std::string& out,
                std::initializer_list<const char*> days, double cash, Check check) {
  std::map<std::string, double> positions;
  for (const char* day : days) {
    testkit::FakeAlpacaOptions o;
    o.bars = Bars(day);
    o.positions = positions;
    o.cash = cash;
    testkit::FakeAlpaca fake(o);
    fake.ExportEnvironment();
    const auto r = Live(config, out);
    check(day, fake, r);
    if (::testing::Test::HasFatalFailure()) return;  // an ASSERT in `check` ends the test
    positions = fake.Positions();
    cash = fake.Cash();
  }
}

}  // namespace ballast
