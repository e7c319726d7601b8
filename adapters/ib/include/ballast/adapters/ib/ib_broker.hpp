#pragma once
/// Interactive Brokers behind the broker seam, over one TWS API connection to IB Gateway or TWS:
/// account summary, positions, orders (placeOrder with ballast's client order id in orderRef),
/// and the order messages as the seam's updates (OrderTracker), plus IB's clock and daily bars
/// as the market data. The connection reads on a thread of its own; updates reach the listener
/// on the session's io_context. When the connection drops, or IB reports 1100 (Gateway and IB
/// lost each other), updates are down and orders are held; a worker thread reconnects with
/// capped backoff and jitter, and the session reconciles on OnUpdatesReady(true).
///
/// Order ids: never below the Gateway's nextValidId, never at or below an id this account's
/// journal recorded (Restore) or this process used, so a Gateway restart that rolls
/// nextValidId back cannot make an id taken by an older order be reused.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/adapters/ib/client.hpp"
#include "ballast/adapters/ib/history.hpp"
#include "ballast/adapters/ib/order_tracker.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast::ib {

struct IbOptions {
  ConnectOptions connect;
  /// The account traded; may be empty when the login manages one account.
  std::string account;
  /// Symbol → primary exchange, for symbols IB lists on more than one (SMART routing either way).
  std::map<std::string, std::string, std::less<>> primary_exchanges;
  /// Orders in fractions of a share (the account must allow them at IB); whole shares otherwise.
  bool fractional = false;
  /// The exchange's hours at an instant (the session's calendar): IB's clock gives the time only.
  std::function<broker::MarketClock(Timestamp now)> market_hours;
  /// How long an execution waits for its commission report before it is booked without one.
  std::chrono::milliseconds commission_wait{3'000};
  std::chrono::milliseconds reconnect_min{1'000};
  std::chrono::milliseconds reconnect_max{30'000};
  Pacing pacing;  ///< history pacing (15 s doubling, 3 retries)
};

/// Whether an IB account id is a paper one (DU..., DF... for a paper advisor).
[[nodiscard]] bool IsPaperAccount(std::string_view account) noexcept;

class IbBroker final : public broker::Broker, public broker::MarketData {
 public:
  /// `on_event`: faults handled before the update stream starts (afterwards the listener's).
  IbBroker(boost::asio::io_context& io, IbOptions options,
           std::function<void(std::string_view, const std::string&)> on_event = {});
  ~IbBroker() override;
  IbBroker(const IbBroker&) = delete;
  IbBroker& operator=(const IbBroker&) = delete;

  /// Connects (if not yet) and picks the account: throws TwsError when the Gateway cannot be
  /// reached or refuses us, or when the configured account is not the login's.
  void Connect();
  /// The account traded (after Connect).
  [[nodiscard]] std::string AccountId() const;

  [[nodiscard]] std::string_view Name() const noexcept override { return "ib"; }
  [[nodiscard]] broker::OrderRules Rules() const noexcept override;
  [[nodiscard]] std::string Endpoint() const override;
  [[nodiscard]] broker::Account GetAccount() override;
  [[nodiscard]] std::vector<broker::Position> GetPositions() override;
  [[nodiscard]] std::vector<broker::BrokerOrder> GetOpenOrders() override;
  [[nodiscard]] std::optional<broker::BrokerOrder> FindOrder(
      std::string_view client_order_id) override;
  [[nodiscard]] std::optional<broker::Asset> GetAsset(std::string_view symbol) override;
  [[nodiscard]] broker::PlaceResult Place(const broker::OrderRequest& request) override;
  bool Cancel(const broker::BrokerOrder& order) override;
  /// Takes the highest order id the journal recorded (the account itself is IB's).
  void Restore(const broker::BookedAccount& booked) override;
  [[nodiscard]] bool SupportsTransfers() const noexcept override { return false; }
  void Transfer(double) override {}
  /// None: the TWS API reports no corporate actions; IB's adjusted bars carry them, and the
  /// account's positions and cash (reconciled) show what IB booked.
  [[nodiscard]] std::vector<broker::AccountAction> GetAccountActions(
      const std::vector<std::string>&, Days, Days) override {
    return {};
  }
  void StartUpdates(broker::BrokerListener& listener) override;
  void StopUpdates() override;
  [[nodiscard]] bool UpdatesReady() const noexcept override;
  [[nodiscard]] std::string DownReason() const override;
  [[nodiscard]] Stats GetStats() const noexcept override;

  [[nodiscard]] broker::MarketClock GetClock() override;
  [[nodiscard]] std::vector<broker::DailyBar> GetDailyBars(const std::vector<std::string>& symbols,
                                                           Days start,
                                                           std::optional<Days> end) override;

 private:
  std::shared_ptr<TwsClient> Client();  // the current connection; throws when there is none
  std::shared_ptr<TwsClient> Open();    // a new connection, handshake done
  void OnMessage(int id, const Fields& f);
  void OnDown(std::uint64_t generation, const std::string& why);
  void Deliver(OrderTracker::Updates updates);
  void Notify(std::string kind, std::string detail);
  void Work();  // the worker thread: commission waits, reconnects
  std::int64_t Contract(const std::string& symbol);
  std::optional<broker::BrokerOrder> LookUp(TwsClient& c, std::string_view client_order_id);

  boost::asio::io_context& io_;
  IbOptions o_;
  std::function<void(std::string_view, const std::string&)> on_event_;

  mutable std::mutex mu_;  // everything below
  std::condition_variable cv_;
  std::shared_ptr<TwsClient> client_;
  std::string account_;
  std::string down_;        // why updates are down ("" when up)
  bool link_lost_ = false;  // 1100 until 1101/1102
  bool stopping_ = false;
  bool reconnect_ = false;  // the connection dropped: the worker reconnects
  std::uint64_t generation_ = 0, current_generation_ = 0;  // connections opened; the one in use
  int server_version_ = 0;
  std::uint64_t retired_requests_ = 0;  // requests of connections replaced
  OrderTracker tracker_;
  std::int64_t next_order_id_ = 0;  // the lowest id not used by us
  std::map<std::string, std::int64_t, std::less<>> con_ids_;
  std::map<std::string, double> commissions_;  // by execution id, as commissionReport gave them
  broker::BrokerListener* listener_ = nullptr;
  std::thread worker_;
  std::atomic<std::uint64_t> reconnects_{0}, messages_{0}, malformed_{0}, outages_{0};
};

}  // namespace ballast::ib
