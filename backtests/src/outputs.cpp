#include "ballast/backtests/outputs.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "ballast/engine/error.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

std::string Num(double v) { return JsonNumber(v); }
std::string Date(Timestamp t) { return FormatDate(TimestampToDay(t)); }

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
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

std::string EquityCsv(const BacktestResult& r) {
  const RunRecord& rec = r.record;
  std::string out = "date,equity,cash,positions_value,daily_return,drawdown,flow,benchmark_equity\n";
  out.reserve(rec.times.size() * 120);
  double peak = 0.0;
  const bool has_bench = !r.config.benchmark.empty() && !rec.benchmark.empty();
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    const double v = rec.equity[t];
    peak = std::max(peak, v);
    const double ret = t == 0 ? v / r.config.initial_cash - 1.0 : v / rec.equity[t - 1] - 1.0;
    const double bench = has_bench ? r.config.initial_cash * rec.benchmark[t] / rec.benchmark[0] : kNaN;
    out += fmt::format("{},{},{},{},{},{},{},{}\n", Date(rec.times[t]), Num(v), Num(rec.cash[t]),
                       Num(v - rec.cash[t]), Num(ret), Num(peak > 0 ? v / peak - 1.0 : 0.0),
                       Num(rec.flows[t]), has_bench ? Num(bench) : "");
  }
  return out;
}

std::string TradesCsv(const BacktestResult& r) {
  std::string out = "date,decision,client_order_id,symbol,side,quantity,price,notional,commission,slippage\n";
  for (const auto& t : r.record.trades) {
    const std::string& sym = r.symbols[t.symbol];
    out += fmt::format("{},{},{}-{}-{},{},{},{},{},{},{},{}\n", Date(t.time), t.decision, r.run_tag,
                       t.decision, CsvField(sym), CsvField(sym), ToString(t.side), Num(t.quantity),
                       Num(t.price), Num(t.quantity * t.price), Num(t.commission), Num(t.slippage));
  }
  return out;
}

std::string WeightsCsv(const BacktestResult& r) {
  const RunRecord& rec = r.record;
  std::string out = "date";
  for (const auto& s : r.symbols) {
    out += ',';
    out += CsvField(s);
  }
  out += ",cash\n";
  const std::size_t n = rec.symbols;
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    out += Date(rec.times[t]);
    for (std::size_t c = 0; c < n; ++c) {
      out += ',';
      out += Num(rec.weights[t * n + c]);
    }
    out += ',';
    out += Num(rec.equity[t] != 0.0 ? rec.cash[t] / rec.equity[t] : 0.0);
    out += '\n';
  }
  return out;
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
  while (!out.empty() && out.back() == '-') out.pop_back();
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
      .Add("risk_free_rate", s.risk_free_rate);
  if (s.benchmark) {
    const auto& b = *s.benchmark;
    JsonFields bf;
    bf.Add("symbol", b.symbol)
        .Add("total_return", b.total_return)
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
    if (!in_string && c == '{') ++depth;
    if (!in_string && c == '}') --depth;
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
  out += fmt::format("  {:<18} {:>16}  {}\n", "", "portfolio", hb ? "benchmark " + s.benchmark->symbol : "");
  row("final value", fmt::format("{:.2f}", s.final_value),
      hb ? fmt::format("{:.2f}", s.initial_value * (1 + s.benchmark->total_return)) : "");
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
  row("turnover / year", pct(s.turnover));
  row("fees", fmt::format("{:.2f}", s.fees));
  row("rebalances", fmt::format("{}", s.rebalances), fmt::format("{} trades", s.trades));
  return out;
}

void WriteRunOutputs(const BacktestResult& r, const std::string& dir, bool overwrite) {
  const fs::path target(dir);
  if (fs::exists(target)) {
    if (!overwrite) {
      throw Error(ErrorKind::kUsage, fmt::format("{}: output directory already exists (use --force to replace it)", dir));
    }
  }
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const fs::path tmp = fs::path(dir + fmt::format(".tmp-{}", ::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp);
    WriteFile(tmp / "config.json", r.config.resolved_json);
    WriteFile(tmp / "equity.csv", EquityCsv(r));
    WriteFile(tmp / "trades.csv", TradesCsv(r));
    WriteFile(tmp / "weights.csv", WeightsCsv(r));
    WriteFile(tmp / "events.jsonl", EventsJsonl(r));
    WriteFile(tmp / "summary.json", SummaryJson(r));
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  if (fs::exists(target)) fs::remove_all(target);
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    throw Error(ErrorKind::kIo, fmt::format("{}: cannot move outputs into place", dir));
  }
}

}  // namespace ballast::backtests
