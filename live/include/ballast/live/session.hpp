#pragma once
/// `ballast live`: the backtest's strategy, planner, risk gate, order manager and ledger, with the
/// wall clock, Alpaca's market data and either Alpaca's venue or the simulated one swapped in.
/// See docs/live.md for the flow, the journal and the fault handling.

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace ballast::live {

enum class BrokerKind : unsigned char { kAlpaca, kSim, kIb };

struct LiveOptions {
  std::string config_path;
  std::vector<std::string> sets;
  BrokerKind broker = BrokerKind::kAlpaca;
  bool live = false;           ///< --live (real money); paper otherwise
  bool confirm_live = false;   ///< --i-understand-this-is-real-money
  bool dry_run = false;        ///< plan, preview and journal; send nothing
  bool once = false;           ///< one decision cycle now, then exit
  bool force = false;          ///< rebalance even when nothing is due
  std::string journal_path;    ///< default <out>/journal.sqlite
  std::string out_dir;         ///< default runs/live-<name>
  std::string env_file;        ///< APCA_API_* from this file instead of the environment
  double fill_timeout_s = -1;  ///< override live.fill_timeout_seconds
  int metrics_port = -1;       ///< override live.metrics_port (0 = off)
  bool quiet = false;
  /// --replay (with the sim broker): the config's store as the market, on a replay clock.
  bool replay = false;
  double speed = 0.0;  ///< replay speed: times real time; 0 = as fast as possible
  const std::atomic<bool>* stop = nullptr;  ///< set by SIGINT / SIGTERM
  const std::atomic<bool>* kill = nullptr;  ///< set by SIGUSR1: kill switch
};

/// Exit status of a live run.
enum LiveExit : int {
  kLiveOk = 0,          ///< cycle done (orders filled, or nothing due), or stopped cleanly
  kLiveIncomplete = 5,  ///< orders rejected, denied, or not filled before the timeout
};

/// An Alpaca account's holdings, read-only (for `ballast advise --from-broker`).
struct BrokerHolding {
  std::string symbol;
  double qty = 0.0;
  double avg_entry_price = 0.0;
};
struct BrokerPortfolio {
  double cash = 0.0;
  std::vector<BrokerHolding> positions;
  std::string account;  ///< the trading URL read from (no secrets)
};
/// Reads cash and positions with the config's `broker.alpaca` endpoints (and the APCA_API_*
/// environment), paper unless `live`; keys as for `ballast live`. Throws ballast::Error (broker,
/// exit 4) when the account cannot be read.
[[nodiscard]] BrokerPortfolio ReadBrokerPortfolio(const std::string& config_path,
                                                  const std::vector<std::string>& sets,
                                                  const std::string& env_file, bool live);

/// Runs the session; returns a LiveExit. Throws ballast::Error for config (2), data (3) and
/// broker (4: authentication, blocked account) failures.
int RunLive(const LiveOptions& options);

}  // namespace ballast::live
