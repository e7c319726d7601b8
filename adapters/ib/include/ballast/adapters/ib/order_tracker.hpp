#pragma once
/// IB's order messages turned into the broker seam's order updates, in an order the session can
/// book: IB sends `execDetails`, `orderStatus`, `openOrder` and `commissionReport` in no fixed
/// order (an orderStatus "Filled" often comes before its execution), repeats them (a duplicated
/// execDetails on reconnect, the same status twice), and splits one fill's price from its
/// commission. The tracker
/// - books each execution once: by execution id, and by the order's cumulative quantity (IB's
///   corrections carry a new id for the same shares);
/// - holds an execution until its commission report (or `Flush` gives up waiting), so the fill
///   is booked with its fee;
/// - holds a status that reports more filled than the executions so far, until they arrive, so
///   an order is never final before its fills are booked;
/// - reports a status only when it changes the order's phase or IB's status word.
/// Plain values in and out, no I/O and no locks (IbBroker locks around it).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/adapters/ib/messages.hpp"

namespace ballast::ib {

/// The seam's phase of an IB order status word with `filled` of `qty` done.
[[nodiscard]] broker::OrderPhase PhaseOf(std::string_view status, double filled,
                                         double qty) noexcept;

class OrderTracker {
 public:
  using Updates = std::vector<broker::OrderUpdate>;

  /// An order this process placed under `order_id` (known before any reply).
  void Placed(std::int64_t order_id, const broker::OrderRequest& request);
  Updates OnOpenOrder(const OpenOrder& o);
  Updates OnStatus(const OrderStatus& s);
  /// A live execution (request id -1); `now` dates it for Flush.
  Updates OnExecution(const Execution& e, Timestamp now);
  Updates OnCommission(const CommissionReport& c);
  /// An error about an order: a refusal (201, 203, 10243, ...) makes it rejected with IB's text;
  /// 202 (canceled) gives the reason its Cancelled status carries. Cancel refusals (10147,
  /// 10148) change nothing here (the caller reports them).
  Updates OnError(const ErrorMessage& e);
  /// Executions still waiting for their commission report since before `older_than`, booked
  /// without a commission (0), with anything they held back.
  Updates Flush(Timestamp older_than);

  /// Whether any reply for `order_id` has come (openOrder, orderStatus or an error).
  [[nodiscard]] bool Answered(std::int64_t order_id) const;
  /// The error that refused `order_id`, when one did.
  [[nodiscard]] std::optional<ErrorMessage> Refusal(std::int64_t order_id) const;
  [[nodiscard]] std::optional<broker::BrokerOrder> Find(std::int64_t order_id) const;
  /// The order placed under ballast's client order id `order_ref`, as this connection saw it.
  [[nodiscard]] std::optional<broker::BrokerOrder> FindByRef(std::string_view order_ref) const;
  /// Executions booked (each once).
  [[nodiscard]] std::size_t Executions() const noexcept { return exec_ids_.size(); }

 private:
  struct Pending {
    Execution exec;
    Timestamp received = 0;
  };
  struct Record {
    broker::BrokerOrder order;        // filled_qty / filled_avg_price: the executions emitted
    double notional = 0.0;            // of the executions emitted
    double seen_cum = 0.0;            // highest cumulative quantity of the executions taken
    std::optional<OrderStatus> held;  // a status waiting for its executions
    broker::OrderPhase emitted_phase = broker::OrderPhase::kUnknown;
    std::string emitted_status;
    bool answered = false;
    std::optional<ErrorMessage> refusal;
    std::vector<Pending> pending;  // executions waiting for their commission
  };

  Record& At(std::int64_t order_id);
  void Emit(Record& r, std::string_view event, Updates& out);
  void EmitExecution(Record& r, const Execution& e, double commission, Updates& out);
  void ApplyStatus(Record& r, const OrderStatus& s, Updates& out);

  std::map<std::int64_t, Record> orders_;
  std::set<std::string> exec_ids_;  // every execution taken (pending or emitted)
};

}  // namespace ballast::ib
