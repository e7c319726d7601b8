#pragma once
/// The portfolio ledger: cash, positions, average cost, realized P&L, fees and external flows. It
/// changes only on fills and external cash flows, and books exactly what the venue reported.
/// Invariants (finite values, no short positions, cash not below zero beyond rounding in a cash
/// account) are checked on every change; a broken one throws Error(kInternal) with the fill's
/// details: that is a bug, not input (configs are bounded so that none can cause it).

#include <cstddef>
#include <span>
#include <vector>

#include "ballast/engine/orders.hpp"

namespace ballast {

class Ledger {
 public:
  /// `allow_borrowing`: a margin account, whose cash may go negative (the planner, risk gate and
  /// venue bound it by buying power); in a cash account negative cash is a broken invariant.
  Ledger(std::size_t symbols, double initial_cash, bool allow_borrowing = false);

  void ApplyFill(const Fill& fill);
  /// Live reconciliation: the broker is the source of truth, so cash, positions and average costs
  /// are set to its figures (the caller logs any difference). Not used in backtests.
  void Reconcile(std::span<const double> quantities, std::span<const double> average_costs,
                 double cash);
  /// Interest on borrowed cash (> 0), charged to cash.
  void ChargeInterest(double amount);
  [[nodiscard]] double InterestPaid() const noexcept { return interest_; }
  /// Gross long exposure at `marks`.
  [[nodiscard]] double Exposure(std::span<const double> marks) const noexcept;
  /// External cash flow: positive = contribution, negative = withdrawal.
  void ExternalFlow(double amount);
  /// A split of `ratio` new shares per old one: the position is multiplied, its average cost
  /// divided, its value unchanged. With `whole_shares` the fraction a split leaves is paid in
  /// cash at `price` (a post-split share price; cash in lieu). Returns the cash paid.
  double ApplySplit(SymbolIndex s, double ratio, bool whole_shares, double price);
  /// A cash dividend of `per_share` on the position held: credited to cash, not a flow.
  /// Returns the amount.
  double CreditDividend(SymbolIndex s, double per_share);
  [[nodiscard]] double DividendsReceived() const noexcept { return dividends_; }

  [[nodiscard]] double Cash() const noexcept { return cash_; }
  [[nodiscard]] double Quantity(SymbolIndex s) const noexcept { return qty_[s]; }
  [[nodiscard]] std::span<const double> Quantities() const noexcept { return qty_; }
  [[nodiscard]] double AverageCost(SymbolIndex s) const noexcept { return avg_cost_[s]; }
  [[nodiscard]] double RealizedPnl() const noexcept { return realized_; }
  [[nodiscard]] double Commissions() const noexcept { return commissions_; }
  [[nodiscard]] double SlippageCost() const noexcept { return slippage_; }
  [[nodiscard]] double NetFlows() const noexcept { return net_flows_; }
  /// Cash plus positions valued at `marks` (one price per symbol; positions with no mark yet must
  /// be zero).
  [[nodiscard]] double Equity(std::span<const double> marks) const noexcept;
  /// Unrealized P&L of all positions at `marks`.
  [[nodiscard]] double UnrealizedPnl(std::span<const double> marks) const noexcept;

 private:
  void Check(const Fill& fill) const;

  double cash_;
  double realized_ = 0.0;
  double commissions_ = 0.0;
  double slippage_ = 0.0;
  double net_flows_ = 0.0;
  double gross_traded_ = 0.0;
  double interest_ = 0.0;
  double dividends_ = 0.0;
  bool allow_borrowing_ = false;
  std::vector<double> qty_;
  std::vector<double> avg_cost_;
};

}  // namespace ballast
