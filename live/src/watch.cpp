// Watch slices: after the day's check, the market-data stream's prices are slices of today's
// row (LiveSource), so drift bands are watched until the close. A recheck that trades is a
// cycle of its own ("watch"), journaled, previewed, checked by the risk gate and sent as a
// check's orders are.
#include "session_impl.hpp"

namespace ballast::live::detail {

bool Session::MayWatch() {
  if (stopping_ || o_.dry_run || o_.once || !fatal_.empty() || !kernel_ || !ledger_ || !Idle())
    return false;
  if (KillSwitch()) return false;
  const Timestamp now = Now();
  const Days today = NyDate(now);
  if (!IsSession(today)) return false;
  const int minute = NyMinuteOfDay(now);
  if (minute < 570 || minute >= NyseCalendar::CloseMinutes(today).value_or(960)) return false;
  // Today's check decided and its orders are final: a recheck never races a decision.
  if (journal_->State("last_decision_day").value_or("") != FormatDate(today)) return false;
  const auto last = journal_->LastCycle();
  return !last || (last->state != "planned" && last->state != "sending");
}

void Session::WatchCycle(std::size_t row) {
  (void)Guarded([&] {
    const Days today = panel_->Day(row);
    const auto closes = panel_->CloseRow(row);
    marks_.assign(closes.begin(), closes.begin() + static_cast<std::ptrdiff_t>(tradable_));
    equity_ = ledger_->Equity(marks_);
    risk_->SetKillSwitch(false);  // MayWatch: the kill switch is off
    risk_->SetTurnoverToday(journal_->SentNotional(today));
    kernel_->OnSlice(row);
    if (!venue_->HasStaged()) {
      FlushKernelEvents();  // the recheck's drift check (and any risk denial)
      return;
    }
    // Orders only while the broker says its market is open.
    const auto clock = BrokerClock();
    if (!clock.is_open) {
      venue_->DropStaged("market_closed");
      FlushKernelEvents();
      JsonFields f;
      f.Add("day", FormatDate(today)).Add("reason", "market closed");
      Log("watch_deferred", f.Take(), spdlog::level::warn);
      return;
    }
    ++m_.cycles;
    const auto prev_text = journal_->State("last_decision_day");
    const std::int64_t cycle_id = journal_->BeginCycle(today, "watch", Now());
    JsonFields f;
    f.Add("cycle", cycle_id).Add("day", FormatDate(today)).Add("drift", Drift());
    Log("watch_decided", f.Take());
    std::vector<JournalOrder> planned;
    if (PlanDecision(cycle_id, today, prev_text, /*kill=*/false, planned)) return;
    (void)SendDecision(cycle_id, planned, /*blocking=*/false);
  });
}

}  // namespace ballast::live::detail
