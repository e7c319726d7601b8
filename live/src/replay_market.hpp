#pragma once
// The market of a replayed paper session (`ballast live --broker sim --replay`): the config's
// store, read as a broker's market data on the replay clock. "Today" is the replay clock's New
// York date; bars after it do not exist yet. Internal to live/.
#include <memory>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/clock.hpp"

namespace ballast::live::detail {

/// The market's hours at `now` (regular hours, 09:30 to the day's close, New York time), given
/// whether today is a session and the next session after today.
[[nodiscard]] broker::MarketClock SessionClock(Timestamp now, bool session_today,
                                               std::optional<Days> next_session);
/// The same on the NYSE calendar (brokers whose clock gives only the time: IB).
[[nodiscard]] broker::MarketClock NyseClock(Timestamp now);

class ReplayMarket final : public broker::MarketData {
 public:
  /// `panel` holds the store's bars; rows from `first_row` on are the replayed sessions.
  ReplayMarket(std::shared_ptr<const BarPanel> panel, std::size_t first_row, const Clock& clock);

  [[nodiscard]] broker::MarketClock GetClock() override;
  [[nodiscard]] std::vector<broker::DailyBar> GetDailyBars(const std::vector<std::string>& symbols,
                                                           Days start,
                                                           std::optional<Days> end) override;
  /// The replayed sessions (the store's dates from the first row on).
  [[nodiscard]] std::vector<Days> Sessions() const;
  [[nodiscard]] Days LastSession() const;

 private:
  std::shared_ptr<const BarPanel> panel_;
  std::size_t first_row_;
  const Clock& clock_;
};

}  // namespace ballast::live::detail
