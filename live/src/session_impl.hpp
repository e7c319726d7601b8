#pragma once
// The live session's parts, shared by the files that implement it (session.cpp: set-up, service
// mode and entry points; live_config.cpp: the config's live sections; cycle.cpp: one decision
// cycle; orders.cpp: sending orders and booking fills; session_outputs.cpp: events, status,
// equity and the ops endpoints). Internal to live/.
#include "ballast/live/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ballast/adapters/alpaca/alpaca_broker.hpp"
#include "ballast/adapters/alpaca/io_thread.hpp"
#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/adapters/broker/broker.hpp"
#include "ballast/adapters/ib/ib_broker.hpp"
#include "ballast/adapters/sim/sim_broker.hpp"
#include "ballast/backtests/backtest_config.hpp"
#include "ballast/backtests/outputs.hpp"
#include "ballast/backtests/signals_db.hpp"
#include "ballast/engine/calendar.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/kernel.hpp"
#include "ballast/live/journal.hpp"
#include "ballast/live/ops_server.hpp"
#include "ballast/live/time_ny.hpp"
#include "broker_venue.hpp"
#include "live_source.hpp"
#include "replay_market.hpp"
#include "session_journal.hpp"
#include "today_bars.hpp"

namespace ballast::live::detail {
namespace fs = std::filesystem;

/// live.risk: the engine's RiskGate limits, and the kill switch the session sets on the gate.
struct LiveRisk {
  RiskLimits limits;
  std::string kill_switch_file;  ///< while this file exists no new orders are sent
  bool cancel_on_kill = true;    ///< and open orders are canceled
};

struct LiveConfig {
  alpaca::Endpoints endpoints;
  ib::IbOptions ib;                  ///< broker.ib (the IB_* environment wins)
  int check_minutes = 15 * 60 + 45;  ///< New York time; kept the same distance from early closes
  int history_days = 400;  ///< calendar days of daily bars loaded for the strategy (0: all)
  double fill_timeout_s = 120.0;
  int metrics_port = 0;
  bool confirm_live = false;
  double stale_data_s = 120.0;
  /// Fraction of equity left in cash when buys are sized to the broker's cash (market orders
  /// fill at a price not known when they are sent).
  double cash_buffer = 0.002;
  /// How long a cycle waits for the trade stream before deferring its orders.
  double stream_connect_s = 60.0;
  /// Service mode: a deferred cycle is retried this often until the session's close.
  double retry_s = 60.0;
  /// Service mode: after the day's check, the stream's prices are a slice at most this often
  /// (drift bands are watched until the close); 0: only the checks.
  double watch_s = 300.0;
  /// Service mode: MiB of heap faulted in at start (prefault.hpp); 0: none.
  int prefault_mb = 64;
  LiveRisk risk;
};

/// Whether the broker's order under our client order id is the order we mean to send.
bool SameOrder(const broker::BrokerOrder& b, const JournalOrder& o);
/// The journal's word for an order in `phase` (live phases are all "accepted").
std::string_view JournalState(broker::OrderPhase phase) noexcept;
/// The config's `broker` and `live` sections (with the environment's endpoints), checked.
LiveConfig ParseLiveConfig(const ConfigDocument& doc, const LiveOptions& o);

/// Marks a directory as a ballast live session's (kept across runs, its files rewritten).
inline constexpr const char* kSessionMarker = ".ballast-live";

struct Metrics {
  // (Orders sent and rejected, and fills, are the venue's counts.)
  std::uint64_t orders_denied = 0, cycles = 0, malformed = 0, rate_limited = 0;
  double equity = 0.0, drift = 0.0;
};

/// The session talks to its broker only through the broker seam (`broker_`, a Broker) and reads
/// the market through `market_` (a MarketData); which implementations they are is decided once,
/// in ConnectBroker. It is the broker's listener (order updates arrive on its io_context and go
/// to the venue), the host of its BrokerVenue (the kernel's Venue) and the sink of its
/// LiveSource (the kernel's EventSource): a check's slice runs inside Cycle, a watch slice is a
/// cycle of its own when the strategy's recheck trades.
class Session final : public broker::BrokerListener, public VenueHost, public SliceSink {
 public:
  Session(const LiveOptions& o) : o_(o), wall_(io_) {}
  ~Session() override {
    try {
      FlushEquityCsv();  // whatever way the run ends, equity.csv holds every status
    } catch (...) {
    }
    // The data stream's handlers run on its thread: stop that first, then the stream can go.
    if (data_thread_) data_thread_->Join();
    data_.reset();
  }
  int Run();

  void OnUpdatesReady(bool reconnected) override;
  void OnUpdatesDown() override;
  void OnOrderUpdate(const broker::OrderUpdate& update) override;
  void OnBrokerEvent(std::string_view kind, const std::string& detail) override;
  void OnBrokerFatal(const std::string& why) override;

  // VenueHost.
  void Log(std::string_view kind, std::string fields,
           spdlog::level::level_enum level = spdlog::level::info) override;
  void AppendTrade(Timestamp at, std::string_view coid, std::string_view symbol,
                   std::string_view side, double qty, double price,
                   std::string_view source) override;
  [[nodiscard]] Timestamp Now() const override { return clock_->Now(); }
  OrderId Adopt(const JournalOrder& order) override;
  bool Oversells(SymbolIndex symbol, double qty) override;
  void OnOrdersSettled() override;

  // SliceSink (the LiveSource's slices).
  void OnSlice(std::size_t row) override;
  void OnSourceEnd() override {}

 private:
  // Set-up.
  void Load();
  void ConnectBroker();
  void Open();
  void LoadPrices(Days today);
  void Reconcile();
  /// The splits and dividends the broker applied from the day the journal last checked through
  /// `today` (none, logged, when the broker cannot say).
  std::vector<broker::AccountAction> AccountActions(Days today);
  /// The ledger and the order manager, once per process.
  void MakeLedger();
  void CarryDeferred(Days today);
  // One cycle.
  /// `blocking` (--once): waits for fills here. Otherwise (service) returns after sending and a
  /// timer finishes the cycle, so the io_context is never run from inside one of its handlers.
  int Cycle(bool force, bool blocking);
  int FinishCycle(std::int64_t cycle_id, bool timed_out);
  /// The kernel's decision at this slice, previewed, checked and journaled with its orders in
  /// `planned`; a status when the cycle ends there (nothing due), else nullopt.
  std::optional<int> PlanDecision(std::int64_t cycle_id, Days today,
                                  const std::optional<std::string>& prev_text, bool kill,
                                  std::vector<JournalOrder>& planned);
  /// Sends the journaled orders and finishes the cycle (or leaves a timer to).
  int SendDecision(std::int64_t cycle_id, std::vector<JournalOrder>& planned, bool blocking);
  /// A watch slice: the strategy rechecks today's row; orders it wants are a cycle ("watch").
  void WatchCycle(std::size_t row);
  /// Whether a watch slice may run now: service mode, market hours, today's check decided and
  /// finished, nothing in flight, no kill switch.
  bool MayWatch();
  /// Sells now, buys once they have filled (--once waits here for the sells).
  void SendOrders(std::vector<JournalOrder>& planned, bool blocking);
  bool WaitForOrders(double timeout_s, bool sells_only = false);
  bool KillSwitch() const;
  // Outputs.
  static std::string EventLine(Timestamp at, std::string_view kind, const std::string& fields);
  std::vector<std::tuple<Timestamp, std::string, std::string>> early_events_;
  void FlushKernelEvents();
  void TrackSignals(const std::vector<JournalOrder>& planned);
  void SettleSignals(Days today);
  void WriteStatus(std::string_view cycle_state);
  void WriteSummary(Days day, std::string_view cycle_state);
  /// Rewrites equity.csv from the journal when a status changed it since the last write.
  void FlushEquityCsv();
  bool equity_dirty_ = false;
  std::chrono::steady_clock::time_point equity_written_{};  // a real-time throttle
  double Drift() const;
  OpsReply Ops(std::string_view path);
  // Service mode.
  void ScheduleNext();
  /// One scheduled (or forced) cycle, errors logged; a deferred one is retried every
  /// live.retry_seconds until the session's close.
  void RunScheduledCycle(bool force, bool blocking);
  /// Runs a cycle: a broker failure becomes the session's fatal error (false), any other error
  /// a `cycle_error` event.
  bool Guarded(const std::function<void()>& cycle);
  void WatchStop();

  [[nodiscard]] std::string Coid(std::int64_t cycle, Days day, const std::string& symbol) const {
    std::string date = FormatDate(day);
    date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
    return fmt::format("{}-{}-{}-{}", tag_, date, cycle, symbol).substr(0, 48);
  }
  [[nodiscard]] bool IsSession(Days d) const {
    return sessions_->NextSession(d - std::chrono::days(1)) == d;
  }
  /// Nothing in flight: no order at the broker or waiting, no cycle unfinished (a replay at
  /// full speed moves its clock on only then). Orders a restart keeps planned for the day's
  /// resumed cycle wait for its check, so they do not hold the clock.
  [[nodiscard]] bool Idle() const {
    return (!venue_ || (venue_->InFlight() == 0 && !venue_->HasPendingBuys())) &&
           unfinished_cycle_ == 0;
  }
  /// The broker's clock, and keep the session's time by it (the broker's day and hours rule).
  broker::MarketClock BrokerClock();
  /// The broker's name as outputs and client order ids show it (known before it connects).
  [[nodiscard]] std::string_view BrokerName() const {
    return o_.broker == BrokerKind::kSim ? "sim" : o_.broker == BrokerKind::kIb ? "ib" : "alpaca";
  }

  const LiveOptions& o_;
  boost::asio::io_context io_;
  WallClock wall_;
  std::unique_ptr<ReplayClock> replay_clock_;  // --replay
  Clock* clock_ = &wall_;
  std::unique_ptr<SessionCalendar> sessions_;  // NYSE live; the store's dates in a replay
  std::unique_ptr<ReplayMarket> replay_;       // --replay: the store as the market
  std::int64_t unfinished_cycle_ = 0;          // a service cycle waiting for its fills
  bool replay_done_ = false;
  Days last_check_day_{};  // the session day of the last check scheduled
  bool has_checked_ = false;
  strategies::StrategyRegistry registry_;
  backtests::BacktestConfig cfg_;
  LiveConfig live_;
  std::string out_, tag_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<alpaca::AlpacaBroker> alpaca_;  // market data, and the broker unless sim
  std::unique_ptr<sim::SimBroker> sim_;
  std::unique_ptr<ib::IbBroker> ib_;  // --broker ib: the broker and the market data
  broker::Broker* broker_ = nullptr;
  broker::MarketData* market_ = nullptr;
  std::unique_ptr<alpaca::IoThread> data_thread_;  // the data stream reads on it
  std::unique_ptr<alpaca::DataStream> data_;
  std::unique_ptr<OpsServer> ops_;
  alpaca::Credentials creds_;
  std::vector<std::string> symbols_;  // tradable, then the benchmark if it is not one of them
  std::size_t tradable_ = 0;
  std::ptrdiff_t bench_col_ = -1;
  std::shared_ptr<BarPanel> panel_;
  std::unique_ptr<LiveSource> source_;  // the kernel's slices; keeps today's stream bars
  std::vector<double> broker_qty_, broker_cost_;
  double broker_cash_ = 0.0;
  double equity_ = 0.0;
  std::vector<double> marks_;
  std::vector<double> targets_;                    // last target weights (NaN = none)
  std::unique_ptr<BrokerVenue> venue_;             // before orders_, which refers to it
  std::unique_ptr<SessionJournal> order_journal_;  // the order manager's journal
  std::unique_ptr<OrderManager> orders_;
  std::unique_ptr<Ledger> ledger_;
  // The engine's loop, built at the first decision and kept for the process.
  std::unique_ptr<Planner> planner_;
  std::unique_ptr<RiskGate> risk_;
  std::unique_ptr<Strategy> strategy_;
  SimClock kernel_clock_;  // the kernel's timers; the session's clock is clock_
  std::unique_ptr<Kernel> kernel_;
  RunRecord record_;
  std::size_t flushed_events_ = 0;
  std::string fatal_;
  bool reconciled_ = false;
  std::optional<Days> actions_day_;       // the day corporate actions were last asked for
  std::set<std::string> splits_applied_;  // splits this process's ledger was re-based by
  bool stopping_ = false;
  Metrics m_;
  std::ofstream events_file_;
  // After io_: timers must be destroyed before the io_context they belong to.
  std::optional<boost::asio::steady_timer> cycle_timer_, stop_timer_, finish_timer_;
};

}  // namespace ballast::live::detail
