#include "account_actions.hpp"

#include <algorithm>
#include <cmath>

namespace ballast::live::detail {

std::vector<SplitSeen> ExplainingSplits(std::span<const std::string> symbols,
                                        std::span<const double> ledger_qty,
                                        std::span<const double> broker_qty,
                                        std::span<const broker::AccountAction> actions,
                                        const std::set<std::string>& applied) {
  std::vector<SplitSeen> out;
  for (const auto& a : actions) {
    if (a.kind != broker::AccountAction::Kind::kSplit || !(a.ratio > 0.0) ||
        applied.count(a.id) != 0) {
      continue;
    }
    const auto it = std::find(symbols.begin(), symbols.end(), a.symbol);
    if (it == symbols.end()) continue;
    const auto c = static_cast<std::size_t>(it - symbols.begin());
    if (c >= ledger_qty.size() || c >= broker_qty.size()) continue;
    const double mine = ledger_qty[c], theirs = broker_qty[c];
    if (std::abs(mine - theirs) <= 1e-6 || mine == 0.0) continue;  // nothing to explain
    if (std::any_of(out.begin(), out.end(), [&](const SplitSeen& s) { return s.symbol == c; })) {
      continue;  // one split explains a symbol
    }
    const double expected = mine * a.ratio;
    const double tol = 1e-9 * std::max(1.0, std::abs(expected));
    double in_lieu = 0.0;
    if (std::abs(theirs - expected) > tol) {
      // Whole shares: the fraction a split leaves is paid in cash.
      const double whole = std::floor(std::abs(expected) + tol) * (expected < 0 ? -1.0 : 1.0);
      if (std::abs(theirs - whole) > tol) continue;  // not this split
      in_lieu = std::abs(expected - whole);
    }
    out.push_back(SplitSeen{c, a.id, a.date, a.ratio, mine, theirs, in_lieu});
  }
  return out;
}

}  // namespace ballast::live::detail
