#pragma once
/// Multi-strategy portfolios (`type: "sleeves"`, docs/strategies.md "Sleeves"): each sleeve is a
/// rebalancing strategy with its own virtual book (its share of the account, fractional, marked at
/// closes); the account holds the sum of the books. Every slice the sleeves decide on their own
/// books, their trades are netted per symbol into one target for the planner and order manager,
/// and on the sleeve schedule the books are moved back to the sleeve allocation (fixed or
/// adaptive), after the risk limits have reduced or removed breaching sleeves.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/strategy.hpp"
#include "ballast/strategies/registry.hpp"
#include "ballast/strategies/schedule.hpp"

namespace ballast::strategies {

struct SleeveLimits {
  double min_weight = 0.0;  ///< per sleeve, of the portfolio
  double max_weight = 1.0;
  std::optional<double> max_correlation;      ///< any pair of sleeves' daily returns
  std::optional<double> max_avg_correlation;  ///< a sleeve's mean correlation with the others
  std::optional<double> min_sharpe;           ///< trailing annualised Sharpe (rf 0)
  std::optional<double> max_drawdown;         ///< trailing, as a positive fraction
  bool remove = false;                        ///< breach: remove (weight 0) instead of halving
};

struct SleevesOptions {
  struct Sleeve {
    std::string name;
    double weight = 0.0;
    StrategySpec spec;
    std::vector<std::size_t> columns;  ///< the sleeve's symbols as columns of the union
  };
  std::vector<Sleeve> sleeves;
  std::vector<std::string> symbols;  ///< union of the sleeves' symbols
  Schedule rebalance;                ///< when the books go back to the allocation
  int lookback = 126;                ///< sessions of sleeve returns for limits and adaptive
  SleeveLimits limits;
  bool adaptive = false;
  double tilt = 0.5;         ///< adaptive: w = base * max(0, 1 + tilt * z(score))
  double min_change = 0.05;  ///< adaptive: keep the allocation unless a weight moves this much
};

class Sleeves final : public Strategy {
 public:
  explicit Sleeves(std::shared_ptr<const SleevesOptions> options);
  ~Sleeves() override;
  [[nodiscard]] std::string_view Type() const noexcept override { return "sleeves"; }
  [[nodiscard]] bool Decide(const StrategyContext& ctx, Target& target) override;
  [[nodiscard]] bool Recheck(const StrategyContext& ctx, Target& target) override;

 private:
  struct Book;
  void Start(const StrategyContext& ctx);
  /// One slice: a decision, or (`recheck`) a further slice of a day decided.
  bool Slice(const StrategyContext& ctx, Target& target, bool recheck);
  /// The allocation for today: limits applied, adaptive tilt, bounds; logs what it changed.
  std::vector<double> Allocation(const StrategyContext& ctx);
  void Publish(const StrategyContext& ctx);

  std::shared_ptr<const SleevesOptions> o_;
  Schedule schedule_;  // a copy: schedules keep state
  std::vector<std::unique_ptr<Book>> books_;
  std::vector<double> allocation_;  ///< current sleeve weights
  double unallocated_ = 0.0;        ///< cash no sleeve holds (caps, removed sleeves)
  double initial_value_ = 0.0;
};

/// Registers `sleeves`, whose children are parsed by `registry` (calendar, threshold and
/// buy_and_hold).
void RegisterSleeves(StrategyRegistry& registry);

}  // namespace ballast::strategies
