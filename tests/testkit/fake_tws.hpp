#pragma once
// A test server on 127.0.0.1 that speaks the TWS socket API as IB Gateway does (server versions
// 176-178; ../shared/docs/ib-tws.md section 4): the handshake, startApi, and the account,
// position, contract and clock requests, with the farm notices and field layouts of real
// Gateway captures. It frames and builds its replies itself (not with ballast's encoder), and it
// is checked against a real client, @stoqey/ib (tests/ib_client/). One thread per connection;
// every frame received is kept for assertions (the protocol carries no secret).

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ballast/data/series.hpp"

namespace ballast::testkit {

struct FakeTwsContract {
  std::string symbol;
  long long con_id = 0;
  std::string primary_exchange = "ARCA";
  std::string long_name;
};

struct FakeTwsOptions {
  int server_version = 178;  ///< the highest it speaks (it agrees to min(this, client's max))
  std::string accounts = "DU1234567";  ///< managedAccounts (comma-separated)
  long long next_valid_id = 117;
  double cash = 100000.0;
  std::map<std::string, double> positions;  ///< symbol → shares (avg cost: `prices`)
  std::map<std::string, double> prices;     ///< last prices, for values and average costs
  std::vector<FakeTwsContract> contracts{{"SPY", 756733, "ARCA", "SPDR S&P 500 ETF TRUST"},
                                         {"AGG", 39622943, "ARCA", "ISHARES CORE US AGGREGATE"},
                                         {"GLD", 51529211, "ARCA", "SPDR GOLD SHARES"}};
  std::string connection_time = "20260714 15:45:00 EST";
  long long epoch_seconds = 1784058300;  ///< reqCurrentTime's answer (2026-07-14 15:45 New York)
  /// Daily bars served by reqHistoricalData (ADJUSTED_LAST and TRADES alike), those within the
  /// request's duration before today (epoch_seconds' New York date).
  std::vector<data::SymbolSeries> bars;

  // Scenarios.
  bool client_id_in_use = false;       ///< startApi gets error 326 and the socket closes
  bool unsolicited_unknown = false;    ///< once ready, an unknown message id (107) arrives
  bool positions_never_end = false;    ///< reqPositions gets its positions but no positionEnd
  bool notice_before_version = false;  ///< a notice frame precedes the version reply
  int pacing_violations = 0;           ///< the first N history requests get error 162 (pacing)
  bool hold_fills = false;             ///< orders are accepted (Submitted) and never fill
  /// Each order fills in two executions (the first half, then the rest), and the first
  /// execDetails is sent twice, as IB does on a reconnect or a second subscriber.
  bool partial_fills = false;
  std::set<std::string> reject_symbols;  ///< placeOrder: 201 "No Trading Permission", Inactive
  /// The Nth placeOrder (from 1) is taken and filled, and the connection drops before any
  /// reply: the client finds the order again by orderRef (reqExecutions) after reconnecting.
  int drop_after_place = 0;
  /// The first placeOrder's replies arrive between 1100 (IB lost) and 1102 (restored).
  bool link_blip = false;
};

class FakeTws {
 public:
  explicit FakeTws(FakeTwsOptions options = {});
  ~FakeTws();
  FakeTws(const FakeTws&) = delete;
  FakeTws& operator=(const FakeTws&) = delete;

  [[nodiscard]] unsigned short Port() const;
  /// Every frame received after the handshake, as fields, in order (all connections).
  [[nodiscard]] std::vector<std::vector<std::string>> Received() const;
  /// The version range each connection asked for ("v176..178").
  [[nodiscard]] std::vector<std::string> Handshakes() const;
  [[nodiscard]] int Connections() const;
  /// The account as the fake Gateway holds it now (orders fill at `prices`).
  [[nodiscard]] double Cash() const;
  [[nodiscard]] std::map<std::string, double> Positions() const;
  /// Fills every order held (hold_fills) at its price, telling no one (the client is gone).
  void ReleaseFills();
  /// Sends every connected client a notice (an error message with request id -1): 1100 when
  /// the Gateway loses IB, 1102 when it is back.
  void Notice(int code, const std::string& text);
  /// Closes every connection, as a Gateway restart does (the account stays).
  void DropConnections();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ballast::testkit
