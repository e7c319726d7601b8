#include "ballast/backtests/advise.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ballast/backtests/backtest.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/run_record.hpp"
#include "ballast/strategies/signal_swap.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

struct Holding {
  std::string symbol;
  double shares = 0.0;
  double cost_basis = 0.0;  ///< per share; 0 = unknown
};

std::string Trim(std::string s) {
  const auto a = s.find_first_not_of(" \t\r");
  const auto b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

/// `symbol,shares[,cost_basis]` with a header line; errors name the file and line.
std::vector<Holding> ReadHoldingsCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kConfig, fmt::format("{}: cannot open the holdings file", path));
  std::vector<Holding> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');)
      cells.push_back(Trim(cell));
    if (n == 1 && !cells.empty() && (cells[0] == "symbol" || cells[0] == "Symbol")) continue;
    auto fail = [&](const std::string& what) {
      throw Error(ErrorKind::kConfig,
                  fmt::format("{}:{}: {} (expected symbol,shares[,cost_basis])", path, n, what));
    };
    if (cells.size() < 2 || cells.size() > 3) fail("wrong number of fields");
    Holding h;
    h.symbol = cells[0];
    if (h.symbol.empty()) fail("empty symbol");
    try {
      h.shares = std::stod(cells[1]);
      if (cells.size() == 3 && !cells[2].empty()) h.cost_basis = std::stod(cells[2]);
    } catch (const std::exception&) {
      fail("shares and cost_basis must be numbers");
    }
    if (!(h.shares >= 0.0) || !(h.cost_basis >= 0.0)) fail("shares and cost_basis must be >= 0");
    for (const auto& o : out) {
      if (o.symbol == h.symbol) fail(h.symbol + " listed twice");
    }
    out.push_back(std::move(h));
  }
  if (out.empty()) throw Error(ErrorKind::kConfig, fmt::format("{}: no holdings", path));
  return out;
}

std::string Pct(double x, int decimals = 1) {
  return std::isnan(x) ? "-" : fmt::format("{:.{}f}%", x * 100.0, decimals);
}

const char* Grade(double score) {
  if (score >= 85) return "A";
  if (score >= 70) return "B";
  if (score >= 55) return "C";
  if (score >= 40) return "D";
  return "F";
}

struct Recommendation {
  std::string action;  ///< REDUCE x / INCREASE y | SELL | BUY | REDUCE | INCREASE
  std::string sell, buy;
  double improvement = std::nan("");
  double shares = 0.0;  ///< to buy (> 0) or sell (< 0), whole shares
  double weight = 0.0;  ///< suggested weight after
  bool margin = false;
  std::string reason;
  std::string text;
};

}  // namespace

AdviceReport Advise(const AdviseOptions& options, const strategies::StrategyRegistry& registry) {
  auto doc = ConfigDocument::FromFile(options.config_path);
  for (const auto& s : options.sets)
    doc.ApplySet(s);
  const ConfigNode root = doc.Root();
  std::vector<Holding> holdings;
  std::string holdings_origin;
  double cash = 0.0;
  if (options.holdings) {
    for (const auto& h : *options.holdings)
      holdings.push_back({h.symbol, h.shares, h.cost_basis});
    holdings_origin = options.holdings_origin;
    cash = options.cash;
    if (holdings.empty()) {
      throw Error(ErrorKind::kConfig,
                  fmt::format("{}: no positions to advise on", holdings_origin));
    }
  } else {
    const ConfigNode advise = root.At("advise");
    advise.ExpectKeys({"holdings", "cash"});
    const ConfigNode holdings_node = advise.At("holdings");
    const fs::path config_dir = fs::path(options.config_path).parent_path();
    if (holdings_node.IsString()) {
      fs::path p = holdings_node.String();
      if (p.is_relative()) p = config_dir / p;
      holdings_origin = p.string();
      holdings = ReadHoldingsCsv(holdings_origin);
    } else if (holdings_node.IsObject()) {
      holdings_origin = holdings_node.Path();
      for (const auto& key : holdings_node.Keys()) {
        const ConfigNode v = holdings_node.At(key);
        Holding h{key, v.Number(), 0.0};
        if (!(h.shares >= 0.0)) v.Fail("a number of shares >= 0");
        holdings.push_back(h);
      }
    } else {
      holdings_node.Fail("a CSV file (symbol,shares[,cost_basis]) or {\"SYMBOL\": shares}");
    }
    cash = advise.NumberOr("cash", 0.0);
  }
  if (root.At("strategy").StringOr("type", "") != "signal_swap") {
    root.At("strategy").At("type").Fail("\"signal_swap\" (advise applies its rules)");
  }
  // The holdings become the strategy's portfolio; all history up to the as-of date is loaded.
  std::string list = "[";
  for (const auto& h : holdings) {
    if (list.size() > 1) list += ',';
    AppendJsonString(list, h.symbol);
  }
  list += ']';
  doc.SetJson("strategy.holdings", list);
  doc.SetJson("data.start", "null");
  doc.SetJson("data.use_history_before_start", "false");
  if (options.as_of) doc.SetString("data.end", FormatDate(*options.as_of));
  const BacktestConfig cfg = ParseBacktestConfig(doc, registry);
  const MarketData md = LoadMarketData(cfg);
  const BarPanel& panel = *md.panel;
  const std::size_t row = panel.Rows() - 1;
  const Days day = panel.Day(row);
  const std::size_t n = md.tradable;
  const auto& symbols = cfg.strategy.symbols;

  std::vector<double> marks(n, 0.0), qty(n, 0.0), cost(n, 0.0);
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t r = row + 1; r-- > 0;) {
      if (panel.HasBar(r, c)) {
        marks[c] = panel.Close(r, c);
        break;
      }
    }
  }
  for (const auto& h : holdings) {
    const auto it = std::find(symbols.begin(), symbols.end(), h.symbol);
    const auto c = static_cast<std::size_t>(it - symbols.begin());
    qty[c] = h.shares;
    cost[c] = h.cost_basis;
  }
  double equity = cash;
  for (std::size_t c = 0; c < n; ++c)
    equity += qty[c] * marks[c];
  if (!(equity > 0.0)) {
    throw Error(ErrorKind::kConfig, fmt::format("{}: the holdings are worth nothing on {}",
                                                holdings_origin, FormatDate(day)));
  }

  auto strategy = cfg.strategy.make();
  auto* swap = dynamic_cast<strategies::SignalSwap*>(strategy.get());
  if (!swap) throw Error(ErrorKind::kInternal, "advise: the strategy is not signal_swap");
  std::vector<Days> days;
  for (std::size_t r = 0; r < panel.Rows(); ++r)
    days.push_back(panel.Day(r));
  DataSessions sessions(std::move(days));
  RunRecord record;
  const std::optional<Days> previous =
      row > 0 ? std::optional<Days>(panel.Day(row - 1)) : std::nullopt;
  StrategyContext ctx{panel,    row,
                      day,      n,
                      false,    previous ? &*previous : nullptr,
                      sessions, PortfolioView{qty, marks, cash, equity},
                      record};
  ctx.history_row = 0;
  Target target;
  target.weights.assign(n, 0.0);
  swap->Advise(ctx, cost, target);
  const auto scores = swap->Scores(ctx);
  const auto& o = swap->Options();

  // Health: alpha 30, signal strength 40, diversification 30.
  double held_value = 0.0, alpha_sum = 0.0, alpha_value = 0.0, strength_sum = 0.0, hhi = 0.0;
  int positions = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const double v = qty[c] * marks[c];
    if (v <= 0) continue;
    ++positions;
    held_value += v;
    strength_sum += v * scores[c].signal.strength;
    if (!std::isnan(scores[c].signal.alpha)) {
      alpha_sum += v * scores[c].signal.alpha;
      alpha_value += v;
    }
  }
  for (std::size_t c = 0; c < n; ++c) {
    const double v = qty[c] * marks[c];
    if (v > 0) hhi += (v / held_value) * (v / held_value);
  }
  const double avg_alpha = alpha_value > 0 ? alpha_sum / alpha_value : 0.0;
  const double avg_strength = held_value > 0 ? strength_sum / held_value : 0.0;
  const double alpha_points = 30.0 * std::clamp((avg_alpha + 0.05) / 0.10, 0.0, 1.0);
  const double strength_points = 40.0 * avg_strength / 100.0;
  const double count_points =
      15.0 * std::min(1.0, positions / static_cast<double>(std::max(1, o.max_positions)));
  const double spread_points =
      positions > 0 ? 15.0 * std::clamp((0.5 - hhi) / (0.5 - 0.1), 0.0, 1.0) : 0.0;
  const double diversification_points = count_points + spread_points;
  const double score = alpha_points + strength_points + diversification_points;

  // Recommendations: swaps first, then exits, new positions and resizes of 5 points or more.
  std::vector<Recommendation> recs;
  auto shares_for = [&](std::size_t c) {
    const double delta = target.weights[c] * equity - qty[c] * marks[c];
    return marks[c] > 0 ? std::trunc(delta / marks[c]) : 0.0;
  };
  std::vector<bool> covered(n, false);
  std::map<std::size_t, const SignalRow*> signal_of;
  for (const auto& s : record.signals) {
    if (s.action != "hold") signal_of[s.symbol] = &s;
  }
  for (const auto& x : record.recommendations) {
    Recommendation r;
    r.action = "SWAP";
    r.sell = symbols[x.sell];
    r.buy = symbols[x.buy];
    r.improvement = x.improvement;
    r.shares = shares_for(x.buy);
    r.weight = target.weights[x.buy];
    r.margin = x.uses_margin;
    r.reason = "swap";
    r.text = fmt::format(
        "REDUCE {} (strength {:.0f}) / INCREASE {} (strength {:.0f}): expected improvement +{:.0f} "
        "points; sell all {:g} shares of {}, buy {:g} shares of {} ({} of the portfolio); risk "
        "{}; {}",
        r.sell, x.sell_strength, r.buy, x.buy_strength, x.improvement, qty[x.sell], r.sell,
        r.shares, r.buy, Pct(r.weight), x.risk_level, r.margin ? "uses margin" : "no margin");
    covered[x.sell] = covered[x.buy] = true;
    recs.push_back(std::move(r));
  }
  for (std::size_t c = 0; c < n; ++c) {
    if (covered[c]) continue;
    const double now = qty[c] * marks[c] / equity;
    const double to = target.weights[c];
    const auto sig = signal_of.find(c);
    const std::string why = sig != signal_of.end() ? sig->second->reason : std::string();
    const double strength = scores[c].signal.strength;
    Recommendation r;
    r.weight = to;
    r.shares = shares_for(c);
    r.margin = sig != signal_of.end() && sig->second->uses_margin;
    r.reason = why;
    if (qty[c] > 0 && to <= 0) {
      r.action = "SELL";
      r.sell = symbols[c];
      r.shares = -qty[c];
      r.text = fmt::format("SELL {}: all {:g} shares (strength {:.0f}; {})", symbols[c], qty[c],
                           strength, why.empty() ? "below the sizing tiers" : why);
    } else if (qty[c] <= 0 && to > 0) {
      r.action = "BUY";
      r.buy = symbols[c];
      r.text = fmt::format(
          "BUY {}: {:g} shares, {} of the portfolio (strength {:.0f}); risk {}; {}", symbols[c],
          r.shares, Pct(to), strength, o.risk_level, r.margin ? "uses margin" : "no margin");
    } else if (std::abs(to - now) >= 0.05) {
      r.action = to > now ? "INCREASE" : "REDUCE";
      (to > now ? r.buy : r.sell) = symbols[c];
      r.text = fmt::format(
          "{} {}: from {} to {} of the portfolio ({:+g} shares; strength {:.0f}); "
          "risk {}; {}",
          r.action, symbols[c], Pct(now), Pct(to), r.shares, strength, o.risk_level,
          r.margin ? "uses margin" : "no margin");
    } else {
      continue;
    }
    recs.push_back(std::move(r));
  }

  // Opportunities: watchlist names (not held) strong and confident enough to buy.
  std::vector<std::size_t> opportunities;
  for (std::size_t c = 0; c < n; ++c) {
    if (qty[c] > 0) continue;
    if (scores[c].signal.strength >= o.buy_strength &&
        scores[c].signal.confidence >= o.min_confidence) {
      opportunities.push_back(c);
    }
  }
  std::stable_sort(opportunities.begin(), opportunities.end(), [&](std::size_t a, std::size_t b) {
    return scores[a].signal.strength > scores[b].signal.strength;
  });
  if (opportunities.size() > 10) opportunities.resize(10);

  if (!options.db.empty()) {
    // Earlier mornings' advice is judged first (buys not taken: missed or passed once the
    // horizon has passed), then today's is added.
    (void)SettleLiveOutcomes(
        options.db, day, {}, [](const std::string&) { return 0.0; },
        [&](const std::string& symbol) {
          std::vector<std::pair<Days, double>> out;
          const auto c = panel.IndexOf(symbol);
          if (c < 0) return out;
          for (std::size_t r = 0; r <= row; ++r) {
            if (panel.HasBar(r, static_cast<std::size_t>(c)))
              out.emplace_back(panel.Day(r), panel.Close(r, static_cast<std::size_t>(c)));
          }
          return out;
        });
    AppendSignalsDb(options.db, "advise", symbols, record.signals, record.recommendations);
  }

  // ---- JSON ----
  JsonFields j;
  j.Add("as_of", FormatDate(day)).Add("name", cfg.name).Add("benchmark", o.benchmark);
  {
    JsonFields p;
    p.Add("equity", equity).Add("cash", cash).Add("positions", positions);
    j.AddRaw("portfolio", "{" + p.Text() + "}");
  }
  {
    JsonFields h;
    h.Add("score", score)
        .Add("grade", Grade(score))
        .Add("alpha_points", alpha_points)
        .Add("strength_points", strength_points)
        .Add("diversification_points", diversification_points)
        .Add("average_alpha", avg_alpha)
        .Add("average_strength", avg_strength)
        .Add("concentration_hhi", hhi);
    j.AddRaw("health", "{" + h.Text() + "}");
  }
  auto symbol_json = [&](std::size_t c) {
    const auto& s = scores[c];
    JsonFields f;
    f.Add("symbol", symbols[c])
        .Add("shares", qty[c])
        .Add("price", marks[c])
        .Add("value", qty[c] * marks[c])
        .Add("weight", qty[c] * marks[c] / equity)
        .Add("strength", s.signal.strength)
        .Add("confidence", strategies::signals::ToString(s.signal.confidence))
        .Add("rsi", s.indicators.rsi)
        .Add("macd_histogram", s.indicators.macd_hist)
        .Add("alpha", s.signal.alpha)
        .Add("suggested_weight", target.weights[c]);
    return "{" + f.Text() + "}";
  };
  std::string arr = "[";
  for (std::size_t c = 0; c < n; ++c) {
    if (qty[c] <= 0) continue;
    if (arr.size() > 1) arr += ',';
    arr += symbol_json(c);
  }
  arr += ']';
  j.AddRaw("holdings", arr);
  arr = "[";
  for (auto c : opportunities) {
    if (arr.size() > 1) arr += ',';
    arr += symbol_json(c);
  }
  arr += ']';
  j.AddRaw("opportunities", arr);
  arr = "[";
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const auto& r = recs[i];
    JsonFields f;
    f.Add("n", static_cast<int>(i + 1))
        .Add("action", r.action)
        .Add("sell", r.sell)
        .Add("buy", r.buy)
        .Add("expected_improvement", r.improvement)
        .Add("shares", r.shares)
        .Add("suggested_weight", r.weight)
        .Add("risk_level", o.risk_level)
        .Add("uses_margin", r.margin)
        .Add("reason", r.reason)
        .Add("text", r.text);
    if (arr.size() > 1) arr += ',';
    arr += "{" + f.Text() + "}";
  }
  arr += ']';
  j.AddRaw("recommendations", arr);
  j.Add("rebalancing_needed", !recs.empty());

  AdviceReport report;
  report.json = "{" + j.Text() + "}\n";

  // ---- text ----
  std::string& t = report.text;
  t += fmt::format("Morning check {}  ({}; benchmark {})\n\n", FormatDate(day), cfg.name,
                   o.benchmark);
  t += fmt::format("Portfolio health  {:.0f}/100  grade {}\n", score, Grade(score));
  t += fmt::format("  alpha vs {}        {:>5.1f} / 30   (average alpha {})\n", o.benchmark,
                   alpha_points, Pct(avg_alpha, 2));
  t += fmt::format("  signal strength     {:>5.1f} / 40   (average strength {:.1f})\n",
                   strength_points, avg_strength);
  t += fmt::format("  diversification     {:>5.1f} / 30   ({} positions, concentration {:.3f})\n",
                   diversification_points, positions, hhi);
  t += fmt::format("  value {:.2f} (cash {:.2f})\n\n", equity, cash);
  const std::string header =
      fmt::format("  {:<7} {:>10} {:>10} {:>7} {:>9} {:<7} {:>6} {:>8}\n", "symbol", "shares",
                  "price", "weight", "strength", "conf.", "RSI", "alpha");
  auto symbol_line = [&](std::size_t c) {
    const auto& s = scores[c];
    return fmt::format("  {:<7} {:>10.2f} {:>10.2f} {:>7} {:>9.1f} {:<7} {:>6.1f} {:>8}\n",
                       symbols[c], qty[c], marks[c], Pct(qty[c] * marks[c] / equity),
                       s.signal.strength, strategies::signals::ToString(s.signal.confidence),
                       s.indicators.rsi, Pct(s.signal.alpha, 2));
  };
  t += "Holdings\n" + header;
  for (std::size_t c = 0; c < n; ++c)
    if (qty[c] > 0) t += symbol_line(c);
  t += "\nWatchlist opportunities\n";
  if (opportunities.empty()) {
    t += "  (none strong enough)\n";
  } else {
    t += header;
    for (auto c : opportunities)
      t += symbol_line(c);
  }
  t += "\nRecommendations\n";
  if (recs.empty()) t += "  No rebalancing needed.\n";
  for (std::size_t i = 0; i < recs.size(); ++i)
    t += fmt::format("  {}. {}\n", i + 1, recs[i].text);
  return report;
}

}  // namespace ballast::backtests
