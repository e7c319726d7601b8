#pragma once
/// Alpaca behind the broker seam: REST for the account, orders, assets, clock and bars, the
/// trade-updates websocket for order updates. Alpaca's status and event words map to the
/// broker-neutral phases here (PhaseOf, UpdateOf), and nowhere else. The trade stream reads on
/// a thread of its own (IoThread), so REST calls on the session's thread never stall it; its
/// updates reach the listener on the session's io_context.

#include <memory>
#include <string_view>

#include "ballast/adapters/alpaca/io_thread.hpp"
#include "ballast/adapters/alpaca/rest.hpp"
#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/adapters/broker/broker.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast::alpaca {

/// The phase of an order in Alpaca status `status` with `filled_qty` filled.
[[nodiscard]] broker::OrderPhase PhaseOf(std::string_view status, double filled_qty) noexcept;
/// A short label for why Alpaca refused an order (pdt, wash_trade, not_fractionable, halted,
/// insufficient_buying_power, ...), from its error message; empty when not recognised.
[[nodiscard]] std::string_view RejectionLabel(std::string_view message) noexcept;
[[nodiscard]] broker::BrokerOrder ToBrokerOrder(const OrderInfo& o);
/// A trade-stream update as the seam reports it.
[[nodiscard]] broker::OrderUpdate UpdateOf(const TradeMessage& m);

class AlpacaBroker final : public broker::Broker, public broker::MarketData {
 public:
  /// `on_event` reports faults the REST client handled (rate_limited, retry) before the update
  /// stream starts; afterwards they also go to the listener.
  /// `clock`: see Rest (a session's WallClock).
  AlpacaBroker(boost::asio::io_context& io, const Clock& clock, Endpoints endpoints,
               Credentials credentials, StreamOptions stream_options = {},
               Rest::EventFn on_event = {});
  ~AlpacaBroker() override;

  [[nodiscard]] std::string_view Name() const noexcept override { return "alpaca"; }
  /// 9 decimals; $1 minimum for fractional orders.
  [[nodiscard]] broker::OrderRules Rules() const noexcept override { return {9, 1.0}; }
  [[nodiscard]] std::string Endpoint() const override;
  [[nodiscard]] broker::Account GetAccount() override;
  [[nodiscard]] std::vector<broker::Position> GetPositions() override;
  [[nodiscard]] std::vector<broker::BrokerOrder> GetOpenOrders() override;
  [[nodiscard]] std::optional<broker::BrokerOrder> FindOrder(
      std::string_view client_order_id) override;
  [[nodiscard]] std::optional<broker::Asset> GetAsset(std::string_view symbol) override;
  [[nodiscard]] broker::PlaceResult Place(const broker::OrderRequest& request) override;
  bool Cancel(const broker::BrokerOrder& order) override;
  void Restore(const broker::BookedAccount&) override {}  // the account is the truth
  [[nodiscard]] bool SupportsTransfers() const noexcept override { return false; }
  void Transfer(double) override {}
  /// Splits from the data API's corporate actions, dividends from the account's activities.
  [[nodiscard]] std::vector<broker::AccountAction> GetAccountActions(
      const std::vector<std::string>& symbols, Days from, Days to) override;
  void StartUpdates(broker::BrokerListener& listener) override;
  void StopUpdates() override;
  [[nodiscard]] bool UpdatesReady() const noexcept override;
  [[nodiscard]] Stats GetStats() const noexcept override;

  [[nodiscard]] broker::MarketClock GetClock() override;
  [[nodiscard]] std::vector<broker::DailyBar> GetDailyBars(const std::vector<std::string>& symbols,
                                                           Days start,
                                                           std::optional<Days> end) override;

 private:
  /// Runs a REST call, turning Alpaca's and the transport's errors into BrokerError.
  template <class F>
  auto Call(F&& f);

  boost::asio::io_context& io_;
  Endpoints endpoints_;
  Credentials credentials_;
  StreamOptions stream_options_;
  std::unique_ptr<Rest> rest_;
  std::unique_ptr<IoThread> stream_thread_;  // the trade stream reads on it
  std::unique_ptr<TradeStream> trades_;
  broker::BrokerListener* listener_ = nullptr;
  Rest::EventFn on_event_;
};

}  // namespace ballast::alpaca
