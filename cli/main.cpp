// The thin `ballast` executable: parses the command line, calls the libraries, maps errors to exit
// codes (2 usage/config, 3 data, 1 other) and prints one clear line per error.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ballast/backtests/advise.hpp"
#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/output_dir.hpp"
#include "ballast/backtests/outputs.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/backtests/suite.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/data/csv_import.hpp"
#include "ballast/data/price_basis.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/live/fetch.hpp"
#include "ballast/live/session.hpp"
#include "ballast/strategies/registry.hpp"
#include "json_log.hpp"
#include "stop.hpp"

namespace fs = std::filesystem;
using namespace ballast;

namespace {

std::string DefaultRunDir(const std::string& name) {
  const Timestamp now = WallClock::SystemNow();
  const auto secs = std::chrono::sys_seconds{std::chrono::seconds{now / 1'000'000'000}};
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::hh_mm_ss hms{secs - day};
  std::string stamp = FormatDate(day);
  stamp.erase(std::remove(stamp.begin(), stamp.end(), '-'), stamp.end());
  const std::string base =
      fmt::format("runs/{}-{}-{:02}{:02}{:02}", backtests::Slug(name), stamp, hms.hours().count(),
                  hms.minutes().count(), hms.seconds().count());
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i)
    dir = fmt::format("{}-{}", base, i);
  return dir;
}

// Errors print as one line, whatever a server put in them (a reply body may hold newlines).
std::string OneLine(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// The config's directory is never replaced by outputs, even with --force.
fs::path ConfigDir(const std::string& config) {
  const fs::path dir = fs::path(config).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

void LogNotes(const backtests::OutputDir& dir) {
  for (const auto& note : dir.Notes())
    spdlog::warn("{}", note);
}

int Backtest(const std::string& config, const std::string& out,
             const std::vector<std::string>& sets, bool force, bool quiet, bool workbook) {
  strategies::StrategyRegistry registry;
  strategies::RegisterBuiltinStrategies(registry);
  using Steady = std::chrono::steady_clock;
  auto ms = [](Steady::time_point a, Steady::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto t0 = Steady::now();
  const auto cfg = backtests::LoadBacktestConfig(config, sets, registry);
  // The output directory is checked before any work; nothing is created until the run is done.
  backtests::OutputDir dir(out.empty() ? DefaultRunDir(cfg.name) : out, force, {ConfigDir(config)});
  const auto t1 = Steady::now();
  const auto data = backtests::LoadMarketData(cfg);
  cli::ThrowIfStopped("interrupted before the run; nothing was written");
  const auto t2 = Steady::now();
  const auto result = backtests::RunBacktest(cfg, data);
  cli::ThrowIfStopped("interrupted after the run; nothing was written");
  const auto t3 = Steady::now();
  backtests::WriteRunFiles(result, dir.Begin(), workbook, &cli::StopRequested());
  LogNotes(dir);
  cli::ThrowIfStopped(
      fmt::format("{}: interrupted while writing; nothing was kept", dir.Display()));
  dir.Commit();
  const auto t4 = Steady::now();
  spdlog::debug(
      "config {:.1f} ms, load {:.1f} ms ({} symbols x {} sessions), run {:.1f} ms, outputs {:.1f} "
      "ms",
      ms(t0, t1), ms(t1, t2), data.tradable, data.panel->Rows() - data.first_row, ms(t2, t3),
      ms(t3, t4));
  if (!quiet) {
    std::cout << backtests::SummaryTable(result);
    std::cout << fmt::format(
        "outputs: {}/ (summary.json, equity.csv, trades.csv, weights.csv, events.jsonl, "
        "config.json{}{})\n",
        dir.Display(), workbook ? ", tracking.xlsx" : "",
        result.record.signals.empty() ? "" : ", signals.sqlite");
  }
  return 0;
}

std::atomic<bool> g_kill{false};
extern "C" void OnSigusr1(int) {
  g_kill = true;
}

std::string Clock(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

int Suite(const std::string& path, const std::vector<std::string>& sets, std::string out,
          std::size_t max_runs, int threads, const std::string& sort, bool summaries_only,
          bool workbook, bool force, bool quiet) {
  strategies::StrategyRegistry registry;
  strategies::RegisterBuiltinStrategies(registry);
  const auto suite = backtests::LoadSuite(path, registry, sets, max_runs);
  // Everything goes to a staging directory beside the target, moved into place at the end (also
  // after Ctrl-C, with the runs that finished).
  backtests::OutputDir dir(out.empty() ? DefaultRunDir("suite-" + suite.name) : out, force,
                           {ConfigDir(path)}, /*pick_free_name=*/out.empty());
  const std::string tmp = dir.Begin().string();
  LogNotes(dir);
  out = dir.Display();

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  std::mutex progress_mutex;
  std::size_t last_line = 0;
  backtests::SuiteOptions options;
  options.threads = threads;
  options.out_dir = tmp;
  options.summaries_only = summaries_only;
  options.workbook = workbook;
  options.stop = &cli::StopRequested();
  options.progress = [&](std::size_t done, std::size_t total) {
    if (quiet) return;
    std::lock_guard lock(progress_mutex);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta =
        done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0.0;
    if (tty) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(kWidth * done / total);
      std::cerr << fmt::format("\r[{}{}] {}/{} runs  {} elapsed  ETA {}   ",
                               std::string(filled, '#'), std::string(kWidth - filled, '.'), done,
                               total, Clock(elapsed), Clock(eta))
                << std::flush;
      if (done == total) std::cerr << "\n";
    } else if (done == total || done * 10 / total > last_line) {
      last_line = done * 10 / total;
      std::cerr << fmt::format("suite: {}/{} runs, {} elapsed, ETA {}\n", done, total,
                               Clock(elapsed), Clock(eta));
    }
  };
  spdlog::debug("suite {}: {} runs", suite.name, suite.runs.size());
  const auto result = backtests::RunSuite(suite, options);
  if (tty && result.interrupted && !quiet) std::cerr << "\n";

  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream f(fs::path(tmp) / name, std::ios::binary);
    f << text;
    if (!f) throw Error(ErrorKind::kIo, fmt::format("{}/{}: cannot write", out, name));
  };
  write("comparison.csv", backtests::ComparisonCsv(suite, result));
  write("comparison.json", backtests::ComparisonJson(suite, result, sort));
  if (!summaries_only) {
    // The report lists runs best first by the sort metric.
    std::vector<backtests::ReportRun> ranked;
    for (const auto i : backtests::Rank(suite, result, sort)) {
      if (result.report_runs[i]) ranked.push_back(*result.report_runs[i]);
    }
    write("report.html",
          backtests::RenderReport(fmt::format("{} (sorted by {})", suite.name, sort), ranked));
  }
  dir.Commit();
  if (!quiet) {
    std::cout << backtests::ComparisonTable(suite, result, sort);
    std::cout << fmt::format("outputs: {}/ (comparison.csv, comparison.json, report.html, runs/)\n",
                             out);
  }
  if (result.interrupted) {
    std::cerr << fmt::format("interrupted: {} of {} runs finished; their outputs are kept in {}\n",
                             result.finished, suite.runs.size(), out);
    return cli::InterruptedExitCode();
  }
  return 0;
}

std::vector<std::string> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in)) {
        const std::string n = e.path().filename().string();
        if (e.is_regular_file() && (n.ends_with(".csv") || n.ends_with(".csv.gz")))
          found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty())
        throw Error(ErrorKind::kUsage,
                    fmt::format("{}: no .csv or .csv.gz files in directory", in));
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

int DataImport(const std::string& out, const std::vector<std::string>& inputs,
               const std::vector<std::string>& actions, const std::vector<std::string>& basis,
               const std::string& price, bool skip_invalid, bool force, bool quiet) {
  data::ImportOptions opt;
  opt.price = price == "raw" ? data::PriceMode::kRaw : data::PriceMode::kAdjusted;
  opt.on_invalid = skip_invalid ? data::OnInvalidRow::kSkip : data::OnInvalidRow::kError;
  opt.stop = &cli::StopRequested();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out, ec))) {
    if (!force) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: already exists (use --force to replace it)", out));
    }
    if (!data::IsBallastStore(out)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: exists and is not a ballast bar store; --force replaces only "
                              "stores ballast wrote",
                              out));
    }
  }
  const auto files = ExpandInputs(inputs);
  auto result = data::ImportCsvFiles(files, opt);
  for (const auto& w : result.warnings)
    spdlog::warn("{}", w);
  data::DeclareBasis(result.series, basis);
  for (const auto& a : actions)
    data::MergeActionsFile(a, result.series);
  cli::ThrowIfStopped(fmt::format("{}: import interrupted; nothing written", out));
  data::WriteStore(out, result.series, force);
  if (!quiet) {
    std::size_t rows = 0, splits = 0, dividends = 0;
    for (const auto& s : result.series) {
      rows += s.Rows();
      for (const auto& a : s.actions)
        ++(a.kind == ActionKind::kSplit ? splits : dividends);
    }
    std::cout << fmt::format("wrote {}: {} symbol(s), {} bars from {} file(s)", out,
                             result.series.size(), rows, files.size());
    if (splits + dividends > 0)
      std::cout << fmt::format("; {} split(s), {} dividend(s)", splits, dividends);
    std::cout << "\n";
  }
  return 0;
}

int DataInfo(const std::string& store, bool json) {
  const auto info = data::ReadStoreInfo(store);
  // A symbol without rows has no first or last date.
  auto date = [](const data::StoreSymbolInfo& s, Timestamp t) {
    return s.rows > 0 ? FormatDate(TimestampToDay(t)) : std::string("-");
  };
  if (json) {
    nlohmann::ordered_json out;
    out["path"] = info.path;
    out["format_version"] = info.format_version;
    out["price_adjustment"] = info.price_adjustment;
    out["symbols"] = nlohmann::ordered_json::array();
    for (const auto& s : info.symbols) {
      nlohmann::ordered_json j;
      j["symbol"] = s.symbol;
      j["first"] = s.rows > 0 ? nlohmann::ordered_json(date(s, s.first)) : nullptr;
      j["last"] = s.rows > 0 ? nlohmann::ordered_json(date(s, s.last)) : nullptr;
      j["rows"] = s.rows;
      j["price_adjustment"] = s.price_adjustment;
      j["splits"] = s.splits;
      j["dividends"] = s.dividends;
      out["symbols"].push_back(std::move(j));
    }
    // Names come from the file: replace invalid UTF-8 rather than fail on it.
    std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << fmt::format("{}: ballast bar store v{}, {} symbol(s), prices {}\n", info.path,
                           info.format_version, info.symbols.size(), info.price_adjustment);
  std::cout << fmt::format("{:<10} {:<10} {:<10} {:>7}  {:<14} {}\n", "symbol", "first", "last",
                           "rows", "prices", "notes");
  for (const auto& s : info.symbols) {
    std::string notes;
    if (s.repaired_rows) notes += fmt::format("{} repaired row(s) ", s.repaired_rows);
    if (s.ohlc_warnings) notes += fmt::format("{} OHLC warning(s) ", s.ohlc_warnings);
    if (s.splits) notes += fmt::format("{} split(s) ", s.splits);
    if (s.dividends) notes += fmt::format("{} dividend(s)", s.dividends);
    if (s.rows == 0) notes += "no bars";
    std::cout << fmt::format("{:<10} {:<10} {:<10} {:>7}  {:<14} {}\n", s.symbol, date(s, s.first),
                             date(s, s.last), s.rows, s.price_adjustment, notes);
  }
  // What each label present means.
  static constexpr std::pair<std::string_view, std::string_view> kMeaning[] = {
      {"adjusted", "total return (splits and dividends in the prices)"},
      {"split_adjusted", "price return (splits in the prices, dividends not)"},
      {"raw", "as traded"},
      {"unknown", "the import was not told (data import --basis)"}};
  for (const auto& [label, meaning] : kMeaning) {
    if (std::any_of(info.symbols.begin(), info.symbols.end(),
                    [&](const data::StoreSymbolInfo& s) { return s.price_adjustment == label; }))
      std::cout << fmt::format("  {}: {}\n", label, meaning);
  }
  return 0;
}

int CalendarCmd(const std::string& from_text, const std::string& to_text) {
  const auto from = ParseIsoDate(from_text);
  const auto to = ParseIsoDate(to_text);
  if (!from)
    throw Error(ErrorKind::kUsage, fmt::format("--from {}: expected a date YYYY-MM-DD", from_text));
  if (!to)
    throw Error(ErrorKind::kUsage, fmt::format("--to {}: expected a date YYYY-MM-DD", to_text));
  int sessions = 0;
  for (Days d = *from; d <= *to; d += std::chrono::days{1}) {
    const auto name = NyseCalendar::HolidayName(d);
    if (!name.empty()) std::cout << fmt::format("{}  closed       {}\n", FormatDate(d), name);
    const auto close = NyseCalendar::CloseMinutes(d);
    if (close) {
      ++sessions;
      if (*close != 16 * 60)
        std::cout << fmt::format("{}  early close  {:02}:{:02} New York\n", FormatDate(d),
                                 *close / 60, *close % 60);
    }
  }
  std::cout << fmt::format("{} NYSE sessions from {} to {}\n", sessions, FormatDate(*from),
                           FormatDate(*to));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ballast: backtest and trade rebalancing portfolios through one event loop"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ballast " BALLAST_VERSION);
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log more detail");
  app.add_flag("-q,--quiet", quiet, "Print only errors");
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "Log lines as 'text' (stdout) or 'json' (one JSON object per line on stderr)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  // Subcommands pass options they do not know (-v, -q) up to the app, so they work anywhere.
  app.fallthrough();
  auto* bt = app.add_subcommand("backtest", "Run one backtest from a JSON config");
  std::string bt_config, bt_out;
  std::vector<std::string> bt_sets;
  bool bt_force = false;
  bt->add_option("CONFIG", bt_config, "Backtest config (JSON; paths inside are relative to it)")
      ->required();
  bt->add_option("--out", bt_out, "Output directory (default: runs/<name>-<UTC timestamp>)");
  bt->add_option("--set", bt_sets,
                 "Override a config key: key.path=value (value as JSON, else a string); repeatable")
      ->allow_extra_args(false);
  bt->add_flag("--force", bt_force, "Replace the output directory if it exists");
  bool bt_no_workbook = false;
  bt->add_flag("--no-workbook", bt_no_workbook,
               "Skip tracking.xlsx (the slowest output: about 0.6 s for 470 symbols over 5 years)");

  auto* su = app.add_subcommand("suite", "Run a comparison suite or parameter sweep in parallel");
  std::string su_path, su_out, su_sort = "sharpe";
  int su_threads = 0;
  bool su_summaries = false, su_force = false;
  std::vector<std::string> su_sets;
  su->add_option("SUITE", su_path, "Suite file (JSON; paths inside are relative to it)")
      ->required();
  su->add_option("--out", su_out, "Output directory (default: runs/suite-<name>-<UTC timestamp>)");
  su->add_option("--threads", su_threads, "Worker threads, 0-1024 (default 0: all cores)")
      ->check(CLI::Range(0, 1024));
  su->add_option("--sort", su_sort, "Metric to rank by")
      ->check(CLI::IsMember(backtests::SortKeys()))
      ->capture_default_str();
  su->add_option("--set", su_sets,
                 "Override a key in every run before its own overrides: key.path=value; repeatable")
      ->allow_extra_args(false);
  std::size_t su_max_runs = backtests::kDefaultMaxRuns;
  su->add_option("--max-runs", su_max_runs,
                 "Refuse suites with more runs than this (the grid is counted before it is "
                 "expanded)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  su->add_flag("--summaries-only", su_summaries,
               "Per run, write only summary.json (for big sweeps)");
  su->add_flag("--force", su_force, "Replace the output directory if it exists");
  bool su_no_workbook = false;
  su->add_flag("--no-workbook", su_no_workbook, "Per run, skip tracking.xlsx");

  auto* data = app.add_subcommand("data", "Market data store commands");
  data->require_subcommand(1);
  auto* imp = data->add_subcommand("import", "Write an HDF5 store from CSV files (plain or .gz)");
  std::string imp_out, imp_price = "adjusted";
  std::vector<std::string> imp_inputs;
  bool imp_assume = false, imp_skip = false, imp_force = false;
  imp->add_option("--out", imp_out, "Store to write (HDF5)")->required();
  imp->add_option("INPUT", imp_inputs,
                  "CSV files or directories of them: SYMBOL.csv[.gz] (Yahoo style) or long files "
                  "with a Name/symbol/ticker column")
      ->required();
  imp->add_option(
         "--price", imp_price,
         "With an Adj Close column: keep adjusted prices (O/H/L scaled by adj/close) or raw ones")
      ->check(CLI::IsMember({"adjusted", "raw"}))
      ->capture_default_str();
  std::vector<std::string> imp_actions;
  imp->add_option("--actions", imp_actions,
                  "Corporate actions CSV (symbol,date,type,value; type split = new shares per "
                  "old share, dividend = cash per share on the ex-date); repeatable");
  std::vector<std::string> imp_basis;
  imp->add_option("--basis", imp_basis,
                  "Price basis of files that do not say it (raw, split_adjusted or adjusted; "
                  "SYMBOL=BASIS for one symbol); repeatable. Without it such files are unknown")
      ->type_name("BASIS|SYMBOL=BASIS");
  imp->add_flag("--assume-adjusted", imp_assume,
                "The same as --basis adjusted (e.g. yfinance auto_adjust downloads)");
  imp->add_flag("--skip-invalid", imp_skip, "Skip invalid rows with a warning instead of failing");
  imp->add_flag("--force", imp_force, "Replace the store if it exists");

  auto* info = data->add_subcommand(
      "info", "List a store's symbols, date ranges, row counts and price adjustment");
  std::string info_store;
  bool info_json = false;
  info->add_option("STORE", info_store, "HDF5 store")->required();
  info->add_flag("--json", info_json, "Print JSON");

  auto* fetch = data->add_subcommand(
      "fetch", "Download daily bars from Alpaca's REST API or IB Gateway / TWS into an HDF5 store");
  live::FetchOptions fo;
  std::string fetch_symbols, fetch_start, fetch_end, fetch_provider = "alpaca",
                                                     fetch_timeframe = "1Day";
  fetch
      ->add_option("--provider", fetch_provider,
                   "Data provider: alpaca (keys APCA_API_KEY_ID / APCA_API_SECRET_KEY) or ib (a "
                   "running IB Gateway or TWS with the API enabled)")
      ->check(CLI::IsMember({"alpaca", "ib"}))
      ->capture_default_str();
  fetch->add_option("--symbols", fetch_symbols, "Comma-separated symbols, e.g. SPY,AGG,GLD")
      ->required();
  fetch->add_option("--start", fetch_start, "First date (YYYY-MM-DD)")->required();
  fetch->add_option("--end", fetch_end, "Last date (YYYY-MM-DD; default: latest)");
  fetch->add_option("--timeframe", fetch_timeframe, "Bar size (the store holds daily bars)")
      ->check(CLI::IsMember({"1Day"}))
      ->capture_default_str();
  fetch->add_option("--out", fo.out, "Store to write (HDF5)")->required();
  fetch->add_option("--env-file", fo.env_file,
                    "Read APCA_API_KEY_ID / APCA_API_SECRET_KEY from this file");
  fetch->add_option("--feed", fo.feed, "Alpaca feed: iex (free) or sip")
      ->check(CLI::IsMember({"iex", "sip"}))
      ->capture_default_str();
  fetch->add_flag("--force", fo.force, "Replace the store if it exists");
  fetch
      ->add_option("--what", fo.what,
                   "IB: ADJUSTED_LAST (adjusted for splits and dividends) or TRADES (for splits "
                   "only)")
      ->check(CLI::IsMember({"ADJUSTED_LAST", "TRADES"}))
      ->capture_default_str();
  fetch->add_option("--ib-host", fo.ib_host,
                    "IB: Gateway / TWS host (default: IB_HOST, else 127.0.0.1)");
  fetch->add_option("--ib-port", fo.ib_port,
                    "IB: API port (default: IB_PORT, else 7497, paper TWS; 7496 live TWS, 4002 / "
                    "4001 Gateway paper / live)");
  fetch->add_option(
      "--ib-client-id", fo.ib_client_id,
      "IB: API client id, unused by other connections (default: IB_CLIENT_ID, else 1)");
  fetch
      ->add_option("--pacing-wait", fo.pacing_wait_s,
                   "IB: seconds to wait after a pacing violation (error 162), doubled for each "
                   "retry, 3 retries")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  fetch->add_flag("--actions", fo.actions,
                  "Raw (as traded) bars plus the provider's splits and cash dividends, for "
                  "data.prices raw (default: bars adjusted for both, labelled adjusted)");

  auto* lv = app.add_subcommand(
      "live",
      "Paper or live trading on Alpaca or Interactive Brokers, or on a simulated broker (offline "
      "on the config's history with --broker sim --replay), through the backtest's loop");
  live::LiveOptions lo;
  std::string lv_broker = "alpaca";
  bool lv_paper = false;
  lv->add_option("CONFIG", lo.config_path, "Portfolio config (the backtest's, plus live/broker)")
      ->required();
  lv->add_option("--broker", lv_broker,
                 "alpaca: orders to Alpaca; ib: to Interactive Brokers through IB Gateway / TWS "
                 "(broker.ib, IB_HOST / IB_PORT / IB_CLIENT_ID / IB_ACCOUNT); sim: a simulated "
                 "broker on Alpaca's market data (no account needed beyond data keys), or on the "
                 "config's store with --replay")
      ->check(CLI::IsMember({"alpaca", "ib", "sim"}))
      ->capture_default_str();
  auto* paper_flag = lv->add_flag(
      "--paper", lv_paper, "The paper account (the default; on IB an account id starting DU)");
  lv->add_flag("--live", lo.live, "The live account: real money")->excludes(paper_flag);
  lv->add_flag("--i-understand-this-is-real-money", lo.confirm_live,
               "Required with --live (or live.confirm_live: true in the config)");
  lv->add_flag("--dry-run", lo.dry_run, "Plan, preview and journal the orders; send nothing");
  lv->add_flag("--once", lo.once,
               "Connect, reconcile, run one decision cycle now, wait for fills, write outputs and "
               "exit (for cron); exit 0 done, 5 incomplete");
  lv->add_flag("--force", lo.force, "Rebalance now even when nothing is due");
  lv->add_option("--journal", lo.journal_path, "SQLite journal (default: <out>/journal.sqlite)");
  lv->add_option("--out", lo.out_dir,
                 "Session directory, kept across runs (default: runs/live-<name>; with --replay "
                 "runs/replay-<name>)");
  lv->add_option("--env-file", lo.env_file,
                 "Read APCA_API_KEY_ID / APCA_API_SECRET_KEY from this file, not the environment");
  lv->add_option("--fill-timeout", lo.fill_timeout_s,
                 "Seconds to wait for fills, 1 to 86400 (default: live.fill_timeout_seconds, 120)")
      ->check(CLI::Range(1.0, 86400.0));
  lv->add_option("--metrics-port", lo.metrics_port,
                 "Serve /health, /ready, /metrics on 127.0.0.1:PORT, 1-65535, or 0 for none "
                 "(default: live.metrics_port)")
      ->check(CLI::Range(0, 65535));
  lv->add_option("--set", lo.sets, "Override a config key: key.path=value; repeatable")
      ->allow_extra_args(false);
  lv->add_flag("--replay", lo.replay,
               "With --broker sim: paper-trade the config's data.store from data.start to data.end "
               "as a live service (checks at live.check_time, journal, preview, risk limits, ops "
               "endpoints); no network, no keys (default --out runs/replay-<name>)");
  std::string lv_speed = "max";
  lv->add_option("--speed", lv_speed,
                 "With --replay: N times real time, up to 1e6 (e.g. 3600 = an hour a second), or "
                 "max (as fast as the loop goes)")
      ->capture_default_str();

  auto* sg = app.add_subcommand(
      "signals", "Signal tracker report: win rates, P&L, profit factor, recent and missed signals");
  std::string sg_db, sg_as_of;
  bool sg_json = false;
  int sg_recent = 10;
  sg->add_option("DB", sg_db, "signals.sqlite, or a run directory holding one")->required();
  sg->add_option("--as-of", sg_as_of, "End the 30/90-day windows on this date (YYYY-MM-DD)");
  sg->add_option("--recent", sg_recent, "How many recent and missed signals to list (0-100000)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  sg->add_flag("--json", sg_json, "Print JSON instead of the report");

  auto* adv = app.add_subcommand(
      "advise", "Morning check of a portfolio of holdings with the signal_swap rules");
  backtests::AdviseOptions ao;
  std::string adv_as_of;
  bool adv_json = false;
  adv->add_option("CONFIG", ao.config_path,
                  "Config with a signal_swap strategy and an \"advise\" section (holdings)")
      ->required()
      ->check(CLI::ExistingFile);
  adv->add_option("--as-of", adv_as_of, "Advise as of this date (default: the data's last day)");
  adv->add_flag("--json", adv_json, "Print JSON instead of the report");
  adv->add_option("--db", ao.db, "Append the signals to this tracker database (signals.sqlite)");
  bool adv_broker = false, adv_live = false;
  std::string adv_env_file;
  adv->add_flag("--from-broker", adv_broker,
                "Read holdings and cash from the Alpaca account (read-only; paper unless --live)");
  adv->add_flag("--live", adv_live, "With --from-broker: the live account (nothing is traded)");
  adv->add_option("--env-file", adv_env_file,
                  "With --from-broker: APCA_API_* keys from this file, not the environment");
  adv->add_option("--set", ao.sets, "Override a config key: key.path=value; repeatable")
      ->allow_extra_args(false);

  auto* cal = app.add_subcommand("calendar", "List NYSE holidays and early closes in a date range");
  std::string cal_from = "2026-01-01", cal_to = "2026-12-31";
  cal->add_option("--from", cal_from, "First date (YYYY-MM-DD)")->capture_default_str();
  cal->add_option("--to", cal_to, "Last date (YYYY-MM-DD)")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  cli::UseTextLogs();
  spdlog::set_level(verbose ? spdlog::level::debug
                            : (quiet ? spdlog::level::err : spdlog::level::info));
  if (log_format == "json") cli::UseJsonLogs();
  cli::InstallStopHandlers();
  try {
    if (*bt) return Backtest(bt_config, bt_out, bt_sets, bt_force, quiet, !bt_no_workbook);
    if (*su) {
      return Suite(su_path, su_sets, su_out, su_max_runs, su_threads, su_sort, su_summaries,
                   !su_no_workbook, su_force, quiet);
    }
    if (*imp) {
      if (imp_assume) imp_basis.insert(imp_basis.begin(), "adjusted");
      return DataImport(imp_out, imp_inputs, imp_actions, imp_basis, imp_price, imp_skip, imp_force,
                        quiet);
    }
    if (*info) return DataInfo(info_store, info_json);
    if (*cal) return CalendarCmd(cal_from, cal_to);
    if (*adv) {
      if (!adv_as_of.empty()) {
        ao.as_of = ParseIsoDate(adv_as_of);
        if (!ao.as_of)
          throw Error(ErrorKind::kUsage,
                      fmt::format("--as-of {}: expected a date YYYY-MM-DD", adv_as_of));
      }
      if (adv_live && !adv_broker) throw Error(ErrorKind::kUsage, "--live needs --from-broker");
      if (adv_broker) {
        const auto account =
            live::ReadBrokerPortfolio(ao.config_path, ao.sets, adv_env_file, adv_live);
        ao.holdings.emplace();
        for (const auto& p : account.positions)
          ao.holdings->push_back({p.symbol, p.qty, p.avg_entry_price});
        ao.cash = account.cash;
        ao.holdings_origin = "the Alpaca account at " + account.account;
      }
      strategies::StrategyRegistry reg;
      strategies::RegisterBuiltinStrategies(reg);
      const auto report = backtests::Advise(ao, reg);
      std::cout << (adv_json ? report.json : report.text);
      return 0;
    }
    if (*sg) {
      backtests::SignalsReportOptions so;
      so.recent = static_cast<std::size_t>(sg_recent);
      if (!sg_as_of.empty()) {
        so.as_of = ParseIsoDate(sg_as_of);
        if (!so.as_of)
          throw Error(ErrorKind::kUsage,
                      fmt::format("--as-of {}: expected a date YYYY-MM-DD", sg_as_of));
      }
      std::cout << backtests::SignalsReport(sg_db, so, sg_json);
      return 0;
    }
    if (*fetch) {
      fo.symbols = fetch_symbols;
      fo.start = fetch_start;
      fo.end = fetch_end;
      fo.quiet = quiet;
      fo.provider = fetch_provider;
      return live::FetchBars(fo);
    }
    if (*lv) {
      lo.broker = lv_broker == "sim"  ? live::BrokerKind::kSim
                  : lv_broker == "ib" ? live::BrokerKind::kIb
                                      : live::BrokerKind::kAlpaca;
      if (lv->count("--speed") && !lo.replay) {
        throw Error(ErrorKind::kUsage, "--speed needs --replay");
      }
      if (lv_speed != "max") {
        // A number, checked like the config's: positive, finite, the whole text.
        char* end = nullptr;
        const double v = std::strtod(lv_speed.c_str(), &end);
        // Above a million times real time a check's 15 minutes to the close pass in under a
        // millisecond of work: that is what max is for.
        if (end == lv_speed.c_str() || *end != '\0' || !std::isfinite(v) || !(v > 0.0) || v > 1e6) {
          throw Error(
              ErrorKind::kUsage,
              fmt::format("--speed: expected max or a number in (0, 1e6], got '{}'", lv_speed));
        }
        lo.speed = v;
      }
      lo.quiet = quiet;
      lo.stop = &cli::StopRequested();
      lo.kill = &g_kill;
      std::signal(SIGUSR1, OnSigusr1);
      return live::RunLive(lo);
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInterrupted) {
      std::cerr << "interrupted: " << OneLine(e.what()) << "\n";
      return cli::InterruptedExitCode();
    }
    std::cerr << "error: " << OneLine(e.what()) << "\n";
    return ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "error: " << OneLine(Redact(e.what())) << "\n";
    return 1;
  }
  return 0;
}
