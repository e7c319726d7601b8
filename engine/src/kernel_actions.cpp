// The kernel's step 0: corporate actions on their ex-date, before the open. A split changes
// the shares and not the value; a dividend is cash (income, not a flow), reinvested at the
// close when the config says so.

#include <cmath>

#include "ballast/engine/kernel.hpp"

namespace ballast {

void Kernel::ApplyActions(std::size_t row, Timestamp now) {
  for (const auto& a : p_.panel.ActionsAt(row)) {
    if (a.col >= options_.tradable) continue;  // the benchmark's are in its prices
    const auto s = static_cast<SymbolIndex>(a.col);
    const double before = p_.ledger.Quantity(s);
    const std::string& symbol = p_.panel.Symbols()[a.col];
    if (a.kind == ActionKind::kSplit) {
      // Yesterday's mark in today's shares, so equity stays continuous until today's close.
      if (!std::isnan(marks_[s])) marks_[s] /= a.value;
      const double close = p_.panel.Close(row, a.col);
      const double price = std::isnan(close) ? marks_[s] : close;
      const double in_lieu = p_.ledger.ApplySplit(s, a.value, options_.whole_shares, price);
      JsonFields f;
      f.Add("symbol", symbol)
          .Add("ratio", a.value)
          .Add("quantity_before", before)
          .Add("quantity_after", p_.ledger.Quantity(s));
      if (options_.whole_shares) f.Add("cash_in_lieu", in_lieu);
      p_.record.AddEvent(now, "split", f.Take());
      p_.venue.OnSplit(s, a.value, now);  // orders waiting for today's open, in the new shares
    } else {
      const double amount = p_.ledger.CreditDividend(s, a.value);
      if (amount == 0.0) continue;
      if (options_.reinvest_dividends) dividends_.emplace_back(s, amount);
      p_.record.AddEvent(now, "dividend",
                         JsonFields()
                             .Add("symbol", symbol)
                             .Add("per_share", a.value)
                             .Add("quantity", before)
                             .Add("amount", amount)
                             .Add("reinvest", options_.reinvest_dividends)
                             .Take());
    }
  }
}

void Kernel::ReinvestDividends(std::size_t row, Timestamp now) {
  if (dividends_.empty()) return;
  plan_ = Plan{};
  for (const auto& [s, amount] : dividends_) {
    const double close = p_.panel.Close(row, s);
    if (std::isnan(close) || !(close > 0.0)) continue;  // no price today: it stays cash
    double qty = amount / close;
    if (options_.whole_shares) qty = std::floor(qty + 1e-9);
    if (!(qty > 0.0)) continue;
    plan_.orders.push_back({s, Side::kBuy, qty, close, 0.0, 0.0});
    plan_.buy_notional += qty * close;
  }
  if (plan_.orders.empty()) return;
  p_.risk.Check(p_.ledger.Quantities(), p_.ledger.Cash(), plan_, denied_);
  ++decisions_;
  p_.record.AddEvent(now, "dividend_reinvestment",
                     JsonFields()
                         .Add("decision", decisions_)
                         .Add("orders", static_cast<std::uint64_t>(plan_.orders.size()))
                         .Add("buy_notional", plan_.buy_notional)
                         .Take());
  p_.orders.Submit(plan_, decisions_, now, /*investment=*/true);
}

}  // namespace ballast
