#pragma once
/// Scheduled external cash flows for any strategy (config `cash_flows`): contributions are booked
/// as flows and wait in cash for the strategy to invest them; withdrawals are paid from cash, and
/// when the cash is short the positions are sold down pro rata first. Flows are never return.

#include <memory>
#include <optional>
#include <vector>

#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/schedule.hpp"

namespace ballast::strategies {

struct CashFlowRule {
  double amount = 0.0;  ///< > 0 contribution, < 0 withdrawal
  Schedule schedule;
  std::optional<Days> from;
  std::optional<Days> until;
};

/// Parses `[{"amount": 500, "frequency": "monthly", "on": "first", "from": "...", "until":
/// "..."}]`.
[[nodiscard]] std::vector<CashFlowRule> ParseCashFlows(const ConfigNode& node);

class WithCashFlows final : public Strategy {
 public:
  WithCashFlows(std::unique_ptr<Strategy> inner, std::vector<CashFlowRule> rules)
      : inner_(std::move(inner)), rules_(std::move(rules)) {}
  [[nodiscard]] std::string_view Type() const noexcept override { return inner_->Type(); }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;
  /// Flows fall on sessions, never between checks: the inner strategy's recheck alone.
  [[nodiscard]] bool Recheck(const StrategyContext& ctx, Target& target) override {
    return inner_->Recheck(ctx, target);
  }

 private:
  std::unique_ptr<Strategy> inner_;
  std::vector<CashFlowRule> rules_;
};

}  // namespace ballast::strategies
