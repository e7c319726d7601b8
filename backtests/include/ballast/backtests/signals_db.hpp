#pragma once
/// The signal tracker: every signal and swap recommendation a run produced (RunRecord::signals,
/// ::recommendations), with whether it was acted on and its outcome, in SQLite
/// (`signals.sqlite`, schema in docs/signals.md), and the `ballast signals` report over it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ballast/backtests/backtest.hpp"

namespace ballast::backtests {

struct OutcomeRules {
  int horizon = 20;     ///< sessions after a signal for forward-looking outcomes
  double band = 0.005;  ///< |return| within this is breakeven
};

/// What happened after one signal (same order as RunRecord::signals).
struct SignalOutcome {
  bool acted_on = false;  ///< a trade in the signal's direction on its day
  std::string outcome;    ///< win | loss | breakeven | open | missed | passed | "" (none)
  std::optional<Timestamp> exit_time;
  double exit_price = 0.0;  ///< NaN when none
  double profit = 0.0;      ///< currency; NaN when not attributed
  double profit_pct = 0.0;  ///< NaN when none
  int days_held = -1;       ///< calendar days; -1 when none
};

/// Outcomes, from the run's trades and prices:
/// - buy acted on, opening a position: the position's round trip (first buy to the sell that
///   closes it): profit = sells - buys - fees, win / loss / breakeven by profit / cost against the
///   band; still open at the end: `open`, marked at the last close. A buy that adds to an open
///   position takes that position's outcome without profit (the opener carries it);
/// - buy not acted on: `missed` when the price rose by more than the band over the horizon,
///   otherwise `passed`;
/// - sell acted on: judged on the horizon after it: a fall is a `win` (profit = the loss avoided
///   on the notional sold), a rise a `loss`;
/// - hold, or a sell not acted on: no outcome.
[[nodiscard]] std::vector<SignalOutcome> SignalOutcomes(const BacktestResult& r,
                                                        const OutcomeRules& rules = {});

/// Writes `path` (replaced) with tables trading_signals, rebalancing_recommendations and meta.
void WriteSignalsDb(const BacktestResult& r, const std::string& path,
                    const OutcomeRules& rules = {});

/// Advisory and live use: appends signals and recommendations (no outcome) to `path`, creating
/// the database if needed. `acted` (one per signal) marks those an order was placed for; none =
/// not acted on.
void AppendSignalsDb(const std::string& path, const std::string& source,
                     const std::vector<std::string>& symbols, const std::vector<SignalRow>& signals,
                     const std::vector<RecommendationRow>& recommendations,
                     const std::vector<bool>* acted = nullptr);

/// A fill as the live journal records it.
struct TrackedFill {
  std::string symbol;
  bool buy = true;
  double qty = 0.0, price = 0.0, commission = 0.0;
  Days day{};
};

/// Live use: settles the outcomes of signals appended earlier, with the same rules as
/// SignalOutcomes. `fills` are all the account's fills in time order; `positions` today's
/// quantities; `closes(symbol)` the daily closes known up to `today` as (day, close), oldest
/// first. An acted-on opening buy is `open` (marked at today's close) until its position has
/// been sold to zero, then win / loss / breakeven; sells and buys not taken are judged once the
/// horizon's sessions have passed. Returns how many rows changed.
std::size_t SettleLiveOutcomes(
    const std::string& path, Days today, const std::vector<TrackedFill>& fills,
    const std::function<double(const std::string&)>& position,
    const std::function<std::vector<std::pair<Days, double>>(const std::string&)>& closes,
    const OutcomeRules& rules = {});

struct SignalsReportOptions {
  std::optional<Days> as_of;  ///< windows end here; default: the last signal's day
  std::size_t recent = 10;
};

/// `ballast signals`: win rate over 30 and 90 days, total P&L, profit factor, by source, recent
/// signals, missed opportunities. `db` is a signals.sqlite or a run directory holding one.
[[nodiscard]] std::string SignalsReport(const std::string& db, const SignalsReportOptions& o,
                                        bool json);

}  // namespace ballast::backtests
