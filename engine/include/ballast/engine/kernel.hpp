#pragma once
/// The kernel: the single writer of portfolio state, driven one time slice at a time by whatever
/// EventSource `main` chose. Per slice, in a fixed order: (1) the venue fills what is due at the
/// open (after the row's splits and dividends), (2) the ledger is marked to market, (3) due timers
/// fire, (4) the strategy sees the slice, (5) the planner turns its target into orders, (6) the
/// risk gate checks them, (7) they go to the venue, which fills close orders; then the slice is
/// recorded. It has no idea whether it runs a backtest or a live session.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/event_source.hpp"
#include "ballast/engine/ledger.hpp"
#include "ballast/engine/order_manager.hpp"
#include "ballast/engine/planner.hpp"
#include "ballast/engine/risk.hpp"
#include "ballast/engine/run_record.hpp"
#include "ballast/engine/strategy.hpp"
#include "ballast/engine/venue.hpp"

namespace ballast {

struct KernelParts {
  const BarPanel& panel;
  const SessionCalendar& sessions;
  Clock& clock;
  Strategy& strategy;
  const Planner& planner;
  const RiskGate& risk;
  Venue& venue;
  OrderManager& orders;
  Ledger& ledger;
  RunRecord& record;
};

struct KernelOptions {
  std::size_t tradable = 0;             ///< panel columns [0, tradable) are the portfolio's symbols
  std::ptrdiff_t benchmark = -1;        ///< panel column of the benchmark, or -1
  bool check_exchange_calendar = true;  ///< log data gaps against the NYSE calendar
  std::size_t history_row = 0;          ///< StrategyContext::history_row
  // Margin account (defaults: a cash account).
  double leverage = 1.0;       ///< target gross exposure / equity after a margin call
  double max_leverage = 1.0;   ///< buying power: gross exposure up to this times equity
  double interest_rate = 0.0;  ///< annual, on borrowed cash, accrued per calendar day (act/365)
  double maintenance = 0.0;    ///< margin call when equity / gross exposure falls below this
  /// False live: a strategy's contributions and withdrawals are not booked (the money moves at
  /// the broker and shows in the reconciled cash); investments spend the cash on hand.
  bool book_external_flows = true;
  // Corporate actions (the panel holds them only for raw or split-adjusted prices).
  bool whole_shares = false;        ///< a split's fraction of a share is paid as cash in lieu
  bool reinvest_dividends = false;  ///< a dividend buys more of its symbol at the ex-date close
};

class Kernel final : public SliceSink {
 public:
  Kernel(KernelParts parts, KernelOptions options);

  void OnSlice(std::size_t row) override;
  void OnSourceEnd() override;

  /// Live sessions: the strategy already saw `previous_session` in an earlier process (from the
  /// journal), so the next slice is not the first and schedules compare against that day.
  void Resume(Days previous_session) { previous_day_ = previous_session; }
  [[nodiscard]] bool Finished() const noexcept { return finished_; }
  /// The last target the strategy (or a margin call) set: one weight per tradable symbol, NaN =
  /// left as it was. Live sessions measure drift against it.
  [[nodiscard]] const Target& LastTarget() const noexcept { return target_; }
  [[nodiscard]] std::span<const double> Marks() const noexcept { return marks_; }
  /// The orders the risk gate denied at the last slice (empty when it did not decide).
  [[nodiscard]] const std::vector<RiskDenial>& LastDenials() const noexcept { return denied_; }
  /// Cash plus what a margin account may still borrow, at the last marks.
  [[nodiscard]] double BuyingPower() const noexcept;

 private:
  void CheckData(std::size_t row, Days day);
  /// Step 0 of a slice: the row's splits and dividends (kernel_actions.cpp).
  void ApplyActions(std::size_t row, Timestamp now);
  /// Buys with the dividends of this slice when reinvesting and the strategy did not trade.
  void ReinvestDividends(std::size_t row, Timestamp now);
  void Rebalance(std::size_t row, Timestamp now);
  void RecordSlice(std::size_t row);

  KernelParts p_;
  KernelOptions options_;
  std::vector<double> marks_;  // last close per tradable symbol (NaN before its first bar)
  double benchmark_mark_;
  Target target_;
  Plan plan_;
  std::vector<RiskDenial> denied_;
  std::optional<Days> previous_day_;
  std::uint64_t decisions_ = 0;
  double pending_flow_ = 0.0;
  double pending_withdrawal_ = 0.0;  // waiting for sells to fill
  double equity_at_mark_ = 0.0;      // equity after this slice's marking (for buying power)
  std::vector<std::pair<SymbolIndex, double>> dividends_;  // this slice's, to reinvest
  void PayWithdrawal(Timestamp now);
  /// Accrues interest on borrowed cash and checks maintenance; true when a margin call forces a
  /// deleveraging rebalance this slice.
  bool CheckMargin(Days day, Timestamp now);
  bool finished_ = false;
};

}  // namespace ballast
