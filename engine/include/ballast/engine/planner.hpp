#pragma once
/// The planner turns (holdings, target weights, prices, cash) into orders. It owns the rules every
/// strategy needs the same way: whole vs fractional shares and lots, minimum trade notional,
/// sells before buys, and fee- and slippage-aware scaling so buys never take cash below zero.
/// Its output is also the rebalance preview shown before anything is sent live.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "ballast/engine/costs.hpp"
#include "ballast/engine/orders.hpp"
#include "ballast/engine/strategy.hpp"

namespace ballast {

enum class ShareMode : std::uint8_t { kFractional, kWhole };

struct PlannerOptions {
  ShareMode shares = ShareMode::kFractional;
  double lot_size = 1.0;            ///< whole-share mode trades multiples of this
  double min_trade_notional = 0.0;  ///< skip trades smaller than this (currency)
  CommissionModel commission;
  double slippage_bps = 0.0;
  // Portfolio rules (config `constraints`). A target that breaks one is clipped and the clip is
  // reported in Plan::clips (the kernel logs `constraint_clipped`).
  /// Per position, as a fraction of the portfolio's value; infinity = no cap (a margin account's
  /// positions may exceed 1).
  double max_weight = std::numeric_limits<double>::infinity();
  double max_turnover = 0.0;  ///< per rebalance, one-way (sum |trade| / 2V); 0 = no cap
  double cash_reserve = 0.0;  ///< fraction of value kept in cash
  // Margin (config `margin`): targets are scaled by `leverage` (gross exposure / equity), and buys
  // may borrow up to a gross exposure of max_leverage * equity. 1 and 1 = a cash account.
  double leverage = 1.0;
  double max_leverage = 1.0;
  // Order type (config `execution.order_type`): limit orders are priced `limit_offset_bps` from
  // the price the planner sized with (above it for buys, below it for sells; see LimitPrice).
  OrderType order_type = OrderType::kMarket;
  double limit_offset_bps = 0.0;
};

/// The limit price of a day limit order sized at `reference`: `offset_bps` above it for a buy,
/// below it for a sell (a negative offset rests on the passive side), on the US equity tick
/// ($0.01 at $1 and above, $0.0001 below), rounded toward the market side so an offset of 0 is
/// marketable at `reference`. Never below one tick.
[[nodiscard]] double LimitPrice(double reference, Side side, double offset_bps) noexcept;

struct PlanInput {
  std::span<const double> quantities;  ///< current holdings per symbol
  std::span<const double> prices;      ///< tradable price per symbol now; NaN = cannot trade now
  std::span<const double> marks;       ///< valuation price per symbol (last close)
  std::span<const double> weights;     ///< target weight per symbol; NaN = no target (keep as is)
  double cash = 0.0;
  bool initial = false;  ///< the first allocation (not subject to the turnover cap)
};

/// A target the rules changed. `symbol` is kNoSymbol for portfolio-wide rules.
struct Clip {
  static constexpr SymbolIndex kNoSymbol = ~SymbolIndex{0};
  SymbolIndex symbol = kNoSymbol;
  std::string_view rule;  ///< "max_weight", "cash_reserve", "max_turnover"
  double requested = 0.0;
  double allowed = 0.0;
};

/// A buy-only investment of new cash (DCA): `amount` is spread over the targets and never more
/// than the cash is spent.
struct InvestInput {
  double amount = 0.0;
  Route route = Route::kByWeight;
  double min_investment = 0.0;  ///< per symbol; smaller shares are dropped and redistributed
};

struct PlannedOrder {
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  double quantity = 0.0;
  double price = 0.0;        ///< the price it was sized with (before slippage)
  double est_fee = 0.0;      ///< estimated commission
  double limit_price = 0.0;  ///< > 0: send as a day limit order at this price
};

struct Plan {
  std::vector<PlannedOrder> orders;  ///< all sells first, then buys, each group by symbol
  double equity = 0.0;               ///< portfolio value the targets were sized on
  double buy_scale = 1.0;            ///< < 1 when buys were scaled down to fit the cash
  std::size_t skipped_min_notional = 0;
  /// Sells dropped because their fee would be at least their proceeds (selling would cost cash).
  std::size_t skipped_fee_exceeds_proceeds = 0;
  std::size_t skipped_min_investment = 0;  ///< invest plans: symbols dropped by min_investment
  double invested = 0.0;                   ///< invest plans: the amount actually allocated
  double buy_notional = 0.0;
  double sell_notional = 0.0;
  double est_fees = 0.0;
  double est_cash_after = 0.0;
  double turnover = 0.0;        ///< one-way turnover of the plan: sum |trade| / (2 * equity)
  std::vector<Clip> clips;      ///< rules that changed the targets
  std::vector<double> deltas;   ///< scratch: share change per symbol (reused between plans)
  std::vector<double> weights;  ///< scratch: targets after the weight rules
};

class Planner {
 public:
  explicit Planner(PlannerOptions options) : options_(options) {}
  [[nodiscard]] const PlannerOptions& Options() const noexcept { return options_; }

  /// Fills `out` (reusing its storage) with the orders that move the holdings toward the targets.
  void MakePlan(const PlanInput& in, Plan& out) const;

  /// Fills `out` with buy orders investing `invest.amount` (at most the cash) across the targets:
  /// by weight, or underweight first by water-filling (every position is raised to at least
  /// target - tau of the new total value, for the smallest tau the amount allows; any rest goes by
  /// weight), which never sells and never increases the largest drift.
  void MakeInvestPlan(const PlanInput& in, const InvestInput& invest, Plan& out) const;

 private:
  [[nodiscard]] double RoundQuantity(double raw) const noexcept;
  /// What a buy at `price` is sized and costed at: the price after slippage for a market order,
  /// the limit for a limit order (what the broker holds for it, and the most it pays).
  [[nodiscard]] double BuyPrice(double price) const noexcept;
  void Reset(Plan& out, const PlanInput& in) const;
  /// Scales the buys in out.orders[first_buy..] down until they cost at most `available`.
  void FitBuys(Plan& out, std::size_t first_buy, double buy_cost, double available) const;
  /// Sums the buys into the plan's estimates and prices limit orders.
  void Finish(Plan& out, std::size_t first_buy, double cash) const;
  /// Applies max_weight and cash_reserve to `in.weights` into out.weights, recording clips.
  void ApplyWeightRules(const PlanInput& in, Plan& out) const;

  PlannerOptions options_;
};

}  // namespace ballast
