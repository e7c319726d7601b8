#pragma once
// A test server on 127.0.0.1 that speaks Alpaca's documented protocol (docs: ../shared/docs/
// brokers.md A1-A4): the trading REST API, historical bars with pagination, the trade-updates
// websocket and the market-data websocket, all on one port. Scenarios are switched on by options.
// It keeps a real account (cash, positions, orders by client order id), so tests check the
// engine's ledger against it.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ballast/data/series.hpp"

namespace ballast::testkit {

/// A corporate action the fake broker applies to its account, dated today: a split re-bases the
/// position (and is served by /v1/corporate-actions), a dividend credits cash per share held
/// (and is served by /v2/account/activities as a DIV activity).
struct FakeAccountAction {
  std::string symbol;
  bool split = false;  ///< else a cash dividend
  double value = 0.0;  ///< split: new shares per old share; dividend: cash per share
  /// Split: keep whole shares and pay the fraction in cash at the last close ÷ value.
  bool cash_in_lieu = false;
};

struct FakeAlpacaOptions {
  std::string key_id = "PKTEST";
  std::string secret = "test-secret-do-not-log";
  double cash = 100000.0;
  std::map<std::string, double> positions;  ///< starting holdings (bought at the first bar)
  /// Daily bars served by /v2/stocks/bars; the last date is "today" (the clock starts at 15:45 NY
  /// plus clock_offset_seconds and runs in real time).
  std::vector<data::SymbolSeries> bars;
  std::size_t bars_page_size = 1000;  ///< bars per page (tests pagination)
  /// Served for adjustment=raw (refused when empty); their actions are served by
  /// /v1/corporate-actions (splits above 1 as forward_splits, below 1 as reverse_splits).
  std::vector<data::SymbolSeries> raw_bars;
  std::size_t actions_page_size = 1000;  ///< actions per page
  /// Further lists of /v1/corporate-actions' first page, as JSON text of an object
  /// ({"spin_offs": [...]}); a list of the same name as the served ones is appended to.
  std::string extra_corporate_actions;
  /// Applied, in order, when the first order arrives (before it fills): what a broker does
  /// overnight, made deterministic for a test of one process.
  std::vector<FakeAccountAction> actions_on_first_order;
  double clock_offset_seconds = 0.0;

  // Scenarios.
  std::set<std::string> untradable;  ///< /v2/assets says tradable: false
  std::set<std::string> whole_only;  ///< /v2/assets says fractionable: false
  int rate_limit_first = 0;          ///< the first N REST requests get 429 with X-Ratelimit-Reset
  bool bad_keys = false;  ///< every key is refused (REST 401, streams unauthorized / 402)
  std::set<std::string> reject_symbols;  ///< POST /v2/orders -> 403 insufficient buying power
  bool partial_fills = false;            ///< each order fills in two executions
  bool hold_fills = false;               ///< accept orders but fill only on ReleaseFills()
  bool duplicate_updates = false;        ///< every trade update is sent twice
  bool malformed_frames = false;         ///< garbage frames on both streams
  int drop_trade_stream_after = 0;  ///< close the trade stream after N updates (first time only)
  int data_406_first = 0;           ///< the first N data-stream connections get error 406
  bool new_auth_reply = false;      ///< answer trade-stream auth in the data stream's array form
  bool greet_trade_stream = false;  ///< send {"T":"success","msg":"connected"} before the reply
  /// The first N accepted POST /v2/orders place the order, then close the connection without a
  /// reply (the client cannot know whether it was placed).
  int lose_post_replies = 0;
  /// The first N lookups by client order id that would find an order answer 404 (the order is
  /// not visible yet), so a re-sent POST meets "client_order_id must be unique".
  int lookup_lag = 0;
  /// Hostile servers (issue 13). GET /v2/account answers 400 with a body that echoes the request's
  /// headers, keys included.
  bool echo_headers_on_error = false;
  /// GET /v2/clock and GET /v2/positions answer 200 with a body that is not JSON.
  bool garbage_clock = false;
  bool garbage_positions = false;
  /// Bar pages never end: each page's token alternates between two values ("loop"), or every
  /// page is empty with a fresh token ("empty").
  std::string endless_bars;
  /// Live safety (issue 14). Buys beyond the cash there is now (unfilled sells bring none, open
  /// buys hold theirs) are 403 "insufficient buying power"; fractional orders under $1 are 403.
  bool strict_buying_power = false;
  /// Buying power is this fraction below cash (a broker's own margin of safety).
  double buying_power_haircut = 0.0;
  /// DELETE /v2/orders/{id} answers 204 but the order stays open (no cancel confirmation).
  bool ignore_cancels = false;
  /// GET /v2/clock says is_open.
  bool market_open = true;
  /// The first N trade-stream connections are closed before authentication (-1: all).
  int refuse_trade_stream = 0;
  /// With partial_fills: the second execution's price over the first's (0.01 = 1 % higher).
  double second_fill_premium = 0.0;

  /// TLS: with a certificate chain and key (PEM), the server speaks only https/wss.
  std::string tls_cert_file, tls_key_file;
  /// The host name the exported URLs use (the server always listens on 127.0.0.1).
  std::string host = "127.0.0.1";
};

class FakeAlpaca {
 public:
  explicit FakeAlpaca(FakeAlpacaOptions options);
  ~FakeAlpaca();
  FakeAlpaca(const FakeAlpaca&) = delete;
  FakeAlpaca& operator=(const FakeAlpaca&) = delete;

  [[nodiscard]] unsigned short Port() const;
  /// http://HOST:PORT, or https:// with TLS
  [[nodiscard]] std::string HttpUrl() const;
  /// Sets APCA_API_* (keys and all four endpoint variables) for processes started after it.
  void ExportEnvironment() const;

  /// Fills every held order now (hold_fills).
  void ReleaseFills();
  /// Sends a minute bar of `symbol` (open = high = low = close) starting at `ny_minute` of today,
  /// New York, on every data stream (those connected now and later).
  void PushMinuteBar(const std::string& symbol, double close, int ny_minute);
  /// GET /v2/account requests from now on wait (connection open, no reply) until
  /// ReleaseAccount(); WaitForHeldAccount waits until one is waiting.
  void HoldAccount();
  bool WaitForHeldAccount(std::chrono::milliseconds timeout);
  void ReleaseAccount();
  /// Blocks until `n` orders were accepted, or the timeout; true when reached.
  bool WaitForOrders(std::size_t n, std::chrono::milliseconds timeout);

  struct OrderView {
    std::string id, client_order_id, symbol, side, status;
    double qty = 0.0, filled_qty = 0.0, filled_avg_price = 0.0;
    std::string type = "market";
    double limit_price = 0.0;  ///< limit orders: as sent
  };
  [[nodiscard]] std::vector<OrderView> Orders() const;
  [[nodiscard]] std::map<std::string, double> Positions() const;
  [[nodiscard]] double Cash() const;
  /// POST /v2/orders requests received (accepted or not).
  [[nodiscard]] std::size_t Posts() const;
  [[nodiscard]] std::size_t Requests(const std::string& path_prefix) const;
  /// DELETE /v2/orders/{id} requests received.
  [[nodiscard]] std::size_t Cancels() const;
  /// Every request line and websocket message received, for "the secret is never sent in clear
  /// to a log" style checks.
  [[nodiscard]] std::vector<std::string> Received() const;
  [[nodiscard]] int TradeStreamConnections() const;
  [[nodiscard]] int DataStreamConnections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ballast::testkit
