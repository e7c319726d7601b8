#include "ballast/strategies/registry.hpp"

#include <fmt/format.h>

#include "ballast/engine/error.hpp"
#include "ballast/strategies/calendar_rebalance.hpp"

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

}  // namespace

void RegisterBuiltinStrategies(StrategyRegistry& registry) {
  registry.Register("calendar", [](const ConfigNode& node) {
    node.ExpectKeys({"type", "frequency", "on", "targets"});
    const auto targets = ParseTargets(node.At("targets"));
    const Schedule schedule = Schedule::Parse(node);
    StrategySpec spec;
    spec.symbols = SymbolsOf(targets);
    spec.make = [w = WeightsOf(targets), schedule] {
      return std::make_unique<CalendarRebalance>(w, schedule);
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
}

}  // namespace ballast::strategies
