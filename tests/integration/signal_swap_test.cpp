// signal_swap on constructed price paths where the right answer is obvious, through the whole
// backtest (planner, order manager, simulated fills), plus the config errors users will meet.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/outputs.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast {
namespace {

using Path = std::function<double(int day)>;

/// A store with one series per symbol over `days` NYSE sessions from 2020-01-02.
std::string MakeStore(const testkit::TempDir& dir, const std::map<std::string, Path>& paths,
                      int days) {
  std::vector<Days> sessions;
  for (Days d = *ParseIsoDate("2020-01-02"); static_cast<int>(sessions.size()) < days;
       d += std::chrono::days{1}) {
    if (NyseCalendar::IsTradingDay(d)) sessions.push_back(d);
  }
  std::vector<data::SymbolSeries> series;
  for (const auto& [sym, f] : paths) {
    data::SymbolSeries s;
    s.symbol = sym;
    for (int i = 0; i < days; ++i) {
      const double px = f(i);
      s.time.push_back(DayToTimestamp(sessions[static_cast<std::size_t>(i)]));
      s.open.push_back(px);
      s.high.push_back(px);
      s.low.push_back(px);
      s.close.push_back(px);
      s.volume.push_back(1e6);
    }
    series.push_back(std::move(s));
  }
  const std::string path = dir / "paths.h5";
  data::WriteStore(path, series, true);
  return path;
}

Path Grow(double start, double daily) {
  return [=](int i) { return start * std::pow(1.0 + daily, i); };
}

backtests::BacktestResult RunSwap(const std::string& store, const std::string& strategy,
                                  const std::string& extra = "") {
  const std::string json = R"({"name": "t", "data": {"store": ")" + store +
                           R"("}, "portfolio": {"initial_cash": 100000}, "benchmark": "IDX",
  "execution": {"fill": "close", "commission": {"model": "none"}, "slippage_bps": 0})" +
                           extra + R"(, "strategy": )" + strategy + "}";
  auto doc = ConfigDocument::FromText(json, "test.json");
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  return backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
}

// Short indicator windows so a few months of constructed prices warm everything up. RSI is
// weighted 0: on a noiseless path it is 100 rising and 0 falling, and the documented weighting
// reads 0 as "oversold, good" (tested on its own in signals_test.cpp); here the swap logic is
// under test, and the trend, MACD and alpha components make the answer obvious.
constexpr const char* kFast = R"("indicators": {"rsi": 5, "macd_fast": 3, "macd_slow": 6,
  "macd_signal": 3, "ma_short": 5, "ma_long": 20, "volume_window": 5, "return_window": 10},
  "scoring": {"rsi": 0})";

std::vector<std::vector<std::string>> Query(const std::string& db_path, const std::string& sql) {
  return testkit::SqlRows(db_path, sql);
}

std::vector<const EventRecord*> Events(const RunRecord& r, std::string_view type) {
  std::vector<const EventRecord*> out;
  for (const auto& e : r.events)
    if (e.type == type) out.push_back(&e);
  return out;
}

double FinalWeight(const backtests::BacktestResult& r, const std::string& sym) {
  const auto& rec = r.record;
  std::size_t col = 0;
  while (r.symbols[col] != sym)
    ++col;
  const std::size_t last = rec.times.size() - 1;
  return rec.weights[last * r.symbols.size() + col];
}

/// Holdings A-D rise steadily, E falls steadily; F (the watchlist) follows `f`; the index IDX
/// drifts up slowly.
std::map<std::string, Path> RisersAndAFaller(Path f) {
  return {{"A", Grow(100, 0.002)},   {"B", Grow(50, 0.0021)},  {"C", Grow(80, 0.0022)},
          {"D", Grow(60, 0.0023)},   {"E", Grow(100, -0.004)}, {"F", std::move(f)},
          {"IDX", Grow(100, 0.0005)}};
}

TEST(SignalSwap, SwapsTheFallingHoldingForTheRisingCandidate) {
  testkit::TempDir dir;
  // F rises fastest.
  const std::string store = MakeStore(dir, RisersAndAFaller(Grow(40, 0.006)), 120);
  const auto r =
      RunSwap(store, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C", "D", "E"],
    "watchlist": ["F"], "benchmark": "IDX", "frequency": "weekly",
    "exits": {"stop_loss": false, "portfolio_stop": false}, )") +
                         kFast + "}");
  const auto swaps = Events(r.record, "signal_swap");
  ASSERT_FALSE(swaps.empty());
  EXPECT_NE(swaps[0]->fields_json.find(R"("sell":"E")"), std::string::npos)
      << swaps[0]->fields_json;
  EXPECT_NE(swaps[0]->fields_json.find(R"("buy":"F")"), std::string::npos) << swaps[0]->fields_json;
  EXPECT_EQ(swaps.size(), 1u);  // nothing else is weak
  EXPECT_DOUBLE_EQ(FinalWeight(r, "E"), 0.0);
  EXPECT_GT(FinalWeight(r, "F"), 0.10);
  // Sized by tier: every holding is strong (>= 80), so 15-20 % each; the rest is cash.
  for (const char* s : {"A", "B", "C", "D", "F"}) {
    EXPECT_GE(FinalWeight(r, s), 0.14) << s;
    EXPECT_LE(FinalWeight(r, s), 0.201) << s;
  }
  // The tracker: the recommendation was acted on and was right (F rose, E fell); F's opening buy
  // is still open, its profit what the trades say (sells + shares left at the last close - buys).
  const std::string db = dir / "signals.sqlite";
  backtests::WriteSignalsDb(r, db);
  const auto rec = Query(db,
                         "SELECT sell_symbol, buy_symbol, acted_on, outcome, relative_return > 0 "
                         "FROM rebalancing_recommendations");
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0], (std::vector<std::string>{"E", "F", "1", "win", "1"}));
  const auto opener = Query(db,
                            "SELECT outcome, profit, signal_date FROM trading_signals WHERE "
                            "symbol = 'F' AND signal_type = 'buy' AND suggested_action = 'open'");
  ASSERT_EQ(opener.size(), 1u);
  EXPECT_EQ(opener[0][0], "open");
  std::size_t f = 0;
  while (r.symbols[f] != "F")
    ++f;
  double cash_flow = 0, shares = 0;
  for (const auto& t : r.record.trades) {
    if (t.symbol != f) continue;
    const double n = t.quantity * t.price;
    cash_flow += t.side == Side::kBuy ? -n : n;
    shares += t.side == Side::kBuy ? t.quantity : -t.quantity;
  }
  const double last_close = Grow(40, 0.006)(119);
  EXPECT_NEAR(std::stod(opener[0][1]), cash_flow + shares * last_close, 1e-6);
  // Later buys of F (resizing up) carry its outcome but not its profit.
  for (const auto& row : Query(db,
                               "SELECT outcome, profit FROM trading_signals WHERE symbol = "
                               "'F' AND signal_type = 'buy' AND suggested_action = 'increase'")) {
    EXPECT_EQ(row[0], "open");
    EXPECT_EQ(row[1], "");
  }
}

TEST(SignalSwap, NoSwapWhenTheCandidateIsNotBetterEnough) {
  testkit::TempDir dir;
  // E falls, but the only candidate falls too: no swap; E is sold by sizing only if that leaves
  // min_positions (5) — it does not, so E stays at the lowest tier's floor weight.
  const std::string store = MakeStore(dir, RisersAndAFaller(Grow(40, -0.003)), 120);
  const auto r =
      RunSwap(store, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C", "D", "E"],
    "watchlist": ["F"], "benchmark": "IDX", "exits": {"stop_loss": false, "portfolio_stop": false,
    "time_stop_days": 1000}, )") +
                         kFast + "}");
  EXPECT_TRUE(Events(r.record, "signal_swap").empty());
  EXPECT_DOUBLE_EQ(FinalWeight(r, "F"), 0.0);
  EXPECT_NEAR(FinalWeight(r, "E"), 0.03, 0.01);  // floor weight, drifted since the decision
}

TEST(SignalSwap, StopLossSellsOnTheDayAndLeavesTheRest) {
  testkit::TempDir dir;
  // C drops 20 % on day 60 (stop loss 8 %): sold that day; the others keep their quantities.
  const std::string store =
      MakeStore(dir,
                {{"A", Grow(100, 0.001)},
                 {"B", Grow(50, 0.001)},
                 {"C", [](int i) { return (i < 60 ? 80.0 : 80.0 * 0.80) * std::pow(1.001, i); }},
                 {"IDX", Grow(100, 0.001)}},
                80);
  const auto r = RunSwap(store, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C"],
    "benchmark": "IDX", "frequency": "monthly", "min_positions": 3,
    "exits": {"stop_loss": 0.08, "portfolio_stop": false, "time_stop_days": 1000}, )") +
                                    kFast + "}");
  const auto exits = Events(r.record, "signal_exit");
  ASSERT_FALSE(exits.empty());
  EXPECT_NE(exits[0]->fields_json.find(R"("symbol":"C")"), std::string::npos);
  EXPECT_NE(exits[0]->fields_json.find(R"("reason":"stop_loss")"), std::string::npos);
  // Trades on the stop day: only C is sold.
  const Timestamp stop_day = exits[0]->time;
  int trades_that_day = 0;
  for (const auto& t : r.record.trades) {
    if (t.time != stop_day) continue;
    ++trades_that_day;
    EXPECT_EQ(r.symbols[t.symbol], "C");
    EXPECT_EQ(t.side, Side::kSell);
  }
  EXPECT_EQ(trades_that_day, 1);
  EXPECT_DOUBLE_EQ(FinalWeight(r, "C"), 0.0);
  // The tracker: the stop-loss sell was acted on and is judged on what C did next — it rose
  // 0.1 % a day for the 19 sessions left (the horizon is 20, capped at the data), so selling
  // was a loss of 1.001^19 - 1 on the notional sold.
  const std::string db = dir / "signals.sqlite";
  backtests::WriteSignalsDb(r, db);
  const auto rows =
      Query(db,
            "SELECT signal_date, acted_on, outcome, profit_pct, profit, days_held, "
            "reason FROM trading_signals WHERE symbol = 'C' AND signal_type = 'sell' AND "
            "suggested_action = 'exit'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], FormatDate(TimestampToDay(stop_day)));
  EXPECT_EQ(rows[0][1], "1");
  EXPECT_EQ(rows[0][2], "loss");
  const double rise = std::pow(1.001, 19) - 1.0;
  EXPECT_NEAR(std::stod(rows[0][3]), -rise, 1e-9);
  double sold = 0;
  for (const auto& t : r.record.trades)
    if (t.time == stop_day) sold += t.quantity * t.price;
  EXPECT_NEAR(std::stod(rows[0][4]), -rise * sold, 1e-6);
  EXPECT_EQ(
      std::stoi(rows[0][5]),
      (TimestampToDay(stop_day) - *ParseIsoDate("2020-01-02")).count());  // held since day one
  EXPECT_EQ(rows[0][6], "stop_loss");
}

TEST(SignalSwap, TimeStopSellsAStaleHoldingAndKellyStopsNewMoneyAfterLosses) {
  testkit::TempDir dir;
  // E does not move: strength about 48 (no trend, slightly behind the index), not weak (40), but
  // below the time stop's 60 once held 30 days.
  std::map<std::string, Path> paths = RisersAndAFaller(Grow(40, 0.002));
  paths["E"] = [](int) { return 100.0; };
  const std::string store = MakeStore(dir, paths, 120);
  const auto r =
      RunSwap(store, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C", "D", "E"],
    "watchlist": ["F"], "benchmark": "IDX", "min_positions": 4,
    "exits": {"stop_loss": false, "portfolio_stop": false, "time_stop_days": 30,
              "time_stop_strength": 60}, )") +
                         kFast + "}");
  const auto exits = Events(r.record, "signal_exit");
  ASSERT_FALSE(exits.empty());
  EXPECT_NE(exits[0]->fields_json.find(R"("symbol":"E","reason":"time_stop")"), std::string::npos)
      << exits[0]->fields_json;
  EXPECT_GE((TimestampToDay(exits[0]->time) - *ParseIsoDate("2020-01-02")).count(), 30);
  EXPECT_DOUBLE_EQ(FinalWeight(r, "E"), 0.0);

  // Kelly: after one losing close (the stop loss below) with min_trades 1, f* = 0: the cap is 0
  // and no position grows afterwards.
  const std::string store2 =
      MakeStore(dir,
                {{"A", Grow(100, 0.001)},
                 {"B", Grow(50, 0.001)},
                 {"C", [](int i) { return (i < 60 ? 80.0 : 80.0 * 0.80) * std::pow(1.001, i); }},
                 {"IDX", Grow(100, 0.001)}},
                120);
  const auto k = RunSwap(store2, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C"],
    "benchmark": "IDX", "frequency": "weekly", "min_positions": 3, "kelly": {"min_trades": 1},
    "exits": {"stop_loss": 0.08, "portfolio_stop": false, "time_stop_days": 1000}, )") +
                                     kFast + "}");
  const auto stop = Events(k.record, "signal_exit");
  ASSERT_FALSE(stop.empty());
  const Timestamp stop_day = stop[0]->time;
  int capped = 0;
  for (const auto* d : Events(k.record, "signal_decision")) {
    if (d->time <= stop_day) continue;
    EXPECT_NE(d->fields_json.find(R"("kelly_cap":0)"), std::string::npos) << d->fields_json;
    ++capped;
  }
  EXPECT_GT(capped, 0);
  for (const auto& t : k.record.trades) {
    if (t.time > stop_day) {
      EXPECT_EQ(t.side, Side::kSell) << FormatDate(TimestampToDay(t.time));
    }
  }
}

TEST(SignalSwap, PortfolioStopGoesToCashWhenTheBookTrailsTheBenchmark) {
  testkit::TempDir dir;
  // Every holding drifts down 0.3 % a day while the index rises 0.3 %: after a 20-session window
  // the book trails by far more than 5 %; everything is sold and stays in cash for the cooldown.
  const std::string store = MakeStore(dir,
                                      {{"A", Grow(100, -0.003)},
                                       {"B", Grow(50, -0.003)},
                                       {"C", Grow(80, -0.003)},
                                       {"IDX", Grow(100, 0.003)}},
                                      60);
  const auto r = RunSwap(store, std::string(R"({"type": "signal_swap", "holdings": ["A", "B", "C"],
    "benchmark": "IDX", "frequency": "monthly", "min_positions": 3,
    "exits": {"stop_loss": false, "portfolio_stop": 0.05, "portfolio_window": 20,
              "portfolio_cooldown": 100, "time_stop_days": 1000}, )") +
                                    kFast + "}");
  const auto stops = Events(r.record, "portfolio_stop");
  ASSERT_EQ(stops.size(), 1u);
  const auto at = stops[0]->fields_json.find(R"("relative_return":)");
  EXPECT_LT(std::stod(stops[0]->fields_json.substr(at + 18)), -0.05);
  for (const char* s : {"A", "B", "C"})
    EXPECT_DOUBLE_EQ(FinalWeight(r, s), 0.0) << s;
  for (const auto& t : r.record.trades) {
    if (t.time > stops[0]->time) ADD_FAILURE() << "traded during the cooldown";
  }
}

TEST(SignalSwap, MarginOnlyForStrongSignalsAndWithinItsCap) {
  testkit::TempDir dir;
  std::map<std::string, Path> paths;
  const char* names[] = {"A", "B", "C", "D", "E", "F", "G"};
  for (int i = 0; i < 7; ++i)
    paths[names[i]] = Grow(50 + 10 * i, 0.002 + 0.0001 * i);
  paths["IDX"] = Grow(100, 0.0005);
  const std::string store = MakeStore(dir, paths, 120);
  const std::string strategy = std::string(R"({"type": "signal_swap",
    "holdings": ["A", "B", "C", "D", "E", "F", "G"], "benchmark": "IDX", "min_positions": 7,
    "exits": {"stop_loss": false, "portfolio_stop": false}, )") +
                               kFast;
  // Seven positions at strength >= 80 want 7 x 15-20 % > 1.
  auto gross = [](const backtests::BacktestResult& r) {
    const auto d = Events(r.record, "signal_decision");
    EXPECT_FALSE(d.empty());
    const std::string& f = d.back()->fields_json;
    const auto at = f.find(R"("gross":)");
    return std::stod(f.substr(at + 8));
  };
  const auto cash = RunSwap(store, strategy + "}");
  EXPECT_NEAR(gross(cash), 1.0, 1e-12);  // a cash account stops at 1
  const auto margin =
      RunSwap(store, strategy + R"(, "margin": {"min_strength": 75, "max_margin": 0.25,
    "cash_reserve": 0.30}})",
              R"(, "margin": {"max_leverage": 1.5, "leverage": 1.0})");
  EXPECT_NEAR(gross(margin), 1.175, 1e-12);   // 1 + 25 % x (1 - 30 %)
  EXPECT_LT(margin.record.cash.back(), 0.0);  // borrowed
  // Strength must exceed 75 for margin: with a bar at 100 nothing qualifies.
  const auto strict = RunSwap(store, strategy + R"(, "margin": {"min_strength": 100}})",
                              R"(, "margin": {"max_leverage": 1.5, "leverage": 1.0})");
  EXPECT_NEAR(gross(strict), 1.0, 1e-12);
}

// The shipped S&P 500 config writes signals.sqlite with its outputs; `ballast signals` reports
// it, and its figures match plain SQL over the same database.
TEST(SignalSwap, SignalsCommandReportsTheTrackerDatabase) {
  testkit::TempDir dir;
  auto doc = ConfigDocument::FromFile(
      (testkit::SourceDir() / "configs/portfolios/sp500-signal-swap-weekly.json").string());
  doc.SetString("data.store", testkit::Sp500Store());
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  const auto r = backtests::RunBacktest(backtests::ParseBacktestConfig(doc, reg));
  const std::string run = dir / "run";
  backtests::WriteRunOutputs(r, run, true, false);
  const std::string db = run + "/signals.sqlite";
  ASSERT_TRUE(std::filesystem::exists(db));
  const auto cli = testkit::RunCli({"signals", run, "--json", "--recent", "5"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto j = nlohmann::json::parse(cli.out);
  auto one = [&](const std::string& sql) { return Query(db, sql).at(0).at(0); };
  EXPECT_EQ(j["signals"].get<std::int64_t>(),
            std::stoll(one("SELECT COUNT(*) FROM trading_signals")));
  EXPECT_EQ(j["signals"].get<std::size_t>(), r.record.signals.size());
  const auto decided = std::stoll(
      one("SELECT COUNT(*) FROM trading_signals WHERE acted_on = 1 AND ((signal_type = 'sell' AND "
          "outcome IN ('win','loss','breakeven')) OR (signal_type = 'buy' AND profit IS NOT NULL "
          "AND outcome != 'open'))"));
  const auto wins = std::stoll(
      one("SELECT COUNT(*) FROM trading_signals WHERE acted_on = 1 AND outcome = 'win' AND "
          "(signal_type = 'sell' OR profit IS NOT NULL)"));
  EXPECT_EQ(j["all"]["decided"].get<std::int64_t>(), decided);
  EXPECT_EQ(j["all"]["wins"].get<std::int64_t>(), wins);
  EXPECT_NEAR(j["all"]["win_rate"].get<double>(), static_cast<double>(wins) / decided, 1e-12);
  EXPECT_LE(j["last_30_days"]["decided"].get<std::int64_t>(),
            j["last_90_days"]["decided"].get<std::int64_t>());
  EXPECT_NEAR(j["total_pnl"].get<double>(),
              std::stod(one("SELECT SUM(profit) FROM trading_signals WHERE signal_type = 'buy' "
                            "AND acted_on = 1")),
              1e-6);
  const double gains =
      std::stod(one("SELECT SUM(profit) FROM trading_signals WHERE signal_type = "
                    "'buy' AND outcome != 'open' AND profit > 0"));
  const double losses =
      std::stod(one("SELECT -SUM(profit) FROM trading_signals WHERE "
                    "signal_type = 'buy' AND outcome != 'open' AND profit < 0"));
  EXPECT_NEAR(j["profit_factor"].get<double>(), gains / losses, 1e-9);
  ASSERT_EQ(j["recent"].size(), 5u);
  ASSERT_EQ(j["missed_opportunities"].size(), 5u);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_GE(j["missed_opportunities"][i - 1]["return"].get<double>(),
              j["missed_opportunities"][i]["return"].get<double>());
  }
  EXPECT_EQ(j["by_source"][0]["source"], "S&P 500 signal swap weekly");
  // The text report, and a clear error without a database.
  const auto text = testkit::RunCli({"signals", db});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("profit factor"), std::string::npos);
  EXPECT_NE(text.out.find("missed opportunities"), std::string::npos);
  const auto missing = testkit::RunCli({"signals", dir / "nowhere"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no signals database"), std::string::npos) << missing.err;
}

// `ballast advise`: the health score is what its documented parts add up to, recomputed here from
// the report's own holdings; recommendations and the tracker database follow the same rules.
TEST(Advise, HealthScoreRecommendationsAndTrackerAddUp) {
  testkit::TempDir dir;
  const std::string db = dir / "advice.sqlite";
  const auto r = testkit::RunCli(
      {"advise", (testkit::SourceDir() / "configs/advise/morning-check.json").string(), "--as-of",
       "2017-06-15", "--json", "--db", db, "--set", "data.store=" + testkit::Sp500Store()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["as_of"], "2017-06-15");
  const double equity = j["portfolio"]["equity"].get<double>();
  double value = 0, strength = 0, alpha = 0, hhi = 0, weights = 0;
  for (const auto& h : j["holdings"]) {
    const double v = h["shares"].get<double>() * h["price"].get<double>();
    EXPECT_NEAR(h["value"].get<double>(), v, 1e-9);
    value += v;
    strength += v * h["strength"].get<double>();
    alpha += v * h["alpha"].get<double>();
    weights += h["weight"].get<double>();
  }
  for (const auto& h : j["holdings"])
    hhi += std::pow(h["value"].get<double>() / value, 2);
  EXPECT_NEAR(weights + j["portfolio"]["cash"].get<double>() / equity, 1.0, 1e-12);
  const auto& health = j["health"];
  EXPECT_NEAR(health["average_strength"].get<double>(), strength / value, 1e-9);
  EXPECT_NEAR(health["average_alpha"].get<double>(), alpha / value, 1e-12);
  EXPECT_NEAR(health["concentration_hhi"].get<double>(), hhi, 1e-12);
  const double a_pts = 30.0 * std::clamp((alpha / value + 0.05) / 0.10, 0.0, 1.0);
  const double s_pts = 40.0 * strength / value / 100.0;
  const double n = static_cast<double>(j["holdings"].size());
  const double d_pts =
      15.0 * std::min(1.0, n / 10.0) + 15.0 * std::clamp((0.5 - hhi) / (0.5 - 0.1), 0.0, 1.0);
  EXPECT_NEAR(health["alpha_points"].get<double>(), a_pts, 1e-9);
  EXPECT_NEAR(health["strength_points"].get<double>(), s_pts, 1e-9);
  EXPECT_NEAR(health["diversification_points"].get<double>(), d_pts, 1e-9);
  const double score = a_pts + s_pts + d_pts;
  EXPECT_NEAR(health["score"].get<double>(), score, 1e-9);
  const char* grade = score >= 85   ? "A"
                      : score >= 70 ? "B"
                      : score >= 55 ? "C"
                      : score >= 40 ? "D"
                                    : "F";
  EXPECT_EQ(health["grade"], grade);
  // Recommendations: XOM (bought at 95, now 82.26) is past the 8 % stop loss; swaps replace weak
  // holdings with opportunities, numbered from 1.
  bool xom_sold = false;
  int swaps = 0;
  for (std::size_t i = 0; i < j["recommendations"].size(); ++i) {
    const auto& rec = j["recommendations"][i];
    EXPECT_EQ(rec["n"].get<std::size_t>(), i + 1);
    if (rec["action"] == "SELL" && rec["sell"] == "XOM") {
      xom_sold = true;
      EXPECT_EQ(rec["reason"], "stop_loss");
      EXPECT_EQ(rec["shares"].get<double>(), -80.0);
    }
    if (rec["action"] == "SWAP") {
      ++swaps;
      EXPECT_GE(rec["expected_improvement"].get<double>(), 15.0);
      bool is_opportunity = false;
      for (const auto& op : j["opportunities"])
        is_opportunity = is_opportunity || op["symbol"] == rec["buy"];
      EXPECT_TRUE(is_opportunity) << rec["buy"];
    }
  }
  EXPECT_TRUE(xom_sold);
  EXPECT_GE(swaps, 1);
  EXPECT_TRUE(j["rebalancing_needed"].get<bool>());
  // The tracker database got this morning's signals, not acted on; `ballast signals` reads it.
  EXPECT_EQ(Query(db,
                  "SELECT COUNT(DISTINCT source), MIN(acted_on), MAX(acted_on) FROM "
                  "trading_signals")[0],
            (std::vector<std::string>{"1", "0", "0"}));
  EXPECT_EQ(std::stoi(Query(db, "SELECT COUNT(*) FROM rebalancing_recommendations")[0][0]), swaps);
  const auto report = testkit::RunCli({"signals", db});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("advise"), std::string::npos);
  // A later morning judges the earlier advice: its buy signals (advice is never acted on by
  // ballast) are missed or passed by what the price did over the next 20 sessions.
  const auto later = testkit::RunCli(
      {"advise", (testkit::SourceDir() / "configs/advise/morning-check.json").string(), "--as-of",
       "2017-08-01", "--db", db, "--set", "data.store=" + testkit::Sp500Store()});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  const auto judged = Query(db,
                            "SELECT outcome, COUNT(*) FROM trading_signals WHERE signal_date = "
                            "'2017-06-15' AND signal_type = 'buy' GROUP BY outcome ORDER BY 1");
  ASSERT_FALSE(judged.empty());
  for (const auto& row : judged)
    EXPECT_TRUE(row[0] == "missed" || row[0] == "passed") << row[0];
  EXPECT_EQ(Query(db, "SELECT COUNT(DISTINCT signal_date) FROM trading_signals")[0][0], "2");
}

TEST(Advise, NoRebalancingNeededAndClearErrors) {
  testkit::TempDir dir;
  // Five steady risers held at about the weight their tier gives; the candidate is no better.
  const std::string store = MakeStore(dir, RisersAndAFaller(Grow(40, 0.002)), 120);
  const std::string cfg = dir / "advise.json";
  testkit::WriteFile(cfg, R"({"data": {"store": ")" + store + R"("}, "benchmark": "IDX",
    "advise": {"holdings": {"A": 180, "B": 370, "C": 230, "D": 310}, "cash": 20000},
    "strategy": {"type": "signal_swap", "holdings": [], "watchlist": ["F"], "benchmark": "IDX",
      "min_positions": 4, "exits": {"stop_loss": false}, )" +
                              std::string(kFast) + "}}");
  const auto ok = testkit::RunCli({"advise", cfg});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("No rebalancing needed."), std::string::npos) << ok.out;
  // A holdings file with a bad row names the file and the line.
  testkit::WriteFile(dir / "h.csv", "symbol,shares\nA,10\nB,ten\n");
  const auto bad = testkit::RunCli({"advise", cfg, "--set", "advise.holdings=\"h.csv\""});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("h.csv:3"), std::string::npos) << bad.err;
  // Without an advise section, and with too little history.
  const auto none = testkit::RunCli({"advise", cfg, "--set", "advise=null"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("advise"), std::string::npos) << none.err;
  const auto early = testkit::RunCli({"advise", cfg, "--as-of", "2020-01-10"});
  EXPECT_EQ(early.exit_code, 3);
  EXPECT_NE(early.err.find("the indicators need"), std::string::npos) << early.err;
}

// Live signals are settled later, from the journal's fills and the daily closes, by the same
// rules as a backtest's; every figure here is computed by hand.
TEST(SignalTracker, LiveOutcomesSettleByHand) {
  testkit::TempDir dir;
  const std::string db = dir / "signals.sqlite";
  const std::vector<std::string> symbols{"X", "Y", "Z", "W", "V"};
  const Days d0 = *ParseIsoDate("2026-01-05");
  auto signal = [&](SymbolIndex sym, const char* action, const char* suggested, double price) {
    SignalRow row;
    row.time = DayToTimestamp(d0);
    row.symbol = sym;
    row.action = action;
    row.strength = 70;
    row.confidence = "high";
    row.price = price;
    row.suggested_action = suggested;
    row.risk_level = "medium";
    return row;
  };
  const std::vector<SignalRow> rows{signal(0, "buy", "open", 100), signal(1, "buy", "open", 50),
                                    signal(2, "sell", "exit", 20), signal(3, "buy", "none", 10),
                                    signal(4, "sell", "exit", 30)};
  const std::vector<bool> acted{true, true, true, false, true};
  backtests::AppendSignalsDb(db, "alpaca:test", symbols, rows, {}, &acted);
  // Sessions: d0 and the 25 weekdays after it (no holidays in January 2026 after the 5th but
  // the 19th; a plain list of days is all the settling needs).
  std::vector<Days> days{d0};
  for (Days d = d0 + std::chrono::days{1}; days.size() < 26; d += std::chrono::days{1}) {
    const auto wd = std::chrono::weekday(d).c_encoding();
    if (wd != 0 && wd != 6) days.push_back(d);
  }
  const Days today = days.back();
  std::map<std::string, std::vector<std::pair<Days, double>>> closes;
  for (std::size_t i = 0; i < days.size(); ++i) {
    closes["X"].emplace_back(days[i], 100 + i);
    closes["Y"].emplace_back(days[i], 45);
    closes["Z"].emplace_back(days[i], i < 20 ? 20.0 : 18.0);  // the 20th session after: 18
    closes["W"].emplace_back(days[i], i < 20 ? 10.0 : 12.0);
  }
  for (std::size_t i = 0; i < 6; ++i)
    closes["V"].emplace_back(days[i], 30);  // only 5 sessions after the signal: not yet judged
  const std::vector<backtests::TrackedFill> fills{
      {"X", true, 10, 100, 1, d0},       {"Y", true, 5, 50, 0, d0},
      {"Z", false, 4, 20, 0, d0},        {"V", false, 2, 30, 0, d0},
      {"X", false, 10, 110, 1, days[5]}, {"X", true, 3, 120, 0, days[8]}};
  const std::map<std::string, double> positions{{"X", 3}, {"Y", 5}};
  auto settle = [&] {
    return backtests::SettleLiveOutcomes(
        db, today, fills,
        [&](const std::string& s) { return positions.count(s) ? positions.at(s) : 0.0; },
        [&](const std::string& s) { return closes[s]; });
  };
  EXPECT_EQ(settle(), 4u);
  const auto got = Query(db,
                         "SELECT symbol, outcome, exit_date, profit, profit_pct, days_held FROM "
                         "trading_signals ORDER BY id");
  ASSERT_EQ(got.size(), 5u);
  // X: bought 10 @ 100 (+1 fee), sold 10 @ 110 (+1 fee) on the 5th session after: +98, a win;
  // the later re-buy is another position.
  EXPECT_EQ(got[0][1], "win");
  EXPECT_EQ(got[0][2], FormatDate(days[5]));
  EXPECT_NEAR(std::stod(got[0][3]), 98.0, 1e-9);
  EXPECT_NEAR(std::stod(got[0][4]), 0.098, 1e-12);
  EXPECT_EQ(std::stoi(got[0][5]), (days[5] - d0).count());
  // Y: 5 bought @ 50, held at 45 today: open, -25.
  EXPECT_EQ(got[1][1], "open");
  EXPECT_NEAR(std::stod(got[1][3]), -25.0, 1e-9);
  // Z: sold 4 @ 20; 20 sessions later 18: the fall was avoided, a win of 10 % on 80.
  EXPECT_EQ(got[2][1], "win");
  EXPECT_NEAR(std::stod(got[2][4]), 0.1, 1e-12);
  EXPECT_NEAR(std::stod(got[2][3]), 8.0, 1e-9);
  // W: not taken at 10; 12 after the horizon: missed, +20 %.
  EXPECT_EQ(got[3][1], "missed");
  EXPECT_NEAR(std::stod(got[3][4]), 0.2, 1e-12);
  // V: too early to judge.
  EXPECT_EQ(got[4][1], "");
  // Settling again changes only what is still open (Y, marked again).
  EXPECT_EQ(settle(), 1u);
}

TEST(SignalSwap, ConfigErrorsNameTheField) {
  testkit::TempDir dir;
  const std::string store =
      MakeStore(dir, {{"A", Grow(100, 0.001)}, {"IDX", Grow(100, 0.001)}}, 30);
  auto error_of = [&](const std::string& strategy, const std::string& extra = "") {
    try {
      (void)RunSwap(store, strategy, extra);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(R"({"type": "signal_swap", "holdings": ["A"], "benchmark": "IDX",
    "margin": {}})")
                .find("strategy.margin"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "signal_swap", "holdings": ["A"], "benchmark": "IDX",
    "sizing": {"risk": "extreme"}})")
                .find("strategy.sizing.risk"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "signal_swap", "holdings": ["A"]})").find("strategy.benchmark"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "signal_swap", "holdings": ["A"], "benchmark": "IDX",
    "exits": {"stop_loss": 8}})")
                .find("strategy.exits.stop_loss"),
            std::string::npos);
}

}  // namespace
}  // namespace ballast
