#pragma once
/// Corporate actions in a reconciliation: which splits the broker applied explain a difference
/// between what this process's ledger believed and what the broker holds.

#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "ballast/adapters/broker/broker.hpp"

namespace ballast::live::detail {

struct SplitSeen {
  std::size_t symbol = 0;  ///< the tracked symbol's column
  std::string id;          ///< the broker's id for the split
  Days date{};
  double ratio = 0.0;   ///< new shares per old share
  double before = 0.0;  ///< the ledger's quantity
  double after = 0.0;   ///< the broker's
  /// Shares the broker paid in cash instead (a whole-share position whose split left a
  /// fraction); 0 when none.
  double in_lieu = 0.0;
};

/// The splits among `actions` that explain a tracked symbol's broker quantity: it equals the
/// ledger's × ratio (to 1e-9 relative), or that rounded down to whole shares with the rest paid
/// in cash. Splits whose id is in `applied` are skipped (each is recognised once); a symbol
/// whose quantities already agree needs none.
[[nodiscard]] std::vector<SplitSeen> ExplainingSplits(
    std::span<const std::string> symbols, std::span<const double> ledger_qty,
    std::span<const double> broker_qty, std::span<const broker::AccountAction> actions,
    const std::set<std::string>& applied);

}  // namespace ballast::live::detail
