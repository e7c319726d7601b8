#include "ballast/strategies/target_source.hpp"

namespace ballast::strategies {

TargetSource TargetSource::Parse(const ConfigNode& node) {
  TargetSource s;
  if (auto weights = node.Find("weights")) {
    if (node.Has("targets") || node.Has("schedule"))
      weights->Fail("either \"weights\" or \"targets\"");
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
  if (session_ < weigher_->Config().warmup) return nullptr;
  if (recompute) have_model_ = weigher_->Compute(ctx, model_);
  return have_model_ ? &model_ : nullptr;
}

}  // namespace ballast::strategies
