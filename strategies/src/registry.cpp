#include "ballast/strategies/registry.hpp"

#include <fmt/format.h>

#include <optional>

#include "ballast/engine/error.hpp"
#include "ballast/strategies/rebalancing.hpp"
#include "ballast/strategies/signal_swap.hpp"
#include "ballast/strategies/sleeves.hpp"

namespace ballast::strategies {

void StrategyRegistry::Register(std::string type, StrategyParser parser) {
  parsers_[std::move(type)] = std::move(parser);
}

std::vector<std::string> StrategyRegistry::Types() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : parsers_)
    out.push_back(k);
  return out;
}

StrategySpec StrategyRegistry::Parse(const ConfigNode& strategy) const {
  if (!strategy.IsObject()) strategy.Fail("an object with a \"type\"");
  const ConfigNode type = strategy.At("type");
  const std::string name = type.String();
  auto it = parsers_.find(name);
  if (it == parsers_.end()) {
    std::string known;
    for (const auto& t : Types())
      known += fmt::format("{}\"{}\"", known.empty() ? "" : ", ", t);
    type.Fail(fmt::format("a strategy type, one of {}", known));
  }
  StrategySpec spec = it->second(strategy);
  spec.type = name;
  return spec;
}

namespace {

std::vector<double> WeightsOf(const std::vector<TargetWeight>& targets) {
  std::vector<double> w;
  for (const auto& t : targets)
    w.push_back(t.weight);
  return w;
}

std::vector<std::string> SymbolsOf(const std::vector<TargetWeight>& targets) {
  std::vector<std::string> s;
  for (const auto& t : targets)
    s.push_back(t.symbol);
  return s;
}

std::optional<double> PositiveOr(const ConfigNode& node, std::string_view key) {
  auto v = node.Find(key);
  if (!v) return std::nullopt;
  const double x = v->Number();
  if (!(x >= 0.0)) v->Fail("a number >= 0");
  return x;
}

/// A drift threshold or band: a fraction of the portfolio (0.05 = 5 %). A value above 1 could
/// never be reached (drift is at most 1), so it is a percentage written as one: an error.
std::optional<double> FractionOr(const ConfigNode& node, std::string_view key) {
  auto v = node.Find(key);
  if (!v) return std::nullopt;
  const double x = v->Number();
  if (!(x >= 0.0)) v->Fail("a fraction >= 0 (0.05 = 5 %)");
  if (x > 1.0) {
    v->Fail(fmt::format("a fraction <= 1 (0.05 = 5 %); {} looks like a percentage: use {}",
                        JsonNumber(x), JsonNumber(x / 100.0)));
  }
  return x;
}

}  // namespace

void RegisterBuiltinStrategies(StrategyRegistry& registry) {
  RegisterSleeves(registry);
  RegisterSignalSwap(registry);
  registry.Register("calendar", [](const ConfigNode& node) {
    node.ExpectKeys({"type", "frequency", "on", "rebalance_day", "only_if_drift", "targets",
                     "schedule", "universe", "weights"});
    const Schedule schedule = Schedule::Parse(node, /*allow_nth=*/true);
    const auto only_if_drift = FractionOr(node, "only_if_drift");
    TargetSource targets = TargetSource::Parse(node);
    StrategySpec spec;
    spec.symbols = targets.Symbols();
    spec.make = [targets, schedule, only_if_drift] {
      return std::make_unique<CalendarRebalance>(targets, schedule, only_if_drift);
    };
    return spec;
  });
  registry.Register("buy_and_hold", [](const ConfigNode& node) {
    node.ExpectKeys({"type", "targets"});
    const auto targets = ParseTargets(node.At("targets"));
    StrategySpec spec;
    spec.symbols = SymbolsOf(targets);
    spec.make = [w = WeightsOf(targets)] { return std::make_unique<BuyAndHold>(w); };
    return spec;
  });
  registry.Register("dca", [](const ConfigNode& node) {
    node.ExpectKeys({"type", "frequency", "on", "investment_amount", "funding", "route",
                     "min_investment_per_symbol", "rebalance_threshold", "targets", "schedule",
                     "universe", "weights"});
    TargetSource targets = TargetSource::Parse(node);
    DcaOptions o;
    o.schedule = Schedule::Parse(node);
    const ConfigNode amount = node.At("investment_amount");
    o.investment_amount = amount.Number();
    if (!(o.investment_amount >= 0.0)) amount.Fail("an amount per period >= 0");
    o.funding_contribution =
        node.EnumOr("funding", {"contribution", "cash"}, "contribution") == "contribution";
    o.route = node.EnumOr("route", {"by_weight", "underweight_first"}, "by_weight") == "by_weight"
                  ? Route::kByWeight
                  : Route::kUnderweightFirst;
    o.min_investment_per_symbol = PositiveOr(node, "min_investment_per_symbol").value_or(0.0);
    o.rebalance_threshold = FractionOr(node, "rebalance_threshold");
    StrategySpec spec;
    spec.symbols = targets.Symbols();
    spec.make = [targets, o] { return std::make_unique<Dca>(targets, o); };
    return spec;
  });
  registry.Register("threshold", [](const ConfigNode& node) {
    node.ExpectKeys({"type", "band", "check", "on", "trade_to", "min_trade", "targets", "schedule",
                     "universe", "weights"});
    TargetSource targets = TargetSource::Parse(node);
    ThresholdOptions o;
    const ConfigNode band = node.At("band");
    if (band.IsNumber()) {
      o.band.absolute = FractionOr(node, "band");  // shorthand: "band": 0.05
    } else {
      band.ExpectKeys({"absolute", "relative"});
      o.band.absolute = FractionOr(band, "absolute");
      o.band.relative = FractionOr(band, "relative");
      if (!o.band.absolute && !o.band.relative)
        band.Fail("{\"absolute\": x} and/or {\"relative\": y}");
    }
    // `check` is the period between drift checks (a name or a number of trading days).
    o.check = Schedule::Parse(node, /*allow_nth=*/false, "daily", "check");
    o.to_band_edge = node.EnumOr("trade_to", {"target", "band_edge"}, "target") == "band_edge";
    StrategySpec spec;
    spec.symbols = targets.Symbols();
    spec.min_trade_notional = PositiveOr(node, "min_trade").value_or(0.0);
    spec.make = [targets, o] { return std::make_unique<ThresholdRebalance>(targets, o); };
    return spec;
  });
}

}  // namespace ballast::strategies
