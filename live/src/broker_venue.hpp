#pragma once
// The engine's Venue over the broker seam: the one place a live session's orders meet a broker
// (Alpaca, the simulated broker, any other `broker::Broker`). The kernel's order manager hears
// every order's life from it alone, through VenueListener: accepted, each execution booked once
// (whichever route reports it: the update stream, a poll, recovery after a restart), rejected,
// canceled, expired. It journals the order's side of the broker before it acts (an order is
// `sending` before its request; the order manager journals fills and statuses through the
// engine's OrderJournal, session_journal.hpp), sends sells before the buys they fund, and
// never sends what the broker would refuse (below its minimum, finer than its precision, an
// untradable symbol). Internal to live/.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/engine/venue.hpp"
#include "ballast/live/journal.hpp"

namespace ballast::live::detail {

/// What the venue needs from the session that owns it (its outputs and its account view).
class VenueHost {
 public:
  virtual ~VenueHost() = default;
  virtual void Log(std::string_view kind, std::string fields,
                   spdlog::level::level_enum level = spdlog::level::info) = 0;
  /// One line of trades.csv.
  virtual void AppendTrade(Timestamp at, std::string_view coid, std::string_view symbol,
                           std::string_view side, double qty, double price,
                           std::string_view source) = 0;
  [[nodiscard]] virtual Timestamp Now() const = 0;
  /// The order manager's id for an order of ours journaled by an earlier process (it is
  /// adopted, so its fills are booked as this process's are).
  virtual OrderId Adopt(const JournalOrder& order) = 0;
  /// True when the ledger cannot take this sell (the broker sold more than it holds: a manual
  /// trade?); the session then re-reads the account instead of booking it.
  virtual bool Oversells(SymbolIndex symbol, double qty) = 0;
  /// The last open order became final and no buy waits (a service cycle can finish now).
  virtual void OnOrdersSettled() = 0;
};

/// The config's rules for what is sent.
struct SendRules {
  bool whole_shares = false;
  double lot_size = 1.0;
  double min_trade_notional = 0.0;
  double max_leverage = 1.0;
  /// Fraction of equity left in cash when buys are sized to the broker's cash.
  double cash_buffer = 0.002;
  std::string source_label;  ///< trades.csv's `source` for fills ("fill", "sim")
  std::string tag;           ///< our client order ids start with it (others' orders are ignored)
};

/// The account as the session last reconciled it, for fitting orders to it.
struct AccountView {
  double cash = 0.0;
  double equity = 0.0;
  std::span<const double> held;   ///< broker quantity per tradable symbol
  std::span<const double> marks;  ///< last price per tradable symbol
};

class BrokerVenue final : public Venue {
 public:
  BrokerVenue(broker::Broker& broker, Journal& journal, VenueHost& host,
              const std::vector<std::string>& symbols, std::size_t tradable, SendRules rules);

  // The engine's side. Submitted orders wait until the session has previewed, checked and
  // journaled them (Prepare, then Release).
  void SetListener(VenueListener* listener) override { listener_ = listener; }
  void Submit(const Order& order) override { staged_.push_back(order); }
  void Cancel(OrderId id, std::string_view reason) override;
  void OnSliceOpen(std::size_t) override {}
  void OnSliceClose(std::size_t) override {}

  /// The staged orders as the broker will take them: rounded down to its precision, a sell of
  /// (nearly) the whole position selling exactly what it holds, buys fitted to the cash the
  /// sells bring; what falls below the broker's minimum or min_trade is reported canceled.
  std::vector<Order> Prepare(const AccountView& account);
  /// Whether the kernel submitted orders since the last Prepare.
  [[nodiscard]] bool HasStaged() const noexcept { return !staged_.empty(); }
  /// The staged orders will not be sent (reported canceled with `reason`).
  void DropStaged(std::string_view reason);
  /// The client order id the session journaled for engine order `id`.
  void Bind(const std::string& client_order_id, OrderId id) { engine_ids_[client_order_id] = id; }
  /// The client order id bound to engine order `id` (empty when none is).
  [[nodiscard]] std::string ClientOrderIdOf(OrderId id) const;
  /// A planned order that will not be sent (dry run, kill switch): reported canceled, no longer
  /// open.
  void Drop(const std::string& client_order_id, std::string_view reason);

  /// Sends the cycle's planned orders: sells now, buys once the sells that fund them are final
  /// (resized then to the cash the broker has).
  void Release(std::vector<JournalOrder>& planned);
  /// Sends the waiting buys when no sell is open.
  void SendPendingBuys();
  /// Journals the waiting buys as abandoned (their sells did not fill in time).
  void AbandonPendingBuys(std::string_view reason);

  /// Orders a previous process journaled and did not see to the end, settled against the
  /// broker: fills made meanwhile journaled, open ones adopted, planned ones of `resumable`'s
  /// cycle kept for sending, the rest abandoned.
  void Recover(std::optional<std::int64_t> resumable);
  /// Asks the broker for each open order (updates missed while the stream was down).
  void Poll();
  /// Cancels every open order at the broker; asked again only after 30 s without a
  /// confirmation.
  void CancelAll(std::string_view reason);
  /// An order update from the broker's stream.
  void OnBrokerUpdate(const broker::OrderUpdate& update);
  /// No more orders are sent (they are journaled abandoned).
  void Stop() noexcept { stopping_ = true; }

  [[nodiscard]] bool SellsOpen() const;
  [[nodiscard]] std::size_t OpenCount() const noexcept { return open_.size(); }
  /// Open orders that reached (or are reaching) the broker: not those a restart keeps planned
  /// for the resumed cycle to send.
  [[nodiscard]] std::size_t InFlight() const;
  [[nodiscard]] bool HasPendingBuys() const noexcept { return !pending_buys_.empty(); }
  /// The order under `client_order_id` if it is open in this process.
  [[nodiscard]] const JournalOrder* Open(const std::string& client_order_id) const;

  struct Counters {
    std::uint64_t sent = 0, rejected = 0;
  };
  [[nodiscard]] const Counters& Count() const noexcept { return n_; }

 private:
  /// `resized`: this is the one resend after a buying-power refusal.
  void Send(JournalOrder& o, bool resized = false);
  void SendAll(std::vector<JournalOrder>& orders);
  /// Rejects `o` when the broker's order under its client order id is a different order.
  bool RefuseForeign(JournalOrder& o, const broker::BrokerOrder& broker_order);
  /// Rejects `o` before it reaches the broker (journal, log, order manager).
  void Refuse(JournalOrder& o, const std::string& why, std::string_view label);
  bool CheckAsset(JournalOrder& o);
  /// `o` will be sent for `qty` (journal, and the order manager's order).
  void Resize(JournalOrder& o, double qty);
  [[nodiscard]] double RoundQty(double qty) const;
  [[nodiscard]] double BuyingPower(double cash) const;
  /// Books one execution; `cumulative`: the order's filled quantity after it as the broker
  /// reports it (< 0 when unknown): only what goes beyond the journal's fills is booked.
  void ApplyFill(const std::string& coid, const std::string& symbol, Side side, double qty,
                 double price, double commission, Timestamp at, const std::string& exec_key,
                 double cumulative);
  /// Price of the quantity an order filled beyond what the journal holds.
  double NewFillPrice(const std::string& coid, double cumulative, double cumulative_avg,
                      double fallback);
  /// The order manager's id for `coid` (adopted from the journal when this process did not
  /// make it); 0 when it is not an order the journal knows.
  OrderId EngineId(const std::string& coid);
  void Report(const std::string& coid, broker::OrderPhase phase, std::string_view reason);
  [[nodiscard]] std::ptrdiff_t Column(const std::string& symbol) const;

  broker::Broker& broker_;
  Journal& journal_;
  VenueHost& host_;
  const std::vector<std::string>& symbols_;
  std::size_t tradable_;
  SendRules rules_;
  VenueListener* listener_ = nullptr;
  std::vector<Order> staged_;
  std::map<std::string, JournalOrder> open_;  // by client order id
  std::vector<JournalOrder> pending_buys_;
  std::map<std::string, OrderId> engine_ids_;
  std::map<std::string, Timestamp> cancel_requested_;           // when we last asked
  std::map<std::string, std::optional<broker::Asset>> assets_;  // asked once per process
  double equity_ = 0.0;
  bool poll_after_send_ = false;
  bool stopping_ = false;
  Counters n_;
};

}  // namespace ballast::live::detail
