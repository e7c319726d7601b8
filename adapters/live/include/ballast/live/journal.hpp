#pragma once
/// The live session's crash-safe journal: one SQLite file in WAL mode with synchronous=FULL, so a
/// committed row survives a crash or kill -9. Everything is written *before* acting on it: the
/// decision and its planned orders before the first POST, each order as `sending` before its POST,
/// each fill as it arrives. The schema is in docs/live.md. It never holds API keys.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/time.hpp"

namespace ballast::sqlite {
class Db;
}

namespace ballast::live {

struct JournalOrder {
  std::string client_order_id;
  std::int64_t cycle = 0;
  std::string symbol;
  std::string side;  ///< buy | sell
  double qty = 0.0;
  double ref_price = 0.0;
  double limit_price = 0.0;  ///< > 0: a day limit order at this price; 0: a market order
  /// The order at the venue, written by the live venue: planned | sending | sent | accepted |
  /// partially_filled | filled | canceled | expired | rejected | denied | dry_run | abandoned |
  /// skipped. Recovery reads it.
  std::string state;
  /// The order manager's status (engine::OrderStatus: accepted | partially_filled | filled |
  /// canceled | rejected | expired; empty until it reports one), written through the engine's
  /// OrderJournal.
  std::string status;
  std::string broker_id;
  double filled_qty = 0.0;
  double avg_price = 0.0;
  std::string reason;
};

struct JournalFill {
  std::string exec_key;
  std::string client_order_id;
  std::string symbol;
  std::string side;
  double qty = 0.0;
  double price = 0.0;
  double commission = 0.0;
  Timestamp at = 0;
};

struct JournalCycle {
  std::int64_t id = 0;
  Days day{};
  /// started | planned | sending | done | incomplete | failed | nothing_due | dry_run
  std::string state;
  std::string reason;
};

/// The account at the last status of a session day (one row per day, the latest wins).
struct EquityRow {
  Days day{};
  Timestamp at = 0;
  double equity = 0.0, cash = 0.0, drift = 0.0;
  std::string cycle_state;
  double benchmark_close = 0.0;  ///< 0 without a benchmark
  double flow = 0.0;             ///< external cash flow booked that day (from the flows table)
};

/// equity.csv for a live session: the backtest's columns first (date, equity, cash,
/// positions_value, daily_return, drawdown, flow, benchmark_equity), one row per session day, so a
/// paper session and a backtest of the same period line up; then drift, cycle_state and the time
/// of the status. Live flows are not known (deposits are at the broker): flow is 0.
/// Returns, drawdown and the benchmark are time-weighted from `base` (the equity before the
/// session's first decision; <= 0: the first row's equity less its flow), as a backtest's are
/// from its initial cash: a contribution is not a return. benchmark_equity is the backtest's
/// benchmark account (BenchmarkAccount) from `base`, with the rows' flows when
/// `benchmark_same_flows`.
[[nodiscard]] std::string EquityCsv(const std::vector<EquityRow>& rows, double base = 0.0,
                                    bool benchmark_same_flows = true);

[[nodiscard]] bool IsTerminalState(std::string_view order_state) noexcept;

class Journal {
 public:
  /// Opens or creates the journal; Error(kIo) naming the file when it cannot.
  /// `sync_every_commit`: fsync each commit (a live account: survives power loss); false keeps
  /// WAL's crash safety for the process (a kill -9 loses nothing committed) without the fsyncs,
  /// for replayed sessions.
  explicit Journal(const std::string& path, bool sync_every_commit = true);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  [[nodiscard]] const std::string& Path() const noexcept { return path_; }

  /// The most recent decision cycle that was not a dry run, if any.
  [[nodiscard]] std::optional<JournalCycle> LastCycle();
  std::int64_t BeginCycle(Days day, std::string_view reason, Timestamp now);
  void SetCycleState(std::int64_t cycle, std::string_view state, std::string_view detail = {});
  /// The decision's planned orders and its preview, in one transaction.
  void PlanOrders(std::int64_t cycle, const std::vector<JournalOrder>& orders,
                  std::string_view preview_json);
  void SetOrderState(std::string_view client_order_id, std::string_view state,
                     std::string_view broker_id = {}, std::string_view reason = {});
  /// The order manager's status of the order (see JournalOrder::status).
  void SetOrderStatus(std::string_view client_order_id, std::string_view status);
  void SetOrderProgress(std::string_view client_order_id, double filled_qty, double avg_price);
  /// A planned order resized before it is sent (buys scaled to the cash the sells brought).
  void SetOrderQty(std::string_view client_order_id, double qty);
  /// False when this execution was already recorded (a duplicate update).
  bool RecordFill(const JournalFill& fill);
  [[nodiscard]] std::vector<JournalOrder> CycleOrders(std::int64_t cycle);
  /// Orders in a state that is not final, oldest first.
  [[nodiscard]] std::vector<JournalOrder> OpenOrders();
  /// Every broker order id recorded (brokers whose ids the client picks never reuse one).
  [[nodiscard]] std::vector<std::string> BrokerIds();
  [[nodiscard]] std::vector<JournalFill> Fills();
  [[nodiscard]] double FilledQty(std::string_view client_order_id);
  /// Sum of quantity x price over the order's booked fills.
  [[nodiscard]] double FilledNotional(std::string_view client_order_id);
  /// Notional of orders sent (or being sent) on `day` (for max_daily_turnover).
  [[nodiscard]] double SentNotional(Days day);

  /// Schedule state (e.g. `last_decision_day`).
  void SetState(std::string_view key, std::string_view value);
  [[nodiscard]] std::optional<std::string> State(std::string_view key);

  void Event(Timestamp at, std::string_view kind, std::string_view detail_json);

  void RecordEquity(const EquityRow& row);
  /// The external cash flow booked on `day` (set, not added: a decision re-made after a crash
  /// books its flow once).
  void SetFlow(Days day, double amount);
  [[nodiscard]] double FlowTotal();
  /// A dividend the broker paid, booked once under the broker's id: true when it is new.
  bool BookIncome(std::string_view id, Days day, std::string_view symbol, double amount);
  /// Dividends booked, net of withholding.
  [[nodiscard]] double IncomeTotal();
  [[nodiscard]] std::vector<EquityRow> EquityRows();

 private:
  std::string path_;
  std::unique_ptr<sqlite::Db> db_;
};

}  // namespace ballast::live
