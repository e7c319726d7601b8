#pragma once
/// A simulated broker behind the broker seam, for paper trading without a broker account: it
/// keeps a cash account (initial cash plus the fills booked on it), checks buying power as a
/// broker does, and fills each order at the price the session last saw for its symbol through
/// the backtest's slippage and commission models. Fills arrive as order updates on the
/// session's io_context, after the call that placed the order, as a real broker's do.
/// Market orders fill in full; a day limit order fills when marketable at that price after
/// slippage, else it expires (as SimVenue's `close` fills: this broker sees one price per
/// symbol, not the day's path).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/engine/costs.hpp"
#include "ballast/engine/planner.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast::sim {

struct SimBrokerOptions {
  double initial_cash = 0.0;
  CommissionModel commission;
  double slippage_bps = 0.0;
  ShareMode shares = ShareMode::kFractional;
  double lot_size = 1.0;
  /// Buying power: buys may borrow up to this gross exposure / equity (1 = a cash account).
  double max_leverage = 1.0;
};

class SimBroker final : public broker::Broker {
 public:
  /// `price(symbol)` is the latest price the session has for a symbol (nullopt: none yet).
  using PriceFn = std::function<std::optional<double>(std::string_view symbol)>;
  SimBroker(boost::asio::io_context& io, SimBrokerOptions options, PriceFn price);

  [[nodiscard]] std::string_view Name() const noexcept override { return "sim"; }
  /// Any quantity, no minimum: the backtest's SimVenue takes what the planner sends.
  [[nodiscard]] broker::OrderRules Rules() const noexcept override { return {}; }
  [[nodiscard]] std::string Endpoint() const override { return "local"; }
  [[nodiscard]] broker::Account GetAccount() override;
  [[nodiscard]] std::vector<broker::Position> GetPositions() override;
  [[nodiscard]] std::vector<broker::BrokerOrder> GetOpenOrders() override;
  [[nodiscard]] std::optional<broker::BrokerOrder> FindOrder(
      std::string_view client_order_id) override;
  [[nodiscard]] std::optional<broker::Asset> GetAsset(std::string_view symbol) override;
  [[nodiscard]] broker::PlaceResult Place(const broker::OrderRequest& request) override;
  bool Cancel(const broker::BrokerOrder& order) override;
  /// Rebuilds the account from initial cash, the booked fills and transfers; the open orders
  /// are worked again (market orders fill at the next price the session gives).
  void Restore(const broker::BookedAccount& booked) override;
  [[nodiscard]] bool SupportsTransfers() const noexcept override { return true; }
  void Transfer(double amount) override;
  /// None: it trades adjusted prices (splits and dividends are in them) and pays no dividends.
  [[nodiscard]] std::vector<broker::AccountAction> GetAccountActions(
      const std::vector<std::string>&, Days, Days) override {
    return {};
  }
  void StartUpdates(broker::BrokerListener& listener) override;
  void StopUpdates() override;
  [[nodiscard]] bool UpdatesReady() const noexcept override { return listener_ != nullptr; }
  [[nodiscard]] Stats GetStats() const noexcept override { return Stats{requests_, 0, 0, 0}; }

 private:
  struct Holding {
    double qty = 0.0;
    double cost = 0.0;  // average entry price (commission excluded)
  };
  void Book(Side side, const std::string& symbol, double qty, double price, double commission);
  [[nodiscard]] double Equity() const;
  /// Cash buys may still spend: cash (plus margin) less what open buys have reserved.
  [[nodiscard]] double BuyingPower() const;
  void Execute(const std::string& client_order_id);
  /// A limit order that is not marketable: its day ends unfilled.
  void Expire(const std::string& client_order_id);
  void Post(broker::OrderUpdate update);

  boost::asio::io_context& io_;
  SimBrokerOptions options_;
  PriceFn price_;
  broker::BrokerListener* listener_ = nullptr;
  double cash_ = 0.0;
  std::map<std::string, Holding, std::less<>> holdings_;
  std::map<std::string, broker::BrokerOrder, std::less<>> orders_;  // by client order id
  std::uint64_t next_id_ = 1;
  std::uint64_t requests_ = 0;
};

}  // namespace ballast::sim
