#include "ballast/backtests/outputs.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ballast/backtests/output_dir.hpp"
#include "ballast/backtests/report.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/backtests/tracking_workbook.hpp"
#include "ballast/engine/error.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

std::string Date(Timestamp t) {
  return FormatDate(TimestampToDay(t));
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw Error(ErrorKind::kIo, fmt::format("{}: cannot write", path.string()));
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

using Buffer = fmt::memory_buffer;

// Shortest round-trip double (as JsonNumber) appended without a temporary string.
void Put(Buffer& out, double v) {
  if (!std::isfinite(v)) return;  // empty cell
  char buf[32];
  out.append(buf, FormatShortest(buf, v));
}

// Weights: 12 decimal places (trailing zeros trimmed) by integer arithmetic, ~20x cheaper than a
// shortest round-trip conversion; weights.csv of a 470-symbol daily run has 600k cells.
void PutWeight(Buffer& out, double v) {
  const double a = std::abs(v);
  if (!std::isfinite(v) || a >= 1e6) {
    Put(out, v);
    return;
  }
  constexpr std::uint64_t kScale = 1'000'000'000'000ULL;
  const auto q = static_cast<std::uint64_t>(std::llround(a * 1e12));
  if (q == 0) {
    out.push_back('0');
    return;
  }
  if (v < 0) out.push_back('-');
  char buf[40];
  char* end = std::to_chars(buf, buf + 20, q / kScale).ptr;
  std::uint64_t frac = q % kScale;
  if (frac != 0) {
    *end++ = '.';
    char digits[12];
    for (int i = 11; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int n = 12;
    while (digits[n - 1] == '0')
      --n;
    end = std::copy(digits, digits + n, end);
  }
  out.append(buf, end);
}

void Put(Buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

void PutDate(Buffer& out, Timestamp t) {
  char d[10];
  FormatDateTo(TimestampToDay(t), d);
  out.append(d, d + 10);
}

std::string_view View(const Buffer& b) {
  return {b.data(), b.size()};
}

void EquityCsv(const BacktestResult& r, Buffer& out) {
  const RunRecord& rec = r.record;
  out.reserve(rec.times.size() * 160);
  Put(out, "date,equity,cash,positions_value,daily_return,drawdown,flow,benchmark_equity\n");
  // Returns and drawdown are time-weighted, as in summary.json: a contribution is not a return.
  const std::vector<double> index = TimeWeightedIndex(rec, r.config.initial_cash);
  double peak = 0.0;
  const bool has_bench = !r.config.benchmark.empty() && !rec.benchmark.empty();
  const std::vector<double> bench =
      has_bench ? BenchmarkAccount(rec.benchmark, rec.flows, r.config.initial_cash,
                                   r.config.benchmark_same_flows)
                : std::vector<double>{};
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    const double v = rec.equity[t];
    peak = std::max(peak, index[t]);
    const double ret = t == 0 ? index[0] - 1.0 : index[t] / index[t - 1] - 1.0;
    PutDate(out, rec.times[t]);
    for (double x : {v, rec.cash[t], v - rec.cash[t], ret, peak > 0 ? index[t] / peak - 1.0 : 0.0,
                     rec.flows[t]}) {
      out.push_back(',');
      Put(out, x);
    }
    out.push_back(',');
    if (has_bench && std::isfinite(bench[t])) Put(out, bench[t]);
    out.push_back('\n');
  }
}

void TradesCsv(const BacktestResult& r, Buffer& out) {
  out.reserve(r.record.trades.size() * 120 + 100);
  Put(out,
      "date,decision,client_order_id,symbol,side,quantity,price,notional,commission,slippage\n");
  for (const auto& t : r.record.trades) {
    const std::string sym = CsvField(r.symbols[t.symbol]);
    PutDate(out, t.time);
    fmt::format_to(std::back_inserter(out), ",{},{}-{}-{},{},{},", t.decision, r.run_tag,
                   t.decision, sym, sym, ToString(t.side));
    for (double x : {t.quantity, t.price, t.quantity * t.price, t.commission}) {
      Put(out, x);
      out.push_back(',');
    }
    Put(out, t.slippage);
    out.push_back('\n');
  }
}

void WeightsCsv(const BacktestResult& r, Buffer& out) {
  const RunRecord& rec = r.record;
  out.reserve(rec.times.size() * (rec.symbols * 16 + 32));
  Put(out, "date");
  for (const auto& s : r.symbols) {
    out.push_back(',');
    Put(out, CsvField(s));
  }
  Put(out, ",cash\n");
  const std::size_t n = rec.symbols;
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    PutDate(out, rec.times[t]);
    for (std::size_t c = 0; c < n; ++c) {
      out.push_back(',');
      PutWeight(out, rec.weights[t * n + c]);
    }
    out.push_back(',');
    PutWeight(out, rec.equity[t] != 0.0 ? rec.cash[t] / rec.equity[t] : 0.0);
    out.push_back('\n');
  }
}

std::string EventsJsonl(const BacktestResult& r) {
  std::string out;
  for (const auto& e : r.record.events) {
    out += "{\"date\":\"" + Date(e.time) + "\",\"type\":";
    AppendJsonString(out, e.type);
    if (!e.fields_json.empty()) {
      out += ',';
      out += e.fields_json;
    }
    out += "}\n";
  }
  return out;
}

}  // namespace

std::string Slug(std::string_view name) {
  std::string out;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "run" : out;
}

std::string SummaryJson(const BacktestResult& r) {
  const Summary& s = r.summary;
  JsonFields f;
  f.Add("name", r.config.name)
      .Add("strategy", r.config.strategy.type)
      .Add("start", Date(s.start))
      .Add("end", Date(s.end))
      .Add("sessions", s.sessions)
      .Add("calendar_days", s.calendar_days)
      .Add("initial_value", s.initial_value)
      .Add("final_value", s.final_value)
      .Add("total_return", s.total_return)
      .Add("cagr", s.cagr)
      .Add("volatility", s.volatility)
      .Add("sharpe", s.sharpe)
      .Add("sortino", s.sortino)
      .Add("max_drawdown", s.max_drawdown)
      .Add("max_drawdown_peak", Date(s.max_drawdown_peak))
      .Add("max_drawdown_trough", Date(s.max_drawdown_trough));
  if (s.max_drawdown_recovery) {
    f.Add("max_drawdown_recovery", Date(*s.max_drawdown_recovery));
  } else {
    f.AddRaw("max_drawdown_recovery", "null");
  }
  f.Add("calmar", s.calmar)
      .Add("turnover", s.turnover)
      .Add("fees", s.fees)
      .Add("commissions", s.commissions)
      .Add("slippage", s.slippage)
      .Add("trades", s.trades)
      .Add("rebalances", s.rebalances)
      .Add("closed_trades", s.closed_trades)
      .Add("winning_trades", s.winning_trades)
      .Add("investments", s.investments)
      .Add("total_contributed", s.total_contributed)
      .Add("total_withdrawn", s.total_withdrawn)
      .Add("net_flows", s.net_flows)
      .Add("profit", s.profit);
  if (s.irr) {
    f.Add("irr", *s.irr);
  } else {
    f.AddRaw("irr", "null");
  }
  f.Add("margin_interest", s.margin_interest).Add("max_gross_leverage", s.max_gross_leverage);
  f.Add("prices", r.prices);
  f.Add("dividends_received", s.dividends_received);
  f.Add("cost_ratio", s.cost_ratio);
  f.Add("win_rate", s.win_rate)
      .Add("avg_holding_days", s.avg_holding_days);  // null without closed trades
  for (const auto& [key, json] : r.record.summary_fields)
    f.AddRaw(key, json);
  std::string years = "[";
  for (const auto& y : s.costs_by_year) {
    if (years.size() > 1) years += ',';
    years += '{';
    years += JsonFields()
                 .Add("year", y.year)
                 .Add("commissions", y.commissions)
                 .Add("slippage", y.slippage)
                 .Add("average_value", y.average_value)
                 .Add("cost_ratio", y.cost_ratio)
                 .Text();
    years += '}';
  }
  f.AddRaw("costs_by_year", years + "]");
  f.Add("risk_free_rate", s.risk_free_rate);
  if (s.benchmark) {
    const auto& b = *s.benchmark;
    JsonFields bf;
    bf.Add("symbol", b.symbol)
        .Add("flows", b.same_flows ? "same" : "none")
        .Add("prices", r.benchmark_prices)
        .Add("final_value", b.final_value);
    if (b.irr) {
      bf.Add("irr", *b.irr);
    } else {
      bf.AddRaw("irr", "null");
    }
    bf.Add("total_return", b.total_return)
        .Add("cagr", b.cagr)
        .Add("volatility", b.volatility)
        .Add("beta", b.beta)
        .Add("alpha", b.alpha)
        .Add("correlation", b.correlation)
        .Add("tracking_error", b.tracking_error)
        .Add("information_ratio", b.information_ratio);
    f.AddRaw("benchmark", "{" + bf.Text() + "}");
  } else {
    f.AddRaw("benchmark", "null");
  }
  // Pretty-print one key per line for diff-friendly golden files.
  std::string out = "{\n  ";
  const std::string& text = f.Text();
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == '{' || c == '[')) ++depth;
    if (!in_string && (c == '}' || c == ']')) --depth;
    if (!in_string && c == ',' && depth == 0) {
      out += ",\n  ";
    } else if (!in_string && c == ':' && depth == 0) {
      out += ": ";
    } else {
      out += c;
    }
  }
  out += "\n}\n";
  return out;
}

void WriteRunSummary(const BacktestResult& r, const std::string& dir) {
  fs::create_directories(dir);
  WriteFile(fs::path(dir) / "summary.json", SummaryJson(r));
}

std::string SummaryTable(const BacktestResult& r) {
  const Summary& s = r.summary;
  auto pct = [](double v) { return fmt::format("{:.2f}%", v * 100.0); };
  std::string out;
  out += fmt::format("{}  ({}, {} .. {}, {} sessions)\n", r.config.name, r.config.strategy.type,
                     Date(s.start), Date(s.end), s.sessions);
  auto row = [&](std::string_view k, const std::string& v, const std::string& b = "") {
    out += fmt::format("  {:<18} {:>16}  {}\n", k, v, b);
  };
  const bool hb = s.benchmark.has_value();
  out += fmt::format("  {:<18} {:>16}  {}\n", "", "portfolio",
                     hb ? "benchmark " + s.benchmark->symbol : "");
  row("final value", fmt::format("{:.2f}", s.final_value),
      hb ? fmt::format("{:.2f}", s.benchmark->final_value) : "");
  row("total return", pct(s.total_return), hb ? pct(s.benchmark->total_return) : "");
  row("CAGR", pct(s.cagr), hb ? pct(s.benchmark->cagr) : "");
  row("volatility", pct(s.volatility), hb ? pct(s.benchmark->volatility) : "");
  row("Sharpe", fmt::format("{:.4f}", s.sharpe));
  row("Sortino", fmt::format("{:.4f}", s.sortino));
  row("max drawdown", pct(s.max_drawdown),
      fmt::format("{} .. {}", Date(s.max_drawdown_peak), Date(s.max_drawdown_trough)));
  row("Calmar", fmt::format("{:.4f}", s.calmar));
  if (hb) {
    row("beta / alpha", fmt::format("{:.4f} / {}", s.benchmark->beta, pct(s.benchmark->alpha)));
    row("tracking error", pct(s.benchmark->tracking_error),
        fmt::format("information ratio {:.4f}", s.benchmark->information_ratio));
  }
  {
    // Which prices each side ran on: a comparison of price return with total return is not fair.
    std::string note;
    if (hb) {
      note = "benchmark " + r.benchmark_prices;
      if (r.benchmark_prices == "adjusted" && r.prices == "split_adjusted" &&
          s.dividends_received == 0.0) {
        note += ": dividends count for the benchmark only";
      } else if (r.prices == "unknown" || r.prices == "mixed") {
        note += ": see `ballast data info`";
      }
    }
    row("prices", r.prices, note);
  }
  if (s.dividends_received > 0.0) row("dividends", fmt::format("{:.2f}", s.dividends_received));
  row("turnover / year", pct(s.turnover));
  row("fees", fmt::format("{:.2f}", s.fees));
  if (s.investments > 0 || s.total_contributed != s.initial_value || s.total_withdrawn > 0) {
    row("contributed", fmt::format("{:.2f}", s.total_contributed),
        s.total_withdrawn > 0 ? fmt::format("withdrawn {:.2f}", s.total_withdrawn) : "");
    row("profit", fmt::format("{:.2f}", s.profit), s.irr ? fmt::format("IRR {}", pct(*s.irr)) : "");
    if (hb) {
      // Which money each side had: the comparison is only fair with the same flows.
      const auto& b = *s.benchmark;
      row("benchmark money",
          b.same_flows ? std::string("same flows") : std::string("initial value only"),
          b.irr ? fmt::format("IRR {}", pct(*b.irr)) : "");
    }
    row("investments", fmt::format("{}", s.investments));
  }
  row("rebalances", fmt::format("{}", s.rebalances), fmt::format("{} trades", s.trades));
  if (s.closed_trades > 0) {
    row("win rate", pct(s.win_rate),
        fmt::format("{} of {} closed trades; held {:.0f} days on average", s.winning_trades,
                    s.closed_trades, s.avg_holding_days));
  }
  return out;
}

void WriteRunFiles(const BacktestResult& r, const std::filesystem::path& dir, bool workbook,
                   const std::atomic<bool>* stop) {
  auto step = [&] {
    if (stop != nullptr && stop->load()) {
      throw Error(ErrorKind::kInterrupted,
                  fmt::format("{}: interrupted while writing", dir.string()));
    }
  };
  WriteFile(dir / "config.json", r.config.resolved_json);
  Buffer buf;
  EquityCsv(r, buf);
  WriteFile(dir / "equity.csv", View(buf));
  buf.clear();
  TradesCsv(r, buf);
  WriteFile(dir / "trades.csv", View(buf));
  buf.clear();
  WeightsCsv(r, buf);
  WriteFile(dir / "weights.csv", View(buf));
  step();
  WriteFile(dir / "events.jsonl", EventsJsonl(r));
  WriteFile(dir / "summary.json", SummaryJson(r));
  step();
  if (workbook) WriteTrackingWorkbook(r, (dir / "tracking.xlsx").string());
  step();
  if (!r.record.signals.empty()) WriteSignalsDb(r, (dir / "signals.sqlite").string());
  WriteFile(dir / "report.html", RenderReport(r.config.name, {MakeReportRun(r)}));
}

void WriteRunOutputs(const BacktestResult& r, const std::string& dir, bool overwrite,
                     bool workbook) {
  OutputDir out(dir, overwrite);
  WriteRunFiles(r, out.Begin(), workbook);
  out.Commit();
}

}  // namespace ballast::backtests
