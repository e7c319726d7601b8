#include "today_bars.hpp"

#include <algorithm>

#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {

void TodayBars::Add(Kind kind, const broker::DailyBar& bar) {
  const Days day = NyDate(bar.t);
  auto [it, fresh] = symbols_.try_emplace(bar.symbol);
  Symbol& s = it->second;
  if (!fresh && day < s.day) return;  // late news of a day that is over
  if (fresh || day > s.day) s = Symbol{day, {}, {}, 0, 0.0};
  switch (kind) {
    case Kind::kDaily:
      s.daily = bar;
      break;
    case Kind::kMinute:
    case Kind::kUpdatedMinute:
      s.minutes[bar.t] = bar;
      break;
    case Kind::kTrade:
      if (bar.t >= s.trade_t) {
        s.trade_t = bar.t;
        s.trade_price = bar.close;
      }
      break;
  }
}

std::optional<broker::DailyBar> TodayBars::Day(const std::string& symbol, Days day,
                                               const broker::DailyBar* base) const {
  const auto it = symbols_.find(symbol);
  if (it == symbols_.end() || it->second.day != day) return std::nullopt;
  const Symbol& s = it->second;
  if (!s.daily && s.minutes.empty() && s.trade_t == 0) return std::nullopt;
  // The day so far: the stream's daily bar, else REST's; else only what the stream showed.
  std::optional<broker::DailyBar> out = s.daily;
  if (!out && base) out = *base;
  double minute_volume = 0.0;
  for (const auto& [t, m] : s.minutes)
    minute_volume += m.volume;
  if (!out && !s.minutes.empty()) {
    const auto& first = s.minutes.begin()->second;
    out = broker::DailyBar{symbol, first.t, first.open, first.high, first.low, first.close, 0.0};
  }
  if (!out) {
    // A trade and nothing else: the one price there is.
    out = broker::DailyBar{symbol,        s.trade_t, s.trade_price, s.trade_price, s.trade_price,
                           s.trade_price, 0.0};
  }
  out->symbol = symbol;
  out->volume = std::max(out->volume, minute_volume);  // minutes seen may start mid-day
  // The range covers every minute and trade seen; the close is the freshest price: the last
  // minute's close (it ends a minute after its start) or a later trade.
  Timestamp close_t = -1;
  for (const auto& [t, m] : s.minutes) {
    out->high = std::max(out->high, m.high);
    out->low = std::min(out->low, m.low);
    close_t = t + 60'000'000'000LL;
    out->close = m.close;
  }
  if (s.trade_t != 0) {
    out->high = std::max(out->high, s.trade_price);
    out->low = std::min(out->low, s.trade_price);
    if (s.trade_t >= close_t) out->close = s.trade_price;
  }
  return out;  // stamped as its first source is: a time in `day`, New York
}

std::set<Days> TodayBars::DaysSeen() const {
  std::set<Days> out;
  for (const auto& [sym, s] : symbols_)
    out.insert(s.day);
  return out;
}

}  // namespace ballast::live::detail
