// libFuzzer target: a config document (and a --set assignment) through ConfigNode and every
// strategy's parser. Any input is a parsed config or a ballast::Error; nothing else.

#include <cstdint>
#include <string>
#include <string_view>

#include "ballast/backtests/backtest_config.hpp"
#include "ballast/engine/config_node.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/strategies/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ballast;
  static const strategies::StrategyRegistry* registry = [] {
    auto* r = new strategies::StrategyRegistry();
    strategies::RegisterBuiltinStrategies(*r);
    return r;
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // A first line starting with "--set " is applied as an override to the rest.
  std::string_view set;
  std::string_view json = input;
  if (input.rfind("--set ", 0) == 0) {
    const auto nl = input.find('\n');
    set = input.substr(6, nl == std::string_view::npos ? std::string_view::npos : nl - 6);
    json = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  }
  try {
    ConfigDocument doc = ConfigDocument::FromText(json, "fuzz.json");
    if (!set.empty()) doc.ApplySet(set);
    const auto config = backtests::ParseBacktestConfig(doc, *registry);
    (void)config;
    (void)doc.Pretty();
  } catch (const Error&) {
  }
  return 0;
}
