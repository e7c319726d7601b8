#include "ballast/strategies/target_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ballast::strategies {

double GlidePath::AgeOn(Days day, Days first) const {
  if (birth) return static_cast<double>((day - *birth).count()) / 365.25;
  return age_at_start + static_cast<double>((day - first).count()) / 365.25;
}

double GlidePath::ShareAt(double age) const {
  if (table.empty()) return std::clamp((rule - age) / 100.0, 0.0, 1.0);
  if (age <= table.front().first) return table.front().second;
  if (age >= table.back().first) return table.back().second;
  auto hi = std::upper_bound(table.begin(), table.end(), age,
                             [](double a, const auto& row) { return a < row.first; });
  auto lo = hi - 1;
  const double f = (age - lo->first) / (hi->first - lo->first);
  return lo->second + f * (hi->second - lo->second);
}

namespace {

GlidePath ParseGlidePath(const ConfigNode& w, std::vector<std::string>& symbols) {
  w.ExpectKeys(
      {"model", "aggressive", "safe", "birth_year", "birth_date", "age_at_start", "table", "rule"});
  GlidePath g;
  const auto aggressive = ParseTargets(w.At("aggressive"));
  const auto safe = ParseTargets(w.At("safe"));
  for (const auto* set : {&aggressive, &safe}) {
    for (const auto& t : *set) {
      if (std::find(symbols.begin(), symbols.end(), t.symbol) == symbols.end())
        symbols.push_back(t.symbol);
    }
  }
  auto spread = [&](const std::vector<TargetWeight>& set) {
    std::vector<double> out(symbols.size(), 0.0);
    for (const auto& t : set)
      out[static_cast<std::size_t>(std::find(symbols.begin(), symbols.end(), t.symbol) -
                                   symbols.begin())] = t.weight;
    return out;
  };
  g.aggressive = spread(aggressive);
  g.safe = spread(safe);
  const int given = (w.Has("birth_year") ? 1 : 0) + (w.Has("birth_date") ? 1 : 0) +
                    (w.Has("age_at_start") ? 1 : 0);
  if (given != 1) w.Fail("exactly one of \"birth_year\", \"birth_date\" or \"age_at_start\"");
  if (auto y = w.Find("birth_year")) {
    const double year = y->Number();
    if (!(year >= 1900 && year <= 2100) || year != std::floor(year)) y->Fail("a year like 1980");
    g.birth = std::chrono::sys_days{std::chrono::year{static_cast<int>(year)} / 1 / 1};
  } else if (auto d = w.Find("birth_date")) {
    const auto day = ParseIsoDate(d->String());
    if (!day) d->Fail("a date YYYY-MM-DD");
    g.birth = *day;
  } else {
    g.age_at_start = w.At("age_at_start").Number();
    if (!(g.age_at_start >= 0 && g.age_at_start < 150))
      w.At("age_at_start").Fail("an age in years");
  }
  if (auto t = w.Find("table")) {
    if (w.Has("rule")) t->Fail("either \"table\" or \"rule\"");
    if (!t->IsArray() || t->Size() == 0) t->Fail("an array of [age, aggressive share] pairs");
    for (std::size_t i = 0; i < t->Size(); ++i) {
      const ConfigNode row = t->Index(i);
      if (!row.IsArray() || row.Size() != 2) row.Fail("[age, aggressive share]");
      const double age = row.Index(0).Number();
      const double share = row.Index(1).Number();
      if (!g.table.empty() && age <= g.table.back().first)
        row.Index(0).Fail("an age above the previous row's");
      if (!(share >= 0.0 && share <= 1.0)) row.Index(1).Fail("a share from 0 to 1");
      g.table.emplace_back(age, share);
    }
  }
  g.rule = w.NumberOr("rule", 110.0);
  return g;
}

}  // namespace

TargetSource TargetSource::Parse(const ConfigNode& node) {
  TargetSource s;
  if (auto weights = node.Find("weights")) {
    if (node.Has("targets") || node.Has("schedule"))
      weights->Fail("either \"weights\" or \"targets\"");
    if (weights->IsObject() && weights->Has("model") && weights->At("model").IsString() &&
        weights->At("model").String() == "glide_path") {
      if (auto universe = node.Find("universe"))
        universe->Fail(
            "no universe with a glide path (its symbols are those of aggressive and safe)");
      s.glide_ = ParseGlidePath(*weights, s.symbols_);
      return s;
    }
    const ConfigNode universe = node.At("universe");
    if (!universe.IsArray() || universe.Size() == 0) universe.Fail("a non-empty array of symbols");
    for (std::size_t i = 0; i < universe.Size(); ++i)
      s.symbols_.push_back(universe.Index(i).String());
    s.weigher_.emplace(WeigherConfig::Parse(*weights, s.symbols_.size()));
    return s;
  }
  if (auto universe = node.Find("universe"))
    universe->Fail("no universe without \"weights\" (use \"targets\")");
  s.fixed_ = TargetSchedule::Parse(node);
  s.symbols_ = s.fixed_->Symbols();
  return s;
}

const std::vector<double>* TargetSource::Today(const StrategyContext& ctx, bool recompute) {
  ++session_;
  if (fixed_) {
    fixed_->LogUpdate(ctx);
    return &fixed_->WeightsOn(ctx.day);
  }
  if (glide_) {
    if (session_ == 0) first_day_ = ctx.day;
    if (recompute || !have_model_) {
      const double share = glide_->ShareAt(glide_->AgeOn(ctx.day, first_day_));
      model_.resize(symbols_.size());
      for (std::size_t i = 0; i < symbols_.size(); ++i)
        model_[i] = share * glide_->aggressive[i] + (1.0 - share) * glide_->safe[i];
      have_model_ = true;
    }
    return &model_;
  }
  if (session_ < weigher_->Config().warmup) return nullptr;
  if (recompute) have_model_ = weigher_->Compute(ctx, model_);
  return have_model_ ? &model_ : nullptr;
}

}  // namespace ballast::strategies
