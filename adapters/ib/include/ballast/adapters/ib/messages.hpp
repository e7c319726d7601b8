#pragma once
/// Server → client messages of the TWS API that a rebalancer reads, as plain values, and their
/// parsers (server versions 176-178; field orders in docs/live.md "Interactive Brokers"). A
/// parser throws WireError naming the message and field when a frame does not match; the caller
/// logs and counts it. Messages this client does not read are ignored by id.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/adapters/ib/wire.hpp"

namespace ballast::ib {

/// Incoming message ids.
namespace in {
inline constexpr int kTickPrice = 1;
inline constexpr int kTickSize = 2;
inline constexpr int kOrderStatus = 3;
inline constexpr int kError = 4;
inline constexpr int kOpenOrder = 5;
inline constexpr int kNextValidId = 9;
inline constexpr int kContractDetails = 10;
inline constexpr int kExecDetails = 11;
inline constexpr int kManagedAccounts = 15;
inline constexpr int kHistoricalData = 17;
inline constexpr int kCurrentTime = 49;
inline constexpr int kContractDetailsEnd = 52;
inline constexpr int kOpenOrderEnd = 53;
inline constexpr int kExecDetailsEnd = 55;
inline constexpr int kTickSnapshotEnd = 57;
inline constexpr int kCommissionReport = 59;
inline constexpr int kPosition = 61;
inline constexpr int kPositionEnd = 62;
inline constexpr int kAccountSummary = 63;
inline constexpr int kAccountSummaryEnd = 64;
inline constexpr int kCompletedOrder = 101;
inline constexpr int kCompletedOrdersEnd = 102;
}  // namespace in

/// The message id of a frame (field 0); nullopt when it is not a number.
[[nodiscard]] std::optional<int> MessageId(const Fields& f);

struct ServerHello {
  int server_version = 0;
  std::string connection_time;  ///< "20230228 17:24:14 EST"
};
/// The handshake's reply: [serverVersion, connectionTime].
[[nodiscard]] ServerHello ParseServerHello(const Fields& f);

struct ErrorMessage {
  std::int64_t req_id = -1;  ///< -1: about the connection, else the request or order id
  int code = 0;
  std::string text;
  std::string advanced_reject_json;
};

/// What an error code means to ballast (docs/live.md has the table).
enum class ErrorClass : std::uint8_t {
  kInfo,          ///< farm connection notices (2104, 2106, 2158, ...) and other 21xx warnings
  kWarning,       ///< an order stays live (399 held, 10167 delayed data, ...)
  kDataDegraded,  ///< a data farm is broken or inactive (2103, 2105, 2157, 2107, 2108)
  kLinkLost,      ///< 1100: IB and TWS/Gateway lost each other; hold orders
  kLinkRestored,  ///< 1101 / 1102: reconcile
  kRequest,       ///< a request or order was refused (200, 201, 202, 10147, ...)
  kPacing,        ///< 100 message rate, 162 historical data pacing: back off
  kFatal,         ///< 326 client id in use, 502 cannot connect, 504 not connected
};
[[nodiscard]] ErrorClass Classify(int code) noexcept;

struct NextValidId {
  std::int64_t order_id = 0;
};
struct ManagedAccounts {
  std::vector<std::string> accounts;
};
struct CurrentTime {
  std::int64_t epoch_seconds = 0;
};

struct OrderStatus {
  std::int64_t order_id = 0;
  std::string status;   ///< PendingSubmit, PreSubmitted, Submitted, Filled, Cancelled, Inactive...
  double filled = 0.0;  ///< cumulative
  double remaining = 0.0;
  double avg_fill_price = 0.0;
  std::int64_t perm_id = 0;
  std::int64_t parent_id = 0;
  double last_fill_price = 0.0;
  std::int64_t client_id = 0;
  std::string why_held;
};

struct Execution {
  std::int64_t req_id = -1;  ///< -1: a live execution, else the reqExecutions request
  std::int64_t order_id = 0;
  std::int64_t con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string exec_id;
  std::string time;  ///< "20231203 20:15:20 US/Eastern"
  std::string account;
  std::string exchange;
  std::string side;  ///< BOT or SLD
  double shares = 0.0;
  double price = 0.0;
  std::int64_t perm_id = 0;
  std::int64_t client_id = 0;
  double cum_qty = 0.0;
  double avg_price = 0.0;
  std::string order_ref;  ///< ballast's client order id, when it placed the order
};

/// The first fields of openOrder (the order as placed, to its ids); its state is read from the
/// orderStatus that follows it.
struct OpenOrder {
  std::int64_t order_id = 0;  ///< 0 for an order placed by hand in TWS
  std::int64_t con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string action;  ///< BUY or SELL
  double quantity = 0.0;
  std::string order_type;
  std::optional<double> limit_price;
  std::string tif;
  std::string account;
  std::string order_ref;  ///< ballast's client order id, when ballast placed it
  std::int64_t client_id = 0;
  std::int64_t perm_id = 0;
};

struct CommissionReport {
  std::string exec_id;
  std::optional<double> commission;  ///< absent when IB sends its "no value" sentinel
  std::string currency;
  std::optional<double> realized_pnl;
};

struct PositionMessage {
  std::string account;
  std::int64_t con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string currency;
  double position = 0.0;
  double avg_cost = 0.0;
};

struct AccountValue {
  std::int64_t req_id = 0;
  std::string account;
  std::string tag;  ///< NetLiquidation, TotalCashValue, BuyingPower, ...
  std::string value;
  std::string currency;
};

struct ContractDetails {
  std::int64_t req_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string exchange;
  std::string currency;
  std::int64_t con_id = 0;
  double min_tick = 0.0;
  std::string long_name;
  std::string primary_exchange;
  std::string time_zone;
  std::string stock_type;
  double min_size = 0.0;
  double size_increment = 0.0;
};

struct HistoricalBar {
  std::string date;  ///< yyyymmdd for daily bars
  double open = 0.0, high = 0.0, low = 0.0, close = 0.0;
  double volume = 0.0;
};
struct HistoricalData {
  std::int64_t req_id = 0;
  std::vector<HistoricalBar> bars;
};

/// The request a reply answers, for the replies that carry one (-1 otherwise).
[[nodiscard]] std::int64_t ReplyReqId(int id, const Fields& f);

[[nodiscard]] ErrorMessage ParseError(const Fields& f);
[[nodiscard]] NextValidId ParseNextValidId(const Fields& f);
[[nodiscard]] ManagedAccounts ParseManagedAccounts(const Fields& f);
[[nodiscard]] CurrentTime ParseCurrentTime(const Fields& f);
[[nodiscard]] OrderStatus ParseOrderStatus(const Fields& f);
[[nodiscard]] OpenOrder ParseOpenOrder(const Fields& f);
[[nodiscard]] Execution ParseExecDetails(const Fields& f, int server_version);
[[nodiscard]] CommissionReport ParseCommissionReport(const Fields& f);
[[nodiscard]] PositionMessage ParsePosition(const Fields& f);
[[nodiscard]] AccountValue ParseAccountSummary(const Fields& f);
[[nodiscard]] ContractDetails ParseContractDetails(const Fields& f);
[[nodiscard]] HistoricalData ParseHistoricalData(const Fields& f);

}  // namespace ballast::ib
