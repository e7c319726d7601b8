#pragma once
/// The broker seam: what a live session needs from any broker (Alpaca, the simulated one, and
/// Interactive Brokers next), in broker-neutral values. An adapter translates its wire protocol
/// into these; the session never sees a URL, a JSON field or a broker's status word except as
/// text it logs. Market data (the broker's clock and daily bars) is a separate seam, so a
/// simulated broker can trade on any broker's data, or on a store's.
///
/// Rules every implementation keeps:
/// - A failed or timed-out account, positions or open-orders request throws BrokerError (the
///   request named); it never answers with an empty result.
/// - Order updates arrive through BrokerListener on the session's io_context, never from inside
///   the call that placed the order.
/// - Texts that reach the listener or an exception carry no secret (see engine/redact.hpp).

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/orders.hpp"
#include "ballast/engine/time.hpp"

namespace ballast::broker {

/// A request the broker refused or that did not reach it. `status` is the protocol's status
/// (HTTP for REST brokers; 0 when the broker was not reached).
class BrokerError : public std::runtime_error {
 public:
  BrokerError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  [[nodiscard]] int status() const noexcept { return status_; }
  /// The broker refused our credentials or permissions.
  [[nodiscard]] bool Unauthorized() const noexcept { return status_ == 401 || status_ == 403; }

 private:
  int status_;
};

/// Where an order is in its life, whatever the broker calls it.
enum class OrderPhase : std::uint8_t {
  kPending,          ///< sent, not yet acknowledged (Alpaca pending_new, accepted)
  kWorking,          ///< live at the venue, nothing filled (new, held, pending_cancel, ...)
  kPartiallyFilled,  ///< live, part filled
  kFilled,
  kCanceled,  ///< the rest will not fill (canceled, done_for_day); fills so far stand
  kRejected,
  kExpired,
  kUnknown,  ///< a status this adapter does not know: treated as live, logged
};

[[nodiscard]] std::string_view ToString(OrderPhase phase) noexcept;
/// Filled, canceled, rejected or expired: nothing more will happen to the order.
[[nodiscard]] bool IsFinal(OrderPhase phase) noexcept;

struct Account {
  std::string status;  ///< the broker's word ("ACTIVE")
  std::string currency;
  double cash = 0.0;
  double equity = 0.0;
  double buying_power = 0.0;
  bool can_trade = true;
  std::string blocked_reason;  ///< why not, when !can_trade
};

struct Position {
  std::string symbol;
  double qty = 0.0;  ///< negative for shorts
  double avg_entry_price = 0.0;
  double market_value = 0.0;
};

struct BrokerOrder {
  std::string id;  ///< the broker's order id
  std::string client_order_id;
  std::string symbol;
  Side side = Side::kBuy;
  double qty = 0.0;
  double filled_qty = 0.0;
  double filled_avg_price = 0.0;
  /// Fees charged on the fills so far, when the broker reports them with the order (IB); 0
  /// when it does not (a fill booked from an order lookup then carries none).
  double commission = 0.0;
  OrderPhase phase = OrderPhase::kUnknown;
  std::string status;  ///< the broker's own status word, for logs
  std::string reason;  ///< why it was rejected / canceled, when the broker says
  Timestamp updated_at = 0;
};

using OrderType = ballast::OrderType;  // market or day limit, as the engine plans them

struct OrderRequest {
  std::string client_order_id;
  std::string symbol;
  Side side = Side::kBuy;
  double qty = 0.0;
  OrderType type = OrderType::kMarket;
  double limit_price = 0.0;  ///< kLimit only
  std::string time_in_force = "day";
};

struct PlaceResult {
  enum class Kind : std::uint8_t {
    kAccepted,   ///< `order` is the new order
    kDuplicate,  ///< the client order id is taken: already placed (look it up)
    kRejected,   ///< refused; `message` says why; do not retry
    kUnknown,    ///< timeout, transport error or server error: look it up by client order id
  };
  Kind kind = Kind::kUnknown;
  int status = 0;  ///< the protocol's status (HTTP status for REST brokers), 0 when none
  std::int64_t code = 0;
  std::string message;
  /// The refusal is for buying power: the session may resize the order once and resend.
  bool insufficient_buying_power = false;
  BrokerOrder order;
};

/// One change of an order, as the broker's update stream reports it.
struct OrderUpdate {
  std::string event;  ///< the broker's event word (fill, partial_fill, canceled, replaced, ...)
  OrderPhase phase = OrderPhase::kUnknown;  ///< the order's phase after the event
  BrokerOrder order;                        ///< the order after the event
  bool execution = false;                   ///< the event is a fill
  std::string execution_id;                 ///< unique per execution, when the broker gives one
  double qty = 0.0;                         ///< this execution's quantity
  double price = 0.0;                       ///< this execution's price
  double commission = 0.0;                  ///< this execution's fee, when the broker reports it
  Timestamp at = 0;
};

/// The session's side of the update stream. Called on the session's io_context.
class BrokerListener {
 public:
  virtual ~BrokerListener() = default;
  /// Listening. `reconnected` after a drop: updates sent meanwhile may be lost; poll.
  virtual void OnUpdatesReady(bool reconnected) = 0;
  virtual void OnUpdatesDown() = 0;
  virtual void OnOrderUpdate(const OrderUpdate& update) = 0;
  /// A fault the adapter handled (rate limited, retried, reconnecting): logged by the session.
  virtual void OnBrokerEvent(std::string_view kind, const std::string& detail) = 0;
  /// Unrecoverable (authentication refused): the session stops.
  virtual void OnBrokerFatal(const std::string& why) = 0;
};

/// A fill the session's journal holds for this account (see Broker::Restore).
struct BookedFill {
  std::string client_order_id;
  std::string symbol;
  Side side = Side::kBuy;
  double qty = 0.0;
  double price = 0.0;
  double commission = 0.0;
};

/// What the session's journal booked on the account in earlier processes (see Broker::Restore).
struct BookedAccount {
  std::vector<BookedFill> fills;
  double net_transfers = 0.0;            ///< external cash flows booked (see Transfer)
  std::vector<BrokerOrder> open_orders;  ///< sent to the broker and not final
  /// Every broker order id the journal recorded (a broker whose ids the client picks, as IB's,
  /// never reuses one).
  std::vector<std::string> order_ids;
};

/// A corporate action the broker applied to the account: a split it re-based a position by, or a
/// cash dividend it paid (see Broker::GetAccountActions).
struct AccountAction {
  enum class Kind : std::uint8_t { kSplit, kDividend };
  Kind kind = Kind::kSplit;
  std::string id;  ///< the broker's id for it (a dividend is booked once under it)
  std::string symbol;
  Days date{};          ///< split: the ex-date; dividend: the day the cash was credited
  double ratio = 0.0;   ///< split: new shares per old share (0.1 for a 1:10 reverse split)
  double amount = 0.0;  ///< dividend: the cash credited, net of any withholding
};

/// Whether and how a symbol can be traded.
struct Asset {
  std::string symbol;
  bool tradable = true;
  bool fractionable = true;
};

/// What the broker accepts of a fractional-share order.
struct OrderRules {
  int fractional_decimals = -1;          ///< quantities carry at most this many decimals (-1: any)
  double min_fractional_notional = 0.0;  ///< a fractional order below this is refused
};

class Broker {
 public:
  virtual ~Broker() = default;
  [[nodiscard]] virtual OrderRules Rules() const noexcept = 0;
  /// "alpaca", "sim", ...: a label for logs, client order ids and status.
  [[nodiscard]] virtual std::string_view Name() const noexcept = 0;
  /// Where the account lives, for logs (a URL or "local"); never a secret.
  [[nodiscard]] virtual std::string Endpoint() const = 0;

  [[nodiscard]] virtual Account GetAccount() = 0;
  [[nodiscard]] virtual std::vector<Position> GetPositions() = 0;
  /// Orders not yet final.
  [[nodiscard]] virtual std::vector<BrokerOrder> GetOpenOrders() = 0;
  /// nullopt when the broker has no order under that id.
  [[nodiscard]] virtual std::optional<BrokerOrder> FindOrder(std::string_view client_order_id) = 0;
  /// nullopt when the broker does not know the symbol.
  [[nodiscard]] virtual std::optional<Asset> GetAsset(std::string_view symbol) = 0;
  [[nodiscard]] virtual PlaceResult Place(const OrderRequest& request) = 0;
  /// True when the broker took the cancel request (confirmation comes as an update).
  virtual bool Cancel(const BrokerOrder& order) = 0;

  /// What the session's journal booked on this account in earlier processes. A real broker's
  /// account is the truth and ignores it; a simulated broker rebuilds its account from it (and
  /// keeps working the orders that were open when the last process ended).
  virtual void Restore(const BookedAccount& booked) = 0;

  /// Whether Transfer moves money: a simulated broker books a strategy's contributions and
  /// withdrawals; at a real broker the account's owner moves the money, and the session sees it
  /// in the reconciled cash.
  [[nodiscard]] virtual bool SupportsTransfers() const noexcept = 0;
  /// Books an external cash flow into (> 0) or out of (< 0) the account (SupportsTransfers only).
  virtual void Transfer(double amount) = 0;

  /// Splits of `symbols` with ex-dates in [from, to], and the dividends the broker credited to
  /// the account on those days, so the session tells a corporate action from a discrepancy. A
  /// broker whose prices carry no actions (the simulated one) answers none; a failed request
  /// throws BrokerError.
  [[nodiscard]] virtual std::vector<AccountAction> GetAccountActions(
      const std::vector<std::string>& symbols, Days from, Days to) = 0;

  /// Starts the update stream; `listener` outlives the broker's updates (StopUpdates).
  virtual void StartUpdates(BrokerListener& listener) = 0;
  virtual void StopUpdates() = 0;
  /// Orders are sent only while this is true (so every fill is seen).
  [[nodiscard]] virtual bool UpdatesReady() const noexcept = 0;
  /// Why UpdatesReady is false, when the broker knows more than "not connected" (for /ready).
  [[nodiscard]] virtual std::string DownReason() const { return {}; }
  /// Counters for the ops endpoint.
  struct Stats {
    std::uint64_t requests = 0;           ///< requests made
    std::uint64_t update_reconnects = 0;  ///< update-stream reconnects
    std::uint64_t update_messages = 0;
    std::uint64_t update_malformed = 0;  ///< update messages that did not parse
    std::uint64_t outages = 0;  ///< times updates went down (a dropped connection, IB's 1100)
  };
  [[nodiscard]] virtual Stats GetStats() const noexcept = 0;
};

/// The broker's view of the market: its clock and daily bars.
struct MarketClock {
  Timestamp now = 0;
  bool is_open = false;
  Timestamp next_open = 0;   ///< 0 when unknown
  Timestamp next_close = 0;  ///< 0 when unknown
};

struct DailyBar {
  std::string symbol;
  Timestamp t = 0;  ///< start of the bar
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
};

class MarketData {
 public:
  virtual ~MarketData() = default;
  [[nodiscard]] virtual MarketClock GetClock() = 0;
  /// Split- and dividend-adjusted daily bars of `symbols` from `start` to `end` (or today).
  [[nodiscard]] virtual std::vector<DailyBar> GetDailyBars(const std::vector<std::string>& symbols,
                                                           Days start, std::optional<Days> end) = 0;
};

}  // namespace ballast::broker
