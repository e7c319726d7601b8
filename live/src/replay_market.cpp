#include "replay_market.hpp"

#include <algorithm>
#include <cmath>

#include "ballast/engine/calendar.hpp"
#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {

ReplayMarket::ReplayMarket(std::shared_ptr<const BarPanel> panel, std::size_t first_row,
                           const Clock& clock)
    : panel_(std::move(panel)), first_row_(first_row), clock_(clock) {}

std::vector<Days> ReplayMarket::Sessions() const {
  std::vector<Days> days;
  for (std::size_t r = first_row_; r < panel_->Rows(); ++r)
    days.push_back(panel_->Day(r));
  return days;
}

Days ReplayMarket::LastSession() const {
  return panel_->Day(panel_->Rows() - 1);
}

broker::MarketClock SessionClock(Timestamp now, bool session, std::optional<Days> next) {
  broker::MarketClock c;
  c.now = now;
  const Days today = NyDate(now);
  const int minute = NyMinuteOfDay(now);
  const int close = NyseCalendar::CloseMinutes(today).value_or(960);
  c.is_open = session && minute >= 570 && minute < close;
  if (session && minute < 570) {
    c.next_open = NyLocalToUtc(today, 570);
  } else if (next) {
    c.next_open = NyLocalToUtc(*next, 570);
  }
  if (session && minute < close) c.next_close = NyLocalToUtc(today, close);
  return c;
}

broker::MarketClock NyseClock(Timestamp now) {
  const Days today = NyDate(now);
  return SessionClock(now, NyseCalendar::IsTradingDay(today), NyseCalendar::NextTradingDay(today));
}

broker::MarketClock ReplayMarket::GetClock() {
  const Timestamp now = clock_.Now();
  const Days today = NyDate(now);
  const auto sessions = Sessions();
  const auto next = std::upper_bound(sessions.begin(), sessions.end(), today);
  return SessionClock(now, std::binary_search(sessions.begin(), sessions.end(), today),
                      next != sessions.end() ? std::optional<Days>(*next) : std::nullopt);
}

std::vector<broker::DailyBar> ReplayMarket::GetDailyBars(const std::vector<std::string>& symbols,
                                                         Days start, std::optional<Days> end) {
  // Nothing after the replay's today: the future has not happened yet.
  Days last = NyDate(clock_.Now());
  if (end && *end < last) last = *end;
  std::vector<broker::DailyBar> out;
  for (const auto& sym : symbols) {
    const auto col = panel_->IndexOf(sym);
    if (col < 0) continue;
    const auto c = static_cast<std::size_t>(col);
    for (std::size_t r = 0; r < panel_->Rows(); ++r) {
      const Days d = panel_->Day(r);
      if (d < start || d > last || !panel_->HasBar(r, c)) continue;
      const double close = panel_->Close(r, c);
      auto or_close = [close](double v) { return std::isfinite(v) ? v : close; };
      // Alpaca stamps daily bars at New York midnight; so does the replay.
      out.push_back({sym, NyLocalToUtc(d, 0), or_close(panel_->Open(r, c)),
                     or_close(panel_->High(r, c)), or_close(panel_->Low(r, c)), close,
                     panel_->Volume(r, c)});
    }
  }
  return out;
}

}  // namespace ballast::live::detail
