// Hot-path benchmarks. The panel is the S&P 500 store named by BALLAST_BENCH_STORE (see
// bench/whole_run.sh, which builds it from all_stocks_5yr), or else a synthetic random-walk store
// of the same shape (470 symbols x 1,259 days) written to a temp file.
//
//   BM_Backtest/<freq>: replay + strategy + planner + SimVenue + ledger + recording of one
//     equal-weight calendar backtest over data loaded once (no file output). Counter `bars/s` =
//     symbols x sessions / time.
//   BM_PlannerFullRebalance: one 470-symbol plan from scratch.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "ballast/backtests/backtest.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/engine/config_node.hpp"
#include "ballast/engine/planner.hpp"
#include "ballast/strategies/weighers.hpp"

namespace {

using namespace ballast;

constexpr std::size_t kSymbols = 470;
constexpr std::size_t kDays = 1259;

std::string SyntheticStore() {
  const auto path =
      (std::filesystem::temp_directory_path() / "ballast-bench-synthetic.h5").string();
  if (std::filesystem::exists(path)) return path;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> ret(0.0003, 0.015);
  std::vector<data::SymbolSeries> series(kSymbols);
  std::vector<Days> days;
  for (Days d = *ParseIsoDate("2013-02-08"); days.size() < kDays; d += std::chrono::days{1}) {
    if (NyseCalendar::IsTradingDay(d)) days.push_back(d);
  }
  for (std::size_t s = 0; s < kSymbols; ++s) {
    auto& x = series[s];
    x.symbol = fmt::format("S{:03}", s);
    double p = 20.0 + static_cast<double>(s % 100);
    for (const Days d : days) {
      p *= 1.0 + ret(rng);
      x.time.push_back(DayToTimestamp(d));
      x.open.push_back(p);
      x.high.push_back(p);
      x.low.push_back(p);
      x.close.push_back(p);
      x.volume.push_back(1e6);
    }
  }
  data::WriteStore(path, series, true);
  return path;
}

struct Fixture {
  backtests::BacktestConfig config;
  backtests::MarketData data;
};

const Fixture& Get(const char* frequency) {
  static std::map<std::string, Fixture> cache;
  auto it = cache.find(frequency);
  if (it != cache.end()) return it->second;
  const char* env = std::getenv("BALLAST_BENCH_STORE");
  const std::string store = env ? env : SyntheticStore();
  const auto info = data::ReadStoreInfo(store);
  std::size_t max_rows = 0;
  for (const auto& s : info.symbols)
    max_rows = std::max(max_rows, s.rows);
  std::string targets;
  std::vector<std::string> symbols;
  for (const auto& s : info.symbols) {
    if (s.rows == max_rows) symbols.push_back(s.symbol);
  }
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    targets += fmt::format("{}\"{}\": {}", i ? ", " : "", symbols[i],
                           1.0 / static_cast<double>(symbols.size()));
  }
  auto doc = ConfigDocument::FromText(
      fmt::format(
          R"({{"data": {{"store": "{}"}}, "strategy": {{"type": "calendar", "frequency": "{}",
          "targets": {{{}}}}}}})",
          store, frequency, targets),
      "bench.json");
  strategies::StrategyRegistry reg;
  strategies::RegisterBuiltinStrategies(reg);
  Fixture f{backtests::ParseBacktestConfig(doc, reg), {}};
  f.data = backtests::LoadMarketData(f.config);
  return cache.emplace(frequency, std::move(f)).first->second;
}

void BM_Backtest(benchmark::State& state, const char* frequency) {
  const Fixture& f = Get(frequency);
  const double bars =
      static_cast<double>(f.data.tradable * (f.data.panel->Rows() - f.data.first_row));
  double final_value = 0;
  for (auto _ : state) {
    const auto r = backtests::RunBacktest(f.config, f.data);
    final_value = r.summary.final_value;
    benchmark::DoNotOptimize(final_value);
  }
  state.counters["symbols"] = static_cast<double>(f.data.tradable);
  state.counters["sessions"] = static_cast<double>(f.data.panel->Rows() - f.data.first_row);
  state.counters["bars/s"] =
      benchmark::Counter(bars, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_Backtest, monthly, "monthly")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Backtest, daily, "daily")->Unit(benchmark::kMillisecond);

// The summary's round-trip statistics (win rate, holding days) over a whole run's trades.
void BM_ClosedTrades(benchmark::State& state, const char* frequency) {
  const Fixture& f = Get(frequency);
  const auto r = backtests::RunBacktest(f.config, f.data);
  for (auto _ : state) {
    const auto c = ClosedTrades(r.record.trades);
    benchmark::DoNotOptimize(c.closed);
  }
  state.counters["trades"] = static_cast<double>(r.record.trades.size());
}
BENCHMARK_CAPTURE(BM_ClosedTrades, monthly, "monthly")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ClosedTrades, daily, "daily")->Unit(benchmark::kMillisecond);

void BM_PlannerFullRebalance(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(10, 500);
  std::vector<double> qty(kSymbols), price(kSymbols), weights(kSymbols, 1.0 / kSymbols);
  for (std::size_t i = 0; i < kSymbols; ++i) {
    price[i] = u(rng);
    qty[i] = 1000.0 / price[i] * (0.8 + 0.4 * u(rng) / 500);
  }
  Planner planner({});
  Plan plan;
  for (auto _ : state) {
    planner.MakePlan(PlanInput{qty, price, price, weights, 1000.0}, plan);
    benchmark::DoNotOptimize(plan.orders.data());
  }
  state.counters["symbols/s"] = benchmark::Counter(static_cast<double>(kSymbols),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PlannerFullRebalance);

// Weighers on a 252-day window of random returns (factor-structured, so the covariance is
// realistic): covariance + model, as a rebalance computes them.
std::vector<double> WindowReturns(std::size_t assets) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> r(252 * assets);
  for (std::size_t t = 0; t < 252; ++t) {
    const double market = 0.01 * z(rng);
    for (std::size_t a = 0; a < assets; ++a)
      r[t * assets + a] = (0.5 + 0.01 * a) * market + 0.015 * z(rng);
  }
  return r;
}

void BM_InverseVol(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(strategies::InverseVolWeights(r, 252, n));
}
BENCHMARK(BM_InverseVol)->Arg(50)->Arg(470)->Unit(benchmark::kMicrosecond);

void BM_RiskParity(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  for (auto _ : state) {
    const auto cov = strategies::SampleCovariance(r, 252, n);
    benchmark::DoNotOptimize(strategies::RiskParityWeights(cov, n, {}));
  }
}
BENCHMARK(BM_RiskParity)->Arg(50)->Arg(470)->Unit(benchmark::kMillisecond);

void BM_MinVariance(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  for (auto _ : state) {
    const auto cov = strategies::SampleCovariance(r, 252, n);
    benchmark::DoNotOptimize(strategies::MinVarianceWeights(cov, n, 0.0, 0.1));
  }
}
BENCHMARK(BM_MinVariance)->Arg(50)->Arg(470)->Unit(benchmark::kMillisecond);

// Tangency portfolio: means with a small per-asset drift so some assets earn a premium.
void BM_MaxSharpe(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  std::vector<double> excess(n, 0.0);
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t t = 0; t < 252; ++t)
      excess[a] += r[t * n + a] / 252.0;
    excess[a] += 0.0002 * static_cast<double>(a % 7) / 7.0;
  }
  for (auto _ : state) {
    const auto cov = strategies::SampleCovariance(r, 252, n);
    benchmark::DoNotOptimize(strategies::MaxSharpeWeights(cov, excess, n, 0.0, 1.0));
  }
}
BENCHMARK(BM_MaxSharpe)->Arg(50)->Arg(470)->Unit(benchmark::kMillisecond);

void BM_SampleCovariance(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(strategies::SampleCovariance(r, 252, n));
}
BENCHMARK(BM_SampleCovariance)->Arg(50)->Arg(470)->Unit(benchmark::kMillisecond);

void BM_LedoitWolf(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto r = WindowReturns(n);
  for (auto _ : state)
    benchmark::DoNotOptimize(strategies::LedoitWolfCovariance(r, 252, n));
}
BENCHMARK(BM_LedoitWolf)->Arg(50)->Arg(470)->Unit(benchmark::kMillisecond);

// Rank and factor models through Weigher::Compute on a panel of 800 weekday sessions of random
// prices (scores need up to 12 months of history): scoring every asset, z-scores, the top 20 and
// their weights (equal, or risk parity on a 252-day window).
void BM_FactorModel(benchmark::State& state, const char* weights) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::string> names;
  for (std::size_t c = 0; c < n; ++c)
    names.push_back(fmt::format("S{}", c));
  BarPanel panel(names);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> px(n, 100.0);
  std::vector<Days> days;
  for (Days d = std::chrono::sys_days{std::chrono::year{2015} / 1 / 1}; days.size() < 800;
       d += std::chrono::days{1}) {
    const std::chrono::weekday wd{d};
    if (wd == std::chrono::Saturday || wd == std::chrono::Sunday) continue;
    const std::size_t r = panel.AppendRow(DayToTimestamp(d));
    const double market = 0.01 * z(rng);
    for (std::size_t c = 0; c < n; ++c) {
      px[c] *= 1.0 + 0.0003 + 0.8 * market + 0.015 * z(rng);
      panel.SetBar(r, c, px[c], px[c], px[c], px[c], 1e6);
    }
    days.push_back(d);
  }
  RunRecord record;
  DataSessions sessions(days);
  const auto doc = ConfigDocument::FromText(
      fmt::format(R"({{"model": "factor", "factors": {{"momentum": 1, "low_volatility": 0.5,
                      "quality": 0.5, "value": 0.25}}, "positions": 20, "weighting": {}}})",
                  weights),
      "bench.json");
  strategies::Weigher weigher(strategies::WeigherConfig::Parse(doc.Root(), n));
  const StrategyContext ctx{panel,   panel.Rows() - 1, days.back(),     n,     false,
                            nullptr, sessions,         PortfolioView{}, record};
  std::vector<double> out;
  for (auto _ : state)
    benchmark::DoNotOptimize(weigher.Compute(ctx, out));
}
BENCHMARK_CAPTURE(BM_FactorModel, equal, "\"equal\"")
    ->Arg(50)
    ->Arg(470)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FactorModel, risk_parity, R"({"model": "risk_parity", "lookback": "252D"})")
    ->Arg(50)
    ->Arg(470)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
