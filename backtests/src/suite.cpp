#include "ballast/backtests/suite.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include "ballast/backtests/outputs.hpp"
#include "ballast/engine/error.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

// A set value as text for labels: strings without quotes, everything else as JSON.
std::string ValueText(const ConfigNode& v) {
  return v.IsString() ? v.String() : v.Dump();
}

struct Variant {
  std::string label;
  std::vector<std::pair<std::string, std::string>> sets;  // path, JSON value
};

std::vector<Variant> ParseVariants(const ConfigNode& root, std::size_t bases,
                                   std::size_t max_runs) {
  const auto variants = root.Find("variants");
  const auto grid = root.Find("grid");
  if (variants && grid) grid->Fail("either \"variants\" or \"grid\", not both");
  std::vector<Variant> out;
  if (variants) {
    if (!variants->IsArray() || variants->Size() == 0)
      variants->Fail("a non-empty array of {\"label\", \"set\"}");
    if (static_cast<double>(variants->Size()) * static_cast<double>(bases) >
        static_cast<double>(max_runs)) {
      throw Error(ErrorKind::kConfig,
                  fmt::format("variants: {} base(s) x {} variants = {} runs, more than the limit "
                              "of {} (raise it with --max-runs)",
                              bases, variants->Size(), bases * variants->Size(), max_runs));
    }
    for (std::size_t i = 0; i < variants->Size(); ++i) {
      const ConfigNode v = variants->Index(i);
      v.ExpectKeys({"label", "set"});
      Variant var{v.At("label").String(), {}};
      if (var.label.empty()) v.At("label").Fail("a non-empty label");
      if (auto set = v.Find("set")) {
        if (!set->IsObject()) set->Fail("an object of {\"key.path\": value}");
        for (const auto& key : set->Keys())
          var.sets.emplace_back(key, set->ChildJson(key));
      }
      out.push_back(std::move(var));
    }
  } else if (grid) {
    if (!grid->IsObject() || grid->Keys().empty())
      grid->Fail("an object of {\"key.path\": [values]}");
    // Counted before anything is expanded: a few hundred bytes of grid can ask for 10^8 runs.
    double count = static_cast<double>(bases);
    std::string sizes;
    for (const auto& key : grid->Keys()) {
      const ConfigNode values = grid->At(key);
      if (!values.IsArray() || values.Size() == 0) values.Fail("a non-empty array of values");
      count *= static_cast<double>(values.Size());
      sizes += fmt::format("{}{}", sizes.empty() ? "" : " x ", values.Size());
    }
    if (count > static_cast<double>(max_runs)) {
      throw Error(ErrorKind::kConfig,
                  fmt::format("{}: grid: {} base(s) x {} values = {:.0f} runs, more than the "
                              "limit of {} (raise it with --max-runs, or shard the sweep)",
                              root.Find("grid")->Path(), bases, sizes, count, max_runs));
    }
    out.push_back({"", {}});
    for (const auto& key : grid->Keys()) {
      const ConfigNode values = grid->At(key);
      if (!values.IsArray() || values.Size() == 0) values.Fail("a non-empty array of values");
      std::vector<Variant> next;
      for (const auto& partial : out) {
        for (std::size_t i = 0; i < values.Size(); ++i) {
          Variant v = partial;
          const ConfigNode value = values.Index(i);
          const auto dot = key.rfind('.');
          const std::string short_key = dot == std::string::npos ? key : key.substr(dot + 1);
          v.label +=
              fmt::format("{}{}={}", v.label.empty() ? "" : ", ", short_key, ValueText(value));
          v.sets.emplace_back(key, value.Dump());
          next.push_back(std::move(v));
        }
      }
      out = std::move(next);
    }
  } else {
    out.push_back({"base", {}});
  }
  return out;
}

std::string DataKey(const BacktestConfig& c) {
  std::string key = c.store_path + '|';
  for (const auto& s : c.strategy.symbols)
    key += s + ',';
  key += fmt::format("|{}|{}|{}|{}|{}|{}|{}", c.start ? FormatDate(*c.start) : "",
                     c.end ? FormatDate(*c.end) : "", c.benchmark,
                     c.fill == sim::FillModel::kNextOpen ? "open" : "close",
                     c.use_history_before_start ? "history" : "", static_cast<int>(c.prices),
                     c.benchmark_price_return ? "price" : "total");
  return key;
}

}  // namespace

BacktestConfig Suite::Config(std::size_t i) const {
  const SuiteRun& run = runs[i];
  ConfigDocument doc = base_docs_[run.base]->Clone();
  for (const auto& g : global_sets_)
    doc.ApplySet(g);
  for (const auto& [key, value] : run.sets)
    doc.SetJson(key, value);
  BacktestConfig c = ParseBacktestConfig(doc, *registry_);
  c.name = run.label;
  return c;
}

std::vector<std::string> Suite::SetTexts(std::size_t i) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : runs[i].sets)
    out.push_back(fmt::format("{}={}", key, value));
  return out;
}

Suite LoadSuite(const std::string& path, const strategies::StrategyRegistry& registry,
                const std::vector<std::string>& global_sets, std::size_t max_runs) {
  const ConfigDocument doc = ConfigDocument::FromFile(path);
  const ConfigNode root = doc.Root();
  root.ExpectKeys({"name", "description", "base", "variants", "grid"});
  Suite suite;
  suite.origin = path;
  suite.registry_ = &registry;
  suite.global_sets_ = global_sets;
  suite.name = root.StringOr("name", fs::path(path).stem().string());
  // Bases: a path, or a list of paths or {"label", "config"} objects.
  std::vector<std::string> base_labels;
  const ConfigNode base = root.At("base");
  auto add_base = [&](const ConfigNode& b) {
    if (b.IsString()) {
      suite.base_paths.push_back(b.String());
      base_labels.push_back(fs::path(suite.base_paths.back()).stem().string());
    } else if (b.IsObject()) {
      b.ExpectKeys({"label", "config"});
      suite.base_paths.push_back(b.At("config").String());
      base_labels.push_back(b.At("label").String());
    } else {
      b.Fail("a config path or {\"label\": ..., \"config\": path}");
    }
  };
  if (base.IsArray() && base.Size() > 0) {
    for (std::size_t i = 0; i < base.Size(); ++i)
      add_base(base.Index(i));
  } else if (base.IsString() || base.IsObject()) {
    add_base(base);
  } else {
    base.Fail("a config path or a non-empty list of them (relative to the suite file)");
  }
  for (auto& b : suite.base_paths) {
    fs::path p(b);
    if (p.is_relative()) p = fs::path(path).parent_path() / p;
    b = p.lexically_normal().string();
    suite.base_docs_.push_back(std::make_shared<const ConfigDocument>(ConfigDocument::FromFile(b)));
  }
  const auto variants = ParseVariants(root, suite.base_paths.size(), max_runs);
  std::map<std::string, std::size_t> data_index;
  for (std::size_t bi = 0; bi < suite.base_paths.size(); ++bi) {
    for (const auto& variant : variants) {
      SuiteRun run;
      run.base = bi;
      run.label = suite.base_paths.size() > 1
                      ? fmt::format("{} / {}", base_labels[bi], variant.label)
                      : variant.label;
      run.sets = variant.sets;
      suite.runs.push_back(std::move(run));
      // Validate now (a bad variant fails before anything runs); keep only what is small.
      const std::size_t i = suite.runs.size() - 1;
      try {
        const BacktestConfig c = suite.Config(i);
        const auto [it, inserted] = data_index.emplace(DataKey(c), data_index.size());
        if (inserted) suite.data_representatives.push_back(i);
        suite.runs[i].data = it->second;
      } catch (const Error& e) {
        throw Error(e.kind(),
                    fmt::format("{}: run \"{}\": {}", path, suite.runs[i].label, e.what()));
      }
    }
  }
  std::map<std::string, int> seen;
  for (const auto& r : suite.runs) {
    if (seen[r.label]++ > 0) {
      throw Error(
          ErrorKind::kConfig,
          fmt::format("{}: two runs are labelled \"{}\"; labels must be unique", path, r.label));
    }
  }
  return suite;
}

SuiteResult RunSuite(const Suite& suite, const SuiteOptions& options) {
  SuiteResult result;
  const std::size_t n = suite.runs.size();
  result.summaries.resize(n);
  result.report_runs.resize(n);
  // Market data: one load per distinct need, shared read-only by every run that needs it.
  std::vector<MarketData> data;
  for (const std::size_t rep : suite.data_representatives)
    data.push_back(LoadMarketData(suite.Config(rep)));
  result.data_sets = data.size();
  std::atomic<std::size_t> done{0};
  std::atomic<bool> skipped{false};
  auto run_one = [&](std::size_t i) {
    if (options.stop != nullptr && options.stop->load()) {
      skipped = true;
      return;
    }
    const BacktestConfig config = suite.Config(i);
    const auto detail =
        options.out_dir.empty() || options.summaries_only ? RunDetail::kSummary : RunDetail::kFull;
    const auto r = RunBacktest(config, data[suite.runs[i].data], detail);
    if (!options.out_dir.empty()) {
      const std::string dir = (fs::path(options.out_dir) / "runs" /
                               fmt::format("{:03}-{}", i + 1, Slug(suite.runs[i].label)))
                                  .string();
      if (options.summaries_only) {
        WriteRunSummary(r, dir);
      } else {
        // Inside the suite's own staging directory: written in place.
        fs::create_directories(dir);
        WriteRunFiles(r, dir, options.workbook);
        result.report_runs[i] = MakeReportRun(r);  // each worker writes its own slot
      }
    }
    result.summaries[i] = r.summary;  // each worker writes its own slot
    const std::size_t d = ++done;
    if (options.progress) options.progress(d, n);
  };
  const int threads =
      options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                        for (std::size_t i = range.begin(); i != range.end(); ++i)
                          run_one(i);
                      });
  });
  result.finished = done.load();
  result.interrupted = skipped.load();
  return result;
}

const std::vector<std::string>& SortKeys() {
  static const std::vector<std::string> keys{"sharpe",       "cagr",
                                             "volatility",   "sortino",
                                             "max_drawdown", "calmar",
                                             "turnover",     "fees",
                                             "alpha",        "beta",
                                             "final_value",  "rebalances",
                                             "total_return", "irr",
                                             "win_rate",     "avg_holding_days",
                                             "vs_benchmark", "benchmark_final_value",
                                             "benchmark_irr"};
  return keys;
}

double MetricValue(const Summary& s, std::string_view key) {
  const double nan = std::nan("");
  if (key == "sharpe") return s.sharpe;
  if (key == "cagr") return s.cagr;
  if (key == "volatility") return s.volatility;
  if (key == "sortino") return s.sortino;
  if (key == "max_drawdown") return s.max_drawdown;
  if (key == "calmar") return s.calmar;
  if (key == "turnover") return s.turnover;
  if (key == "fees") return s.fees;
  if (key == "alpha") return s.benchmark ? s.benchmark->alpha : nan;
  if (key == "beta") return s.benchmark ? s.benchmark->beta : nan;
  if (key == "final_value") return s.final_value;
  if (key == "rebalances") return static_cast<double>(s.rebalances);
  if (key == "total_return") return s.total_return;
  if (key == "irr") return s.irr ? *s.irr : nan;
  if (key == "win_rate") return s.win_rate;
  if (key == "vs_benchmark") return s.benchmark ? s.cagr - s.benchmark->cagr : nan;
  if (key == "avg_holding_days") return s.avg_holding_days;
  if (key == "benchmark_final_value") return s.benchmark ? s.benchmark->final_value : nan;
  if (key == "benchmark_irr") return s.benchmark && s.benchmark->irr ? *s.benchmark->irr : nan;
  return nan;
}

bool HigherIsBetter(std::string_view key) {
  return !(key == "volatility" || key == "turnover" || key == "fees" || key == "rebalances" ||
           key == "beta");
}

std::vector<std::size_t> Rank(const Suite& suite, const SuiteResult& result, std::string_view key) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < suite.runs.size(); ++i) {
    if (result.summaries[i]) idx.push_back(i);
  }
  const bool higher = HigherIsBetter(key);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    const double va = MetricValue(*result.summaries[a], key);
    const double vb = MetricValue(*result.summaries[b], key);
    if (std::isnan(va) || std::isnan(vb)) return !std::isnan(va) && std::isnan(vb);
    return higher ? va > vb : va < vb;
  });
  return idx;
}

namespace {

struct Column {
  const char* header;
  const char* key;
  bool percent;
};
constexpr Column kColumns[] = {
    {"CAGR", "cagr", true},
    {"vol", "volatility", true},
    {"Sharpe", "sharpe", false},
    {"Sortino", "sortino", false},
    {"max DD", "max_drawdown", true},
    {"Calmar", "calmar", false},
    {"turnover", "turnover", true},
    {"fees", "fees", false},
    {"vs bench", "vs_benchmark", true},
    {"alpha", "alpha", true},
    {"beta", "beta", false},
    {"final", "final_value", false},
    {"bench fin", "benchmark_final_value", false},
    {"rebal", "rebalances", false},
    {"win", "win_rate", true},
    {"hold d", "avg_holding_days", false},
};

}  // namespace

std::string ComparisonTable(const Suite& suite, const SuiteResult& result, std::string_view key) {
  const auto order = Rank(suite, result, key);
  std::size_t width = 5;
  for (const auto i : order)
    width = std::max(width, suite.runs[i].label.size());
  width = std::min<std::size_t>(width, 48);
  std::string out =
      fmt::format("{}: {} of {} runs, sorted by {} ({})\n", suite.name, result.finished,
                  suite.runs.size(), key, HigherIsBetter(key) ? "higher first" : "lower first");
  out += fmt::format("{:>3}  {:<{}}", "#", "run", width);
  for (const auto& c : kColumns)
    out += fmt::format(" {:>9}", c.header);
  out += '\n';
  std::size_t rank = 0;
  for (const auto i : order) {
    std::string label = suite.runs[i].label;
    if (label.size() > width) {
      label.resize(width - 3);
      label += "...";
    }
    out += fmt::format("{:>3}  {:<{}}", ++rank, label, width);
    for (const auto& c : kColumns) {
      const double v = MetricValue(*result.summaries[i], c.key);
      if (std::isnan(v)) {
        out += fmt::format(" {:>9}", "-");
      } else if (c.percent) {
        out += fmt::format(" {:>8.2f}%", v * 100.0);
      } else if (std::string_view(c.key) == "final_value" ||
                 std::string_view(c.key) == "benchmark_final_value" ||
                 std::string_view(c.key) == "fees") {
        out += fmt::format(" {:>9.0f}", v);
      } else if (std::string_view(c.key) == "rebalances" ||
                 std::string_view(c.key) == "avg_holding_days") {
        out += fmt::format(" {:>9.0f}", v);
      } else {
        out += fmt::format(" {:>9.3f}", v);
      }
    }
    out += '\n';
  }
  // Runs with different money in them (DCA, cash flows) compare only by time-weighted metrics.
  bool mixed = false;
  for (const auto i : order) {
    mixed = mixed || result.summaries[i]->net_flows != result.summaries[order.front()]->net_flows;
  }
  if (mixed) {
    const bool by_money = key == "final_value";
    out += by_money
               ? fmt::format(
                     "note: these runs had different contributions or withdrawals, and {} counts "
                     "the money put in; sort by a time-weighted metric (sharpe, cagr, "
                     "total_return) to compare the strategies\n",
                     key)
               : std::string(
                     "note: these runs had different contributions or withdrawals; the "
                     "metrics shown are time-weighted (flows never count as return) except "
                     "final and bench fin (each run's benchmark got that run's flows)\n");
  }
  return out;
}

std::string ComparisonCsv(const Suite& suite, const SuiteResult& result) {
  std::string out = "run,label,base";
  for (const auto& k : SortKeys()) {
    out += ',';
    out += k;
  }
  out += ",sets\n";
  for (std::size_t i = 0; i < suite.runs.size(); ++i) {
    if (!result.summaries[i]) continue;
    const auto& r = suite.runs[i];
    std::string sets;
    for (const auto& s : suite.SetTexts(i)) {
      if (!sets.empty()) sets += "; ";
      sets += s;
    }
    auto quote = [](const std::string& s) {
      std::string q(1, '"');
      for (char c : s) {
        if (c == '"') q.push_back('"');
        q.push_back(c);
      }
      q.push_back('"');
      return q;
    };
    out += fmt::format("{},{},{}", i + 1, quote(r.label),
                       quote(fs::path(suite.base_paths[r.base]).filename().string()));
    for (const auto& k : SortKeys()) {
      const double v = MetricValue(*result.summaries[i], k);
      out += ',';
      if (!std::isnan(v)) out += JsonNumber(v);
    }
    out += ',';
    out += quote(sets);
    out += '\n';
  }
  return out;
}

std::string ComparisonJson(const Suite& suite, const SuiteResult& result, std::string_view key) {
  std::string runs = "[";
  for (std::size_t i = 0; i < suite.runs.size(); ++i) {
    if (!result.summaries[i]) continue;
    const auto& r = suite.runs[i];
    JsonFields f;
    f.Add("run", static_cast<std::uint64_t>(i + 1))
        .Add("label", r.label)
        .Add("base", suite.base_paths[r.base]);
    std::string sets = "[";
    for (const auto& s : suite.SetTexts(i)) {
      if (sets.size() > 1) sets += ',';
      AppendJsonString(sets, s);
    }
    sets += ']';
    f.AddRaw("set", sets);
    for (const auto& k : SortKeys())
      f.Add(k, MetricValue(*result.summaries[i], k));
    if (runs.size() > 1) runs += ",\n  ";
    runs += '{';
    runs += f.Text();
    runs += '}';
  }
  runs += ']';
  std::string ranking = "[";
  for (const auto i : Rank(suite, result, key)) {
    if (ranking.size() > 1) ranking += ',';
    ranking += std::to_string(i + 1);
  }
  ranking += ']';
  JsonFields top;
  top.Add("suite", suite.name)
      .Add("runs_total", static_cast<std::uint64_t>(suite.runs.size()))
      .Add("runs_finished", static_cast<std::uint64_t>(result.finished))
      .Add("interrupted", result.interrupted)
      .Add("sort", key)
      .AddRaw("ranking", ranking)
      .AddRaw("runs", runs);
  std::string json(1, '{');
  json += top.Text();
  json += "}\n";
  return json;
}

}  // namespace ballast::backtests
