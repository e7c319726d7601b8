#pragma once
/// `calendar`: rebalance to fixed target weights on a schedule (first or last session of each
/// day, ISO week, month, quarter or year); the run's first session always allocates.
/// `buy_and_hold`: allocate once at the first session and never trade again.

#include <vector>

#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/schedule.hpp"
#include "ballast/strategies/targets.hpp"

namespace ballast::strategies {

class CalendarRebalance final : public Strategy {
 public:
  CalendarRebalance(std::vector<double> weights, Schedule schedule)
      : weights_(std::move(weights)), schedule_(schedule) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "calendar"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

 private:
  std::vector<double> weights_;
  Schedule schedule_;
};

class BuyAndHold final : public Strategy {
 public:
  explicit BuyAndHold(std::vector<double> weights) : weights_(std::move(weights)) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return "buy_and_hold"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;

 private:
  std::vector<double> weights_;
};

}  // namespace ballast::strategies
