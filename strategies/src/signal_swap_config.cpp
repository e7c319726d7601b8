// Config parser for `signal_swap` (keys documented in docs/signals.md).
#include <fmt/format.h>

#include <algorithm>

#include "ballast/strategies/registry.hpp"
#include "ballast/strategies/signal_swap.hpp"

namespace ballast::strategies {
namespace {

std::vector<std::string> Symbols(const ConfigNode& node) {
  if (!node.IsArray()) node.Fail("an array of symbols");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.Size(); ++i) {
    const ConfigNode s = node.Index(i);
    std::string sym = s.String();
    if (sym.empty()) s.Fail("a symbol");
    if (std::find(out.begin(), out.end(), sym) != out.end()) s.Fail("a symbol not listed twice");
    out.push_back(std::move(sym));
  }
  return out;
}

double Between(const ConfigNode& parent, std::string_view key, double fallback, double lo,
               double hi) {
  auto v = parent.Find(key);
  if (!v) return fallback;
  const double x = v->Number();
  if (!(x >= lo && x <= hi)) v->Fail(fmt::format("a number from {} to {}", lo, hi));
  return x;
}

int Count(const ConfigNode& parent, std::string_view key, int fallback, int lo, int hi) {
  auto v = parent.Find(key);
  if (!v) return fallback;
  const auto x = v->Integer();
  if (x < lo || x > hi) v->Fail(fmt::format("a whole number from {} to {}", lo, hi));
  return static_cast<int>(x);
}

/// A fraction, or false (or 0) to turn the rule off.
std::optional<double> FractionOrOff(const ConfigNode& parent, std::string_view key,
                                    std::optional<double> fallback) {
  auto v = parent.Find(key);
  if (!v) return fallback;
  if (v->IsBool() && !v->Bool()) return std::nullopt;
  const double x = v->IsNumber() ? v->Number() : -1.0;
  if (x == 0.0) return std::nullopt;
  if (!(x > 0.0 && x < 1.0)) v->Fail("a fraction between 0 and 1 (e.g. 0.08), or false for none");
  return x;
}

SignalSwapOptions Parse(const ConfigNode& node) {
  node.ExpectKeys({"type",           "holdings",   "watchlist",     "benchmark",
                   "frequency",      "on",         "indicators",    "scoring",
                   "weak_strength",  "weak_alpha", "buy_strength",  "min_improvement",
                   "min_confidence", "max_swaps",  "min_positions", "max_positions",
                   "sizing",         "kelly",      "margin",        "exits"});
  SignalSwapOptions o;
  o.holdings = Symbols(node.At("holdings"));
  if (auto w = node.Find("watchlist")) o.watchlist = Symbols(*w);
  o.benchmark = node.At("benchmark").String();
  o.schedule = Schedule::Parse(node, /*allow_nth=*/false, "weekly");
  if (auto i = node.Find("indicators")) {
    i->ExpectKeys({"rsi", "macd_fast", "macd_slow", "macd_signal", "ma_short", "ma_long",
                   "volume_window", "return_window"});
    auto& p = o.indicators;
    p.rsi = Count(*i, "rsi", p.rsi, 2, 500);
    p.macd_fast = Count(*i, "macd_fast", p.macd_fast, 2, 500);
    p.macd_slow = Count(*i, "macd_slow", p.macd_slow, 2, 500);
    p.macd_signal = Count(*i, "macd_signal", p.macd_signal, 2, 500);
    p.ma_short = Count(*i, "ma_short", p.ma_short, 2, 1000);
    p.ma_long = Count(*i, "ma_long", p.ma_long, 2, 1000);
    p.volume_window = Count(*i, "volume_window", p.volume_window, 2, 500);
    p.return_window = Count(*i, "return_window", p.return_window, 1, 1000);
    if (p.macd_fast >= p.macd_slow) i->Fail("macd_fast shorter than macd_slow");
    if (p.ma_short >= p.ma_long) i->Fail("ma_short shorter than ma_long");
  }
  if (auto s = node.Find("scoring")) {
    s->ExpectKeys({"base", "rsi", "macd", "trend", "performance", "alpha_full_scale"});
    auto& w = o.scoring;
    w.base = Between(*s, "base", w.base, 0, 100);
    w.rsi = Between(*s, "rsi", w.rsi, 0, 100);
    w.macd = Between(*s, "macd", w.macd, 0, 100);
    w.trend = Between(*s, "trend", w.trend, 0, 100);
    w.performance = Between(*s, "performance", w.performance, 0, 100);
    w.alpha_full_scale = Between(*s, "alpha_full_scale", w.alpha_full_scale, 1e-6, 10);
  }
  o.weak_strength = Between(node, "weak_strength", o.weak_strength, 0, 100);
  o.weak_alpha = Between(node, "weak_alpha", o.weak_alpha, -10, 10);
  o.buy_strength = Between(node, "buy_strength", o.buy_strength, 0, 100);
  o.min_improvement = Between(node, "min_improvement", o.min_improvement, 0, 100);
  const std::string conf = node.EnumOr("min_confidence", {"low", "medium", "high"}, "medium");
  o.min_confidence = conf == "low"    ? signals::Confidence::kLow
                     : conf == "high" ? signals::Confidence::kHigh
                                      : signals::Confidence::kMedium;
  o.max_swaps = Count(node, "max_swaps", o.max_swaps, 0, 1000);
  o.min_positions = Count(node, "min_positions", o.min_positions, 0, 1000);
  o.max_positions = Count(node, "max_positions", o.max_positions, 1, 1000);
  if (o.min_positions > o.max_positions) node.At("min_positions").Fail("at most max_positions");
  if (auto s = node.Find("sizing")) {
    s->ExpectKeys({"tiers", "risk", "max_weight"});
    if (auto t = s->Find("tiers")) {
      if (!t->IsArray() || t->Size() == 0)
        t->Fail("an array of {min_strength, min_weight, max_weight}");
      o.sizing.tiers.clear();
      for (std::size_t i = 0; i < t->Size(); ++i) {
        const ConfigNode tier = t->Index(i);
        tier.ExpectKeys({"min_strength", "min_weight", "max_weight"});
        signals::SizingTier st{Between(tier, "min_strength", 0, 0, 100),
                               Between(tier, "min_weight", 0, 0, 1),
                               Between(tier, "max_weight", 0, 0, 1)};
        if (!tier.Has("min_strength") || !tier.Has("min_weight") || !tier.Has("max_weight")) {
          tier.Fail("{\"min_strength\": s, \"min_weight\": a, \"max_weight\": b}");
        }
        if (st.min_weight > st.max_weight) tier.Fail("min_weight <= max_weight");
        o.sizing.tiers.push_back(st);
      }
    }
    const std::string risk = s->EnumOr("risk", {"low", "medium", "high"}, "medium");
    o.sizing.risk_multiplier = risk == "low" ? 0.75 : risk == "high" ? 1.25 : 1.0;
    o.risk_level = risk;
    o.sizing.max_weight = Between(*s, "max_weight", o.sizing.max_weight, 0.0001, 1);
  }
  if (auto k = node.Find("kelly")) {
    k->ExpectKeys({"multiplier", "min_trades"});
    o.kelly = true;
    o.kelly_multiplier = Between(*k, "multiplier", o.kelly_multiplier, 0.0001, 1);
    o.kelly_min_trades = Count(*k, "min_trades", o.kelly_min_trades, 1, 1000000);
  }
  if (auto mg = node.Find("margin")) {
    mg->ExpectKeys({"min_strength", "max_margin", "cash_reserve"});
    o.margin = true;
    o.margin_min_strength = Between(*mg, "min_strength", o.margin_min_strength, 0, 100);
    o.max_margin = Between(*mg, "max_margin", o.max_margin, 0, 10);
    o.cash_reserve = Between(*mg, "cash_reserve", o.cash_reserve, 0, 1);
  }
  if (auto e = node.Find("exits")) {
    e->ExpectKeys({"stop_loss", "time_stop_days", "time_stop_strength", "portfolio_stop",
                   "portfolio_window", "portfolio_cooldown"});
    o.stop_loss = FractionOrOff(*e, "stop_loss", o.stop_loss);
    o.time_stop_days = Count(*e, "time_stop_days", o.time_stop_days, 0, 100000);
    o.time_stop_strength = Between(*e, "time_stop_strength", o.time_stop_strength, 0, 100);
    o.portfolio_stop = FractionOrOff(*e, "portfolio_stop", o.portfolio_stop);
    o.portfolio_window = Count(*e, "portfolio_window", o.portfolio_window, 1, 100000);
    o.portfolio_cooldown = Count(*e, "portfolio_cooldown", o.portfolio_cooldown, 0, 100000);
  }
  return o;
}

}  // namespace

void RegisterSignalSwap(StrategyRegistry& registry) {
  registry.Register("signal_swap", [](const ConfigNode& node) {
    SignalSwapOptions o = Parse(node);
    StrategySpec spec;
    spec.symbols = o.holdings;
    for (const auto& s : o.watchlist) {
      if (std::find(spec.symbols.begin(), spec.symbols.end(), s) == spec.symbols.end()) {
        spec.symbols.push_back(s);
      }
    }
    spec.needs_margin = o.margin;
    spec.make = [o] { return std::make_unique<SignalSwap>(o); };
    return spec;
  });
}

}  // namespace ballast::strategies
