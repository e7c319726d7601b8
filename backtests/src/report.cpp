#include "ballast/backtests/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

namespace ballast::backtests {
namespace {

constexpr double kW = 900;  // chart viewBox
constexpr double kH = 300;
constexpr double kLeft = 60;
constexpr double kRight = 12;
constexpr double kTop = 14;
constexpr double kBottom = 26;
constexpr std::size_t kMaxChartRuns = 12;
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                    "#bcbd22", "#7f7f7f", "#393b79", "#637939"};

std::string Esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int Year(Timestamp t) {
  return static_cast<int>(std::chrono::year_month_day{TimestampToDay(t)}.year());
}
unsigned Month(Timestamp t) {
  return static_cast<unsigned>(std::chrono::year_month_day{TimestampToDay(t)}.month());
}

struct Line {
  std::string label;
  const std::vector<double>* y;
  std::string color;
  bool dashed = false;
};

// A line chart over a shared time axis; NaN points break nothing (skipped). `log` plots log10.
std::string LineChart(std::string_view id, const std::vector<Timestamp>& times,
                      const std::vector<Line>& lines, bool log, bool percent,
                      std::string_view css_class = "") {
  double lo = INFINITY, hi = -INFINITY;
  std::size_t points = 0;
  auto tr = [&](double v) { return log ? std::log10(v) : v; };
  for (const auto& l : lines) {
    for (double v : *l.y) {
      if (!std::isfinite(v) || (log && v <= 0)) continue;
      lo = std::min(lo, tr(v));
      hi = std::max(hi, tr(v));
      ++points;
    }
  }
  if (!(hi > lo)) {
    hi = lo + 1;
    if (!std::isfinite(lo)) lo = 0, hi = 1;
  }
  const std::size_t n = times.size();
  auto px = [&](std::size_t i) {
    return kLeft + (kW - kLeft - kRight) * (n > 1 ? double(i) / double(n - 1) : 0.5);
  };
  auto py = [&](double v) {
    return kTop + (kH - kTop - kBottom) * (1.0 - (tr(v) - lo) / (hi - lo));
  };
  std::string svg = fmt::format(
      R"(<svg class="chart {}" data-chart="{}" data-points="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">)",
      css_class, id, points, kW, kH, id);
  // Y grid and labels.
  for (int k = 0; k <= 4; ++k) {
    const double v_tr = lo + (hi - lo) * k / 4.0;
    const double v = log ? std::pow(10.0, v_tr) : v_tr;
    const double y = kTop + (kH - kTop - kBottom) * (1.0 - k / 4.0);
    svg += fmt::format(R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/>)", kLeft,
                       kW - kRight, y, y);
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" class="ylab">{}</text>)", kLeft - 4, y + 4,
                       percent ? fmt::format("{:.0f}%", v * 100) : fmt::format("{:.2f}", v));
  }
  // Year ticks.
  int last_year = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int y = Year(times[i]);
    if (y != last_year) {
      if (last_year != 0 && (y % (n > 2500 ? 2 : 1) == 0)) {
        svg += fmt::format(R"(<text x="{:.1f}" y="{}" class="xlab">{}</text>)", px(i), kH - 8, y);
      }
      last_year = y;
    }
  }
  for (const auto& l : lines) {
    std::string d;
    bool pen = false;
    for (std::size_t i = 0; i < n && i < l.y->size(); ++i) {
      const double v = (*l.y)[i];
      if (!std::isfinite(v) || (log && v <= 0)) {
        pen = false;
        continue;
      }
      d += fmt::format("{}{:.1f},{:.1f}", pen ? "L" : "M", px(i), py(v));
      pen = true;
    }
    svg += fmt::format(
        R"(<path d="{}" stroke="{}" fill="none" stroke-width="1.4"{}><title>{}</title></path>)", d,
        l.color, l.dashed ? R"( stroke-dasharray="5,3")" : "", Esc(l.label));
  }
  svg += "</svg>";
  return svg;
}

std::string Legend(const std::vector<Line>& lines) {
  std::string out = R"(<div class="legend">)";
  for (const auto& l : lines) {
    out += fmt::format(R"(<span><i style="background:{}"></i>{}</span>)", l.color, Esc(l.label));
  }
  return out + "</div>";
}

std::vector<double> Drawdown(const std::vector<double>& index) {
  std::vector<double> dd(index.size());
  double peak = 0;
  for (std::size_t i = 0; i < index.size(); ++i) {
    peak = std::max(peak, index[i]);
    dd[i] = index[i] / peak - 1.0;
  }
  return dd;
}

// Rolling 252-session return and annualised volatility of daily returns (NaN before a full year).
void Rolling(const std::vector<double>& index, std::vector<double>& ret, std::vector<double>& vol) {
  constexpr std::size_t kWin = 252;
  const std::size_t n = index.size();
  ret.assign(n, NAN);
  vol.assign(n, NAN);
  double s = 0, s2 = 0;
  std::vector<double> r(n, 0.0);
  for (std::size_t i = 1; i < n; ++i)
    r[i] = index[i] / index[i - 1] - 1.0;
  for (std::size_t i = 1; i < n; ++i) {
    s += r[i];
    s2 += r[i] * r[i];
    if (i > kWin) {
      s -= r[i - kWin];
      s2 -= r[i - kWin] * r[i - kWin];
    }
    if (i >= kWin) {
      ret[i] = index[i] / index[i - kWin] - 1.0;
      const double m = s / kWin;
      vol[i] = std::sqrt(std::max(0.0, (s2 - kWin * m * m) / (kWin - 1))) * std::sqrt(252.0);
    }
  }
}

std::string StackedWeights(const ReportRun& run, std::size_t which) {
  const std::size_t cols = run.symbols.size() + 1;  // + cash
  const std::size_t n = run.weight_times.size();
  std::string svg = fmt::format(
      R"(<svg class="chart" data-chart="weights-{}" data-points="{}" viewBox="0 0 {} {}" role="img" aria-label="weights">)",
      which, n * cols, kW, kH);
  auto px = [&](std::size_t i) {
    return kLeft + (kW - kLeft - kRight) * (n > 1 ? double(i) / double(n - 1) : 0.5);
  };
  double top = 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (std::size_t c = 0; c + 1 < cols; ++c)
      sum += std::max(0.0, run.weights[i * cols + c]);
    top = std::max(top, sum);
  }
  auto py = [&](double v) { return kTop + (kH - kTop - kBottom) * (1.0 - v / top); };
  for (int k = 0; k <= 4; ++k) {
    const double v = top * k / 4.0;
    svg += fmt::format(
        R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/><text x="{}" y="{:.1f}" class="ylab">{:.0f}%</text>)",
        kLeft, kW - kRight, py(v), py(v), kLeft - 4, py(v) + 4, v * 100);
  }
  std::vector<double> base(n, 0.0);
  for (std::size_t c = 0; c + 1 < cols; ++c) {
    std::string upper, lower;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = std::max(0.0, run.weights[i * cols + c]);
      upper += fmt::format("{}{:.1f},{:.1f}", i ? "L" : "M", px(i), py(base[i] + w));
    }
    for (std::size_t i = n; i-- > 0;)
      lower += fmt::format("L{:.1f},{:.1f}", px(i), py(base[i]));
    for (std::size_t i = 0; i < n; ++i)
      base[i] += std::max(0.0, run.weights[i * cols + c]);
    svg += fmt::format(R"(<path d="{}{}Z" fill="{}" fill-opacity="0.85"><title>{}</title></path>)",
                       upper, lower, kPalette[c % std::size(kPalette)], Esc(run.symbols[c]));
  }
  return svg + "</svg>";
}

// Bars per calendar year (values are fractions, labelled in %).
std::string YearBars(std::string_view id, const std::vector<std::pair<int, double>>& years,
                     const char* color, std::string_view what) {
  const std::size_t n = years.size();
  double hi = 1e-6;
  for (const auto& y : years)
    hi = std::max(hi, y.second);
  std::string svg = fmt::format(
      R"(<svg class="chart" data-chart="{}" data-points="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">)",
      id, n, kW, 220.0, what);
  const double h = 220.0 - kTop - kBottom;
  const double bw = n ? (kW - kLeft - kRight) / double(n) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double bh = h * years[i].second / hi;
    svg += fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{}: {} {:.3f}%</title></rect>)",
        kLeft + i * bw + 2, kTop + h - bh, std::max(1.0, bw - 4), bh, color, years[i].first, what,
        years[i].second * 100);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" class="xlab">{}</text>)", kLeft + (i + 0.5) * bw,
                       220 - 8, years[i].first);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" class="ylab">{:.2f}%</text>)", kLeft - 4, kTop + 4,
                     hi * 100);
  return svg + "</svg>";
}

std::string MonthlyTable(const ReportRun& run) {
  // Month return = index at the month's last session / index at the previous month's last - 1.
  std::map<int, std::array<double, 13>> rows;  // [1..12] months, [0] year
  double prev = 1.0;                           // the index starts at the initial capital
  for (std::size_t i = 0; i < run.times.size(); ++i) {
    const bool month_end =
        i + 1 == run.times.size() || Month(run.times[i + 1]) != Month(run.times[i]);
    if (!month_end) continue;
    auto [it, inserted] = rows.try_emplace(Year(run.times[i]));
    auto& row = it->second;
    if (inserted) row.fill(NAN);  // months before the run's first stay empty
    row[Month(run.times[i])] = run.index[i] / prev - 1.0;
    prev = run.index[i];
  }
  std::string out = R"(<table class="calendar"><tr><th>year</th>)";
  for (const char* m :
       {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}) {
    out += fmt::format("<th>{}</th>", m);
  }
  out += "<th>year</th></tr>";
  for (const auto& [year, row] : rows) {
    out += fmt::format("<tr><th>{}</th>", year);
    double total = 1.0;
    for (int m = 1; m <= 12; ++m) {
      if (std::isnan(row[m])) {
        out += "<td></td>";
      } else {
        total *= 1 + row[m];
        out +=
            fmt::format(R"(<td class="{}">{:.1f}</td>)", row[m] >= 0 ? "pos" : "neg", row[m] * 100);
      }
    }
    out += fmt::format(R"(<td class="{}"><b>{:.1f}</b></td></tr>)", total >= 1 ? "pos" : "neg",
                       (total - 1) * 100);
  }
  return out + "</table>";
}

std::string Pct(double v) {
  return std::isfinite(v) ? fmt::format("{:.2f}%", v * 100) : "-";
}
std::string Num(double v) {
  return std::isfinite(v) ? fmt::format("{:.3f}", v) : "-";
}

}  // namespace

ReportRun MakeReportRun(const BacktestResult& r) {
  ReportRun run;
  const RunRecord& rec = r.record;
  run.label = r.config.name;
  run.summary = r.summary;
  run.times = rec.times;
  run.symbols = r.symbols;
  run.index = TimeWeightedIndex(rec, r.config.initial_cash);
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    if (!r.config.benchmark.empty() && !rec.benchmark.empty()) {
      run.benchmark.push_back(rec.benchmark[t] / rec.benchmark[0]);
    }
  }
  run.benchmark_label = r.config.benchmark;
  if (std::any_of(rec.flows.begin(), rec.flows.end(), [](double f) { return f != 0.0; })) {
    run.value = rec.equity;
    double in = r.config.initial_cash;
    for (std::size_t t = 0; t < rec.times.size(); ++t) {
      in += t < rec.flows.size() ? rec.flows[t] : 0.0;
      run.invested.push_back(in);
    }
    if (!r.config.benchmark.empty() && !rec.benchmark.empty()) {
      run.benchmark_value = BenchmarkAccount(rec.benchmark, rec.flows, r.config.initial_cash,
                                             r.config.benchmark_same_flows);
    }
  }
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    const int year = Year(rec.times[t]);
    if (run.turnover_by_year.empty() || run.turnover_by_year.back().first != year) {
      run.turnover_by_year.emplace_back(year, 0.0);
    }
    if (rec.equity[t] > 0)
      run.turnover_by_year.back().second += std::min(rec.bought[t], rec.sold[t]) / rec.equity[t];
  }
  const std::size_t n = rec.symbols;
  if (rec.weights.size() == rec.times.size() * n && !rec.times.empty()) {
    // At most 11 symbols by mean weight plus "other", so a 470-symbol run stays a readable page.
    std::vector<std::size_t> order(n);
    for (std::size_t c = 0; c < n; ++c)
      order[c] = c;
    std::vector<double> mean(n, 0.0);
    for (std::size_t t = 0; t < rec.times.size(); ++t) {
      for (std::size_t c = 0; c < n; ++c)
        mean[c] += rec.weights[t * n + c];
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return mean[a] > mean[b]; });
    const std::size_t shown = n > 12 ? 11 : n;
    run.symbols.clear();
    for (std::size_t k = 0; k < shown; ++k)
      run.symbols.push_back(r.symbols[order[k]]);
    if (shown < n) run.symbols.push_back(fmt::format("{} others", n - shown));
    for (std::size_t t = 0; t < rec.times.size(); t += 5) {  // weekly samples keep the page small
      run.weight_times.push_back(rec.times[t]);
      double other = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        const double w = rec.weights[t * n + order[k]];
        if (k < shown) {
          run.weights.push_back(w);
        } else {
          other += w;
        }
      }
      if (shown < n) run.weights.push_back(other);
      run.weights.push_back(rec.equity[t] != 0 ? rec.cash[t] / rec.equity[t] : 0.0);
    }
  }
  return run;
}

std::string RenderReport(const std::string& title, const std::vector<ReportRun>& runs) {
  std::string html = R"(<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>)" + Esc(title) +
                     R"(</title><style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:3px 7px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}th:first-child,td:first-child{text-align:left}
svg.chart{width:100%;height:auto;background:#fafafa;border:1px solid #eee}
.grid{stroke:#e3e3e3}.ylab{font-size:11px;text-anchor:end;fill:#666}.xlab{font-size:11px;text-anchor:middle;fill:#666}
.legend span{display:inline-block;margin:2px 10px 2px 0;font-size:12px}.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
#log:checked~.linear{display:none}#log:not(:checked)~.logscale{display:none}
.calendar td.pos{color:#1a7f37}.calendar td.neg{color:#c62828}.run{display:none}.run.shown{display:block}
.cards{display:flex;flex-wrap:wrap;gap:8px}.cards div{background:#f3f6fa;padding:6px 10px;border-radius:4px}
</style></head><body>
)";
  html += fmt::format(
      "<h1>{}</h1><p>{} run(s){}. Generated by ballast {}.</p>", Esc(title), runs.size(),
      runs.size() > kMaxChartRuns ? fmt::format("; charts show the first {}", kMaxChartRuns) : "",
      BALLAST_VERSION);
  // Comparison table.
  html +=
      R"(<h2>Comparison</h2><div class="scroll"><table id="comparison"><tr><th>run</th><th>CAGR</th><th>volatility</th><th>Sharpe</th><th>Sortino</th><th>max drawdown</th><th>Calmar</th><th>turnover</th><th>fees</th><th>alpha</th><th>beta</th><th>final value</th><th>benchmark final value</th><th>rebalances</th></tr>)";
  for (const auto& r : runs) {
    const auto& s = r.summary;
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
        "td><td>{:.2f}</td>"
        "<td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td></tr>",
        Esc(r.label), Pct(s.cagr), Pct(s.volatility), Num(s.sharpe), Num(s.sortino),
        Pct(s.max_drawdown), Num(s.calmar), Pct(s.turnover), s.fees,
        s.benchmark ? Pct(s.benchmark->alpha) : "-", s.benchmark ? Num(s.benchmark->beta) : "-",
        s.final_value, s.benchmark ? fmt::format("{:.2f}", s.benchmark->final_value) : "-",
        s.rebalances);
  }
  html += "</table></div>";
  if (runs.empty()) return html + "</body></html>\n";

  // Shared time axis: the first run's (runs of a suite share their data when comparable).
  const auto& axis = runs.front().times;
  std::vector<Line> lines;
  std::vector<std::vector<double>> dd(std::min(runs.size(), kMaxChartRuns));
  std::vector<std::vector<double>> rret(dd.size()), rvol(dd.size());
  for (std::size_t i = 0; i < dd.size(); ++i) {
    lines.push_back({runs[i].label, &runs[i].index, kPalette[i % std::size(kPalette)], false});
    dd[i] = Drawdown(runs[i].index);
    Rolling(runs[i].index, rret[i], rvol[i]);
  }
  std::vector<Line> with_bench = lines;
  if (!runs.front().benchmark.empty()) {
    with_bench.push_back(
        {"benchmark " + runs.front().benchmark_label, &runs.front().benchmark, "#000", true});
  }
  html +=
      R"(<h2>Growth of 1 (time-weighted)</h2><input type="checkbox" id="log"><label for="log"> log scale</label>)";
  html += LineChart("equity", axis, with_bench, false, false, "linear");
  html += LineChart("equity-log", axis, with_bench, true, false, "logscale");
  html += Legend(with_bench);
  auto series_lines = [&](std::vector<std::vector<double>>& data) {
    std::vector<Line> out;
    for (std::size_t i = 0; i < data.size(); ++i)
      out.push_back({runs[i].label, &data[i], kPalette[i % std::size(kPalette)], false});
    return out;
  };
  html += "<h2>Drawdown</h2>" + LineChart("drawdown", axis, series_lines(dd), false, true);
  html += "<h2>Rolling 12-month return</h2>" +
          LineChart("rolling-return", axis, series_lines(rret), false, true);
  html += "<h2>Rolling 12-month volatility</h2>" +
          LineChart("rolling-volatility", axis, series_lines(rvol), false, true);

  // Per-run details, one shown at a time.
  html +=
      R"html(<h2>Run details</h2><p><label>run <select id="pick" onchange="pick(this.value)">)html";
  for (std::size_t i = 0; i < dd.size(); ++i)
    html += fmt::format(R"(<option value="{}">{}</option>)", i, Esc(runs[i].label));
  html += "</select></label></p>";
  for (std::size_t i = 0; i < dd.size(); ++i) {
    const auto& r = runs[i];
    const auto& s = r.summary;
    html += fmt::format(R"(<div class="run{}" id="run-{}"><h3>{}</h3><div class="cards">)",
                        i == 0 ? " shown" : "", i, Esc(r.label));
    for (const auto& [k, v] :
         {std::pair<const char*, std::string>{"final value", fmt::format("{:.2f}", s.final_value)},
          {"total return", Pct(s.total_return)},
          {"CAGR", Pct(s.cagr)},
          {"Sharpe", Num(s.sharpe)},
          {"max drawdown", Pct(s.max_drawdown)},
          {"contributed", fmt::format("{:.2f}", s.total_contributed)},
          {"IRR", s.irr ? Pct(*s.irr) : "-"},
          {"fees", fmt::format("{:.2f}", s.fees)},
          {"rebalances", std::to_string(s.rebalances)},
          {"trades", std::to_string(s.trades)}}) {
      html += fmt::format("<div>{}<br><b>{}</b></div>", k, v);
    }
    html += "</div>";
    if (!r.invested.empty()) {
      // What the flows did: value against the money put in, and the benchmark account's value.
      std::vector<Line> vl{{"value", &r.value, kPalette[i % std::size(kPalette)], false},
                           {"money invested", &r.invested, "#777", true}};
      if (!r.benchmark_value.empty())
        vl.push_back(
            {"benchmark " + r.benchmark_label + " account", &r.benchmark_value, "#000", true});
      html += "<h4>Value vs money invested</h4>" +
              LineChart(fmt::format("invested-{}", i), r.times, vl, false, false) + Legend(vl);
    }
    if (!r.weight_times.empty()) {
      html += "<h4>Weights over time</h4>" + StackedWeights(r, i);
      std::vector<Line> wl;
      for (std::size_t c = 0; c < r.symbols.size(); ++c)
        wl.push_back({r.symbols[c], nullptr, kPalette[c % std::size(kPalette)]});
      html += Legend(wl);
    }
    std::vector<std::pair<int, double>> fees;
    for (const auto& y : s.costs_by_year)
      fees.emplace_back(y.year, y.cost_ratio);
    html += "<h4>Turnover per year (one-way, % of value)</h4>" +
            YearBars(fmt::format("turnover-{}", i), r.turnover_by_year, "#1f77b4", "turnover");
    html += "<h4>Fees per year (% of average value)</h4>" +
            YearBars(fmt::format("costs-{}", i), fees, "#ff7f0e", "fees");
    html += "<h4>Monthly returns (%)</h4><div class=\"scroll\">" + MonthlyTable(r) + "</div></div>";
  }
  html +=
      R"html(<script>function pick(i){document.querySelectorAll('.run').forEach(function(e){e.classList.toggle('shown',e.id==='run-'+i)});document.getElementById('pick').value=i}
if(/^#run-\d+$/.test(location.hash)&&document.getElementById(location.hash.slice(1))){pick(location.hash.slice(5))}</script>)html";
  return html + "</body></html>\n";
}

}  // namespace ballast::backtests
