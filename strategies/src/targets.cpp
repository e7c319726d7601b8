#include "ballast/strategies/targets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ballast/engine/error.hpp"

namespace ballast::strategies {

std::vector<TargetWeight> ParseTargets(const ConfigNode& targets) {
  if (!targets.IsObject())
    targets.Fail("an object of symbol: weight, e.g. {\"SPY\": 0.6, \"TLT\": 0.4}");
  std::vector<TargetWeight> out;
  double sum = 0.0;
  for (const auto& key : targets.Keys()) {
    const ConfigNode w = targets.At(key);
    if (key.empty()) targets.Fail("non-empty symbol names");
    const double v = w.Number();
    if (v < 0.0) w.Fail("a weight >= 0 (short positions are not supported)");
    out.push_back({key, v});
    sum += v;
  }
  if (out.empty()) targets.Fail("at least one symbol");
  if (std::abs(sum - 1.0) > 1e-9) {
    std::string hint;
    if (std::abs(sum - 100.0) < 1e-6) hint = "; they look like percentages: divide by 100";
    targets.Fail(fmt::format("weights summing to 1 (within 1e-9), they sum to {}{}", sum, hint));
  }
  return out;
}

TargetSchedule TargetSchedule::Parse(const ConfigNode& strategy) {
  const auto targets = strategy.Find("targets");
  const auto schedule = strategy.Find("schedule");
  if (targets && schedule) schedule->Fail("either \"targets\" or \"schedule\", not both");
  if (!targets && !schedule) {
    throw Error(
        ErrorKind::kConfig,
        fmt::format("{}.targets: missing required key (or give a dated \"schedule\" of targets)",
                    strategy.Path()));
  }
  std::vector<std::pair<Days, std::vector<TargetWeight>>> raw;
  if (targets) {
    raw.emplace_back(Days{std::chrono::days{std::numeric_limits<int>::min() / 2}},
                     ParseTargets(*targets));
  } else {
    if (!schedule->IsArray() || schedule->Size() == 0) {
      schedule->Fail("a non-empty array of {\"from\": \"YYYY-MM-DD\", \"targets\": {...}}");
    }
    for (std::size_t i = 0; i < schedule->Size(); ++i) {
      const ConfigNode entry = schedule->Index(i);
      entry.ExpectKeys({"from", "targets"});
      const ConfigNode from = entry.At("from");
      const auto day = ParseIsoDate(from.String());
      if (!day) from.Fail("a date YYYY-MM-DD");
      if (!raw.empty() && *day <= raw.back().first) from.Fail("a date after the previous entry's");
      raw.emplace_back(*day, ParseTargets(entry.At("targets")));
    }
  }
  TargetSchedule s;
  for (const auto& [day, set] : raw) {
    for (const auto& t : set) {
      if (std::find(s.symbols_.begin(), s.symbols_.end(), t.symbol) == s.symbols_.end()) {
        s.symbols_.push_back(t.symbol);
      }
    }
  }
  for (const auto& [day, set] : raw) {
    Set out{day, std::vector<double>(s.symbols_.size(), 0.0)};
    for (const auto& t : set) {
      const auto it = std::find(s.symbols_.begin(), s.symbols_.end(), t.symbol);
      out.weights[static_cast<std::size_t>(it - s.symbols_.begin())] = t.weight;
    }
    s.sets_.push_back(std::move(out));
  }
  return s;
}

const std::vector<double>& TargetSchedule::WeightsOn(Days day) const noexcept {
  // The last set whose date is on or before `day`; before the first date, the first set.
  std::size_t k = 0;
  while (k + 1 < sets_.size() && sets_[k + 1].from <= day)
    ++k;
  return sets_[k].weights;
}

bool TargetSchedule::ChangesOn(Days day, const Days* previous) const noexcept {
  if (previous == nullptr) return false;
  for (std::size_t k = 1; k < sets_.size(); ++k) {
    if (sets_[k].from <= day && sets_[k].from > *previous) return true;
  }
  return false;
}

void TargetSchedule::LogUpdate(const StrategyContext& ctx) const {
  if (!ChangesOn(ctx.day, ctx.previous_session)) return;
  const auto& w = WeightsOn(ctx.day);
  std::string targets = "{";
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (i) targets += ',';
    AppendJsonString(targets, symbols_[i]);
    targets += ':' + JsonNumber(w[i]);
  }
  targets += '}';
  ctx.events.AddEvent(DayToTimestamp(ctx.day), "allocation_update",
                      JsonFields().Add("reason", "schedule").AddRaw("targets", targets).Take());
}

void CurrentWeights(const StrategyContext& ctx, double basis, std::vector<double>& out) {
  out.resize(ctx.tradable);
  const auto& p = ctx.portfolio;
  for (std::size_t i = 0; i < ctx.tradable; ++i) {
    out[i] = basis > 0.0 && p.quantities[i] != 0.0 ? p.quantities[i] * p.marks[i] / basis : 0.0;
  }
}

Drift MeasureDrift(std::span<const double> weights, std::span<const double> targets) {
  Drift d;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const double diff = weights[i] - targets[i];
    d.absolute = std::max(d.absolute, std::abs(diff));
    if (targets[i] > 0.0) {
      d.relative = std::max(d.relative, std::abs(weights[i] / targets[i] - 1.0));
    } else if (weights[i] > 0.0) {
      d.relative = std::max(d.relative, 1.0);
    }
  }
  return d;
}

std::string DriftJson(const StrategyContext& ctx, std::span<const double> weights,
                      std::span<const double> targets) {
  std::string out = "{";
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, ctx.panel.Symbols()[i]);
    out += ':' + JsonNumber(weights[i] - targets[i]);
  }
  out += '}';
  return out;
}

}  // namespace ballast::strategies
