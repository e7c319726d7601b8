#include "ballast/backtests/backtest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>

#include "ballast/adapters/sim/sim_venue.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/data/panel_builder.hpp"
#include "ballast/data/price_basis.hpp"
#include "ballast/data/replay_source.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/kernel.hpp"

namespace ballast::backtests {
namespace {

[[noreturn]] void ConfigError(const BacktestConfig& c, std::string_view path,
                              const std::string& what) {
  throw Error(ErrorKind::kConfig, fmt::format("{}: {}: {}", c.origin, path, what));
}

// The tradable series on the config's price basis. Raw and split-adjusted runs need raw prices
// with their actions (a store imported with them); an adjusted store is used as it is.
void PriceBasisOf(const BacktestConfig& c, std::vector<data::SymbolSeries>& series) {
  if (c.prices != data::PriceBasis::kAdjusted) {
    const data::StoreInfo info = data::ReadStoreInfo(c.store_path);
    std::size_t actions = 0;
    for (const auto& s : info.symbols)
      actions += s.splits + s.dividends;
    if (actions == 0) {
      ConfigError(
          c, "data.prices",
          fmt::format("{} prices need corporate actions, and the store {} has none "
                      "(import them with `data import --actions ACTIONS.csv` or from "
                      "Dividends / Stock Splits columns)",
                      c.prices == data::PriceBasis::kRaw ? "raw" : "split_adjusted", c.store_path));
    }
  }
  for (auto& s : series) {
    if (s.price_adjustment == "unknown" && !s.actions.empty()) {
      ConfigError(c, "data.prices",
                  fmt::format("{} has corporate actions but its price basis is unknown in {}: "
                              "re-import it with `data import --basis {}=raw` (or "
                              "split_adjusted, as its prices are)",
                              s.symbol, c.store_path, s.symbol));
    }
    if (s.price_adjustment == "adjusted") {
      if (c.prices != data::PriceBasis::kAdjusted) {
        ConfigError(c, "data.prices",
                    fmt::format("{} is stored adjusted (total return) in {}: raw or "
                                "split_adjusted prices cannot be made from it",
                                s.symbol, c.store_path));
      }
      s.actions.clear();  // already in the prices
      continue;
    }
    data::ToBasis(s, c.prices);
  }
}

// The benchmark on its basis: total return, or price return with `benchmark.prices: "raw"`.
// Returns its label.
std::string BenchmarkBasis(const BacktestConfig& c, data::SymbolSeries& b) {
  if (b.price_adjustment == "unknown" && !b.actions.empty()) {
    ConfigError(c, "benchmark",
                fmt::format("{} has corporate actions but its price basis is unknown in {}: "
                            "re-import it with `data import --basis {}=raw` (or split_adjusted)",
                            b.symbol, c.store_path, b.symbol));
  }
  if (!c.benchmark_price_return) {
    if (b.price_adjustment != "adjusted") data::ToBasis(b, data::PriceBasis::kAdjusted);
  } else {
    if (b.price_adjustment == "adjusted") {
      ConfigError(c, "benchmark.prices",
                  fmt::format("{} is stored adjusted (total return) in {}: its price return "
                              "cannot be made from it",
                              b.symbol, c.store_path));
    }
    data::ToBasis(b, data::PriceBasis::kSplitAdjusted);
  }
  b.actions.clear();  // the benchmark account holds the series; nothing is paid to it
  return b.price_adjustment;
}

// One label for the tradable series, or "mixed".
std::string CommonBasis(const std::vector<data::SymbolSeries>& series) {
  std::string out;
  for (const auto& s : series) {
    if (out.empty()) {
      out = s.price_adjustment;
    } else if (out != s.price_adjustment) {
      return "mixed";
    }
  }
  return out;
}

}  // namespace

MarketData LoadMarketData(const BacktestConfig& c) {
  if (!std::filesystem::is_regular_file(c.store_path)) {
    ConfigError(
        c, "data.store",
        fmt::format("no store at {} (create one with `ballast data import --out {} CSV...`)",
                    c.store_path, c.store_path));
  }
  const auto names = data::ListStoreSymbols(c.store_path);
  auto in_store = [&](const std::string& s) {
    return std::binary_search(names.begin(), names.end(), s);
  };
  for (const auto& s : c.strategy.symbols) {
    if (!in_store(s)) {
      ConfigError(c, fmt::format("strategy.targets.{}", s),
                  fmt::format("symbol '{}' is not in the store {} (see `ballast data info`)", s,
                              c.store_path));
    }
  }
  if (!c.benchmark.empty() && !in_store(c.benchmark)) {
    ConfigError(c, "benchmark",
                fmt::format("symbol '{}' is not in the store {}", c.benchmark, c.store_path));
  }
  // Backtests need closes, and opens for next-open fills; other columns are not read.
  data::LoadColumns columns = data::LoadColumns::CloseOnly();
  columns.open = c.fill == sim::FillModel::kNextOpen;
  // With use_history_before_start the panel also holds the bars before `start` (for windows).
  const std::optional<Days> load_from = c.use_history_before_start ? std::nullopt : c.start;
  auto tradable = data::LoadSeries(c.store_path, c.strategy.symbols, load_from, c.end, columns);
  PriceBasisOf(c, tradable);
  std::vector<data::SymbolSeries> extra;
  std::ptrdiff_t bench_col = -1;
  std::string bench_basis;
  // A tradable benchmark shares its column when both sides are on the same (adjusted) prices;
  // otherwise it gets a column of its own on its basis.
  for (std::size_t i = 0; i < c.strategy.symbols.size(); ++i) {
    if (c.strategy.symbols[i] == c.benchmark && c.prices == data::PriceBasis::kAdjusted &&
        !c.benchmark_price_return) {
      bench_col = static_cast<std::ptrdiff_t>(i);
      bench_basis = tradable[i].price_adjustment;
    }
  }
  if (!c.benchmark.empty() && bench_col < 0) {
    extra = data::LoadSeries(c.store_path, {c.benchmark}, load_from, c.end,
                             data::LoadColumns::CloseOnly());
    for (auto& b : extra)
      bench_basis = BenchmarkBasis(c, b);
    bench_col = static_cast<std::ptrdiff_t>(tradable.size());
  }
  const Timestamp from = c.start ? DayToTimestamp(*c.start) : std::numeric_limits<Timestamp>::min();
  auto panel = std::make_shared<BarPanel>(data::BuildPanel(
      tradable, extra, c.use_history_before_start ? std::numeric_limits<Timestamp>::min() : from));

  // The run starts on the first date from `start` on which every target symbol has a bar.
  std::size_t start_row = 0;
  while (start_row < panel->Rows() && panel->Time(start_row) < from)
    ++start_row;
  std::size_t first = panel->Rows();
  for (std::size_t r = start_row; r < panel->Rows() && first == panel->Rows(); ++r) {
    bool all = true;
    for (std::size_t col = 0; col < tradable.size() && all; ++col)
      all = panel->HasBar(r, col);
    if (all) first = r;
  }
  if (first == panel->Rows()) {
    const data::StoreInfo info = data::ReadStoreInfo(c.store_path);
    std::string ranges;
    for (const auto& s : c.strategy.symbols) {
      const auto* si = info.Find(s);
      ranges +=
          fmt::format("{}{} {}..{}", ranges.empty() ? "" : ", ", s,
                      FormatDate(TimestampToDay(si->first)), FormatDate(TimestampToDay(si->last)));
    }
    ConfigError(
        c, "data.start",
        fmt::format("no date in [{}, {}] on which every target symbol has a bar (store has {})",
                    c.start ? FormatDate(*c.start) : "start", c.end ? FormatDate(*c.end) : "end",
                    ranges));
  }
  if (bench_col >= 0 && std::isnan(panel->Close(first, static_cast<std::size_t>(bench_col)))) {
    ConfigError(
        c, "benchmark",
        fmt::format("'{}' has no bar on the run's first date {}; choose another benchmark or start",
                    c.benchmark, FormatDate(panel->Day(first))));
  }
  return MarketData{panel,           first,     c.use_history_before_start ? 0 : first,
                    tradable.size(), bench_col, CommonBasis(tradable),
                    bench_basis};
}

BacktestResult RunBacktest(const BacktestConfig& c, const MarketData& md, RunDetail detail) {
  BacktestResult result;
  result.config = c;
  result.panel = md.panel;
  result.first_row = md.first_row;
  result.tradable = md.tradable;
  result.symbols.assign(md.panel->Symbols().begin(),
                        md.panel->Symbols().begin() + static_cast<std::ptrdiff_t>(md.tradable));
  result.run_tag = c.run_tag;
  result.prices = md.prices;
  result.benchmark_prices = md.benchmark_prices;
  const BarPanel& panel = *md.panel;

  std::vector<Days> days;
  days.reserve(panel.Rows() - md.first_row);
  for (std::size_t r = md.first_row; r < panel.Rows(); ++r)
    days.push_back(panel.Day(r));
  DataSessions sessions(std::move(days));
  SimClock clock;
  Ledger ledger(md.tradable, c.initial_cash, /*allow_borrowing=*/c.max_leverage > 1.0);
  RunRecord& record = result.record;
  record.events_enabled = detail == RunDetail::kFull;
  record.weights_enabled = detail == RunDetail::kFull;
  // The venue checks buying power when a buy fills (cash, plus margin borrowing through the
  // kernel).
  const Kernel* kernel_view = nullptr;
  sim::SimVenue venue(
      panel, sim::SimVenueOptions{c.fill, c.commission, c.slippage_bps, c.shares, c.lot_size},
      [&ledger, &kernel_view] { return kernel_view ? kernel_view->BuyingPower() : ledger.Cash(); });
  OrderManager orders(venue, ledger, record, result.symbols, result.run_tag);
  Planner planner(MakePlannerOptions(c));
  RiskGate risk(c.slippage_bps, c.commission, c.max_leverage);
  std::unique_ptr<Strategy> strategy = c.strategy.make();
  if (!c.cash_flows.empty()) {
    strategy = std::make_unique<strategies::WithCashFlows>(std::move(strategy), c.cash_flows);
  }
  Kernel kernel(
      KernelParts{panel, sessions, clock, *strategy, planner, risk, venue, orders, ledger, record},
      KernelOptions{md.tradable, md.benchmark, true, md.history_row, c.leverage, c.max_leverage,
                    c.interest_rate, c.maintenance, true, c.shares == ShareMode::kWhole,
                    c.reinvest_dividends});
  kernel_view = &kernel;
  data::ReplaySource source(md.first_row, panel.Rows());
  boost::asio::io_context io;
  source.Start(io, kernel);
  io.run();
  result.summary =
      ComputeSummary(record, c.initial_cash, c.risk_free_rate, c.benchmark, c.benchmark_same_flows);
  return result;
}

BacktestResult RunBacktest(const BacktestConfig& config) {
  return RunBacktest(config, LoadMarketData(config));
}

}  // namespace ballast::backtests
