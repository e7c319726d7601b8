// Reconciliation: the broker's account is the truth. What this process's ledger believed is
// compared with it, splits and dividends the broker applied are told apart from discrepancies,
// and the dividends it paid are booked once as income in the journal.
#include "account_actions.hpp"
#include "session_impl.hpp"

namespace ballast::live::detail {

std::vector<broker::AccountAction> Session::AccountActions(Days today) {
  const auto checked = ParseIsoDate(journal_->State("actions_checked_through").value_or(""));
  const Days from = checked && *checked <= today ? *checked : today;
  std::vector<broker::AccountAction> actions;
  try {
    actions = broker_->GetAccountActions(
        std::vector<std::string>(symbols_.begin(),
                                 symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_)),
        from, today);
  } catch (const broker::BrokerError& e) {
    // Not fatal: the differences are then reported as differences, and the dividends are
    // booked at a later reconciliation (the range starts where the last good answer ended).
    JsonFields f;
    f.Add("detail", e.what());
    Log("account_actions_unavailable", f.Take(), spdlog::level::warn);
    return {};
  }
  if (!checked || *checked != today)
    journal_->SetState("actions_checked_through", FormatDate(today));
  actions_day_ = today;
  return actions;
}

void Session::Reconcile() {
  broker_qty_.assign(tradable_, 0.0);
  broker_cost_.assign(tradable_, 0.0);
  std::vector<double> broker_price(tradable_, 0.0);  // market value / quantity, at the broker
  {
    const auto account = broker_->GetAccount();
    broker_cash_ = account.cash;
    for (const auto& p : broker_->GetPositions()) {
      const auto it = std::find(
          symbols_.begin(), symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_), p.symbol);
      if (it == symbols_.begin() + static_cast<std::ptrdiff_t>(tradable_)) {
        JsonFields f;
        f.Add("symbol", p.symbol).Add("qty", p.qty).Add("market_value", p.market_value);
        Log("reconcile_untracked_position", f.Take(), spdlog::level::warn);
        continue;
      }
      const auto c = static_cast<std::size_t>(it - symbols_.begin());
      broker_qty_[c] = p.qty;
      broker_cost_[c] = p.avg_entry_price;
      if (p.qty != 0.0) broker_price[c] = p.market_value / p.qty;
      if (p.qty < 0.0) {
        JsonFields f;
        f.Add("symbol", p.symbol).Add("qty", p.qty);
        Log("reconcile_short_position", f.Take(), spdlog::level::warn);
      }
    }
  }
  // What this process's ledger believed (a fresh ledger believes nothing yet).
  const bool compare = ledger_ && reconciled_;
  std::vector<double> mine(tradable_, 0.0);
  bool differs = false;
  if (compare) {
    for (std::size_t c = 0; c < tradable_; ++c) {
      mine[c] = ledger_->Quantity(static_cast<SymbolIndex>(c));
      differs = differs || std::abs(mine[c] - broker_qty_[c]) > 1e-6;
    }
    differs = differs || std::abs(ledger_->Cash() - broker_cash_) > 0.01;
  }
  // The broker's corporate actions: asked once a day, and whenever the account moved without an
  // order of ours.
  const Days today = NyDate(Now());
  std::vector<broker::AccountAction> actions;
  if (differs || !actions_day_ || *actions_day_ != today) actions = AccountActions(today);
  double income = 0.0;  // dividends credited since this process last looked
  for (const auto& a : actions) {
    if (a.kind != broker::AccountAction::Kind::kDividend) continue;
    if (!journal_->BookIncome(a.id, a.date, a.symbol, a.amount)) continue;
    income += a.amount;
    JsonFields f;
    f.Add("symbol", a.symbol).Add("amount", a.amount).Add("day", FormatDate(a.date));
    Log("dividend_paid", f.Take());
  }
  if (compare) {
    const auto splits = ExplainingSplits(symbols_, mine, broker_qty_, actions, splits_applied_);
    std::vector<double> expected = mine;
    double in_lieu = 0.0;  // what the fractions the splits left are worth at the broker's price
    for (const auto& s : splits) {
      in_lieu += s.in_lieu * broker_price[s.symbol];
      splits_applied_.insert(s.id);
      expected[s.symbol] = s.after;
      JsonFields f;
      f.Add("symbol", symbols_[s.symbol])
          .Add("ratio", s.ratio)
          .Add("day", FormatDate(s.date))
          .Add("before", s.before)
          .Add("after", s.after);
      if (s.in_lieu > 0.0) f.Add("cash_in_lieu_shares", s.in_lieu);
      Log("split", f.Take());
    }
    for (std::size_t c = 0; c < tradable_; ++c) {
      if (std::abs(expected[c] - broker_qty_[c]) > 1e-6) {
        JsonFields f;
        f.Add("symbol", symbols_[c]).Add("ledger", expected[c]).Add("broker", broker_qty_[c]);
        Log("reconcile_difference", f.Take(), spdlog::level::warn);
      }
    }
    // Cash paid in lieu of those fractions: the broker's price for them is not the one it
    // shows now, so a credit within a quarter of that worth is taken as it.
    double expected_cash = ledger_->Cash() + income;
    const double residual = broker_cash_ - expected_cash;
    if (in_lieu > 0.0 && residual > 0.0 && std::abs(residual - in_lieu) <= 0.25 * in_lieu + 0.01) {
      expected_cash = broker_cash_;
      JsonFields f;
      f.Add("amount", residual).Add("estimated", in_lieu);
      Log("cash_in_lieu", f.Take());
    }
    if (std::abs(expected_cash - broker_cash_) > 0.01) {
      JsonFields f;
      f.Add("symbol", "cash").Add("ledger", expected_cash).Add("broker", broker_cash_);
      Log("reconcile_difference", f.Take(), spdlog::level::warn);
    }
  }
  if (ledger_) ledger_->Reconcile(broker_qty_, broker_cost_, broker_cash_);
  reconciled_ = true;
}

}  // namespace ballast::live::detail
