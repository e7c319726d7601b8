#pragma once
// Today's daily bar per symbol, from what the market-data stream sends during the session:
// Alpaca's daily bars (`d`, the day so far), minute bars (`b`, with `u` replacing the minute it
// names) and trades (`t`). A daily bar is never made from one minute bar: the day's open and
// volume come from a daily bar (the stream's, or the day's bar from REST when the stream sent
// none), the high and low cover every minute seen, and the close is the freshest price. Only
// when neither daily bar exists is the day built from all the minutes the stream sent.
// Internal to live/.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/engine/time.hpp"

namespace ballast::live::detail {

class TodayBars {
 public:
  enum class Kind : unsigned char { kMinute, kUpdatedMinute, kDaily, kTrade };
  /// One stream message. `bar.t` is the bar's start (the trade's time for kTrade; a trade's
  /// price is in `bar.close`). A message of an older day than the symbol's current one is
  /// ignored; a newer day starts the symbol afresh.
  void Add(Kind kind, const broker::DailyBar& bar);
  /// The day `day` of `symbol` as the stream knows it, over `base` (the day's bar from REST, or
  /// null); nullopt when the stream sent nothing for that day.
  [[nodiscard]] std::optional<broker::DailyBar> Day(const std::string& symbol, Days day,
                                                    const broker::DailyBar* base) const;
  /// The days some symbol has stream data for.
  [[nodiscard]] std::set<Days> DaysSeen() const;

 private:
  struct Symbol {
    Days day{};
    std::optional<broker::DailyBar> daily;          // the stream's latest daily bar of `day`
    std::map<Timestamp, broker::DailyBar> minutes;  // by start; an updated bar replaces
    Timestamp trade_t = 0;
    double trade_price = 0.0;
  };
  std::map<std::string, Symbol> symbols_;
};

}  // namespace ballast::live::detail
