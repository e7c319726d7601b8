#pragma once
/// Daily bars from IB's historical data service, shared by `ballast data fetch --provider ib`
/// and the IB broker's market data: the request's duration, the bar dates, and pacing (error 162
/// "pacing violation": wait, doubling, and ask again).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ballast/adapters/ib/client.hpp"
#include "ballast/engine/time.hpp"

namespace ballast::ib {

/// The duration that reaches back from `today` to `from`: "N D" up to 365 days, else whole years.
[[nodiscard]] std::string HistoryDuration(Days from, Days today);
/// A daily bar's date (formatDate 1: yyyymmdd); nullopt when it is not one.
[[nodiscard]] std::optional<Days> BarDay(std::string_view text);
/// Error 162 saying "pacing violation" (162 also means "no data", which waiting does not fix).
[[nodiscard]] bool IsPacing(const TwsError& e);

struct Pacing {
  double wait_s = 15.0;  ///< the first wait; each next one doubles
  int retries = 3;
  /// Told before each wait (symbol, seconds).
  std::function<void(const std::string&, double)> on_wait;
};
/// client.DailyBars, asked again after each pacing violation (up to `p.retries` times).
[[nodiscard]] HistoricalData DailyBarsPaced(TwsClient& client, const Contract& c,
                                            const std::string& duration, const std::string& what,
                                            const Pacing& p);

}  // namespace ballast::ib
