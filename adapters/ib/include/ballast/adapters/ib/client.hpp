#pragma once
/// A TWS API connection to IB Gateway or TWS over plain TCP (Asio, no IB SDK): the handshake, a
/// reader thread that cuts the stream into messages, and requests that wait for their replies
/// with a deadline. A request that does not complete in time is an error (its answer is
/// unknown), never an empty answer. Boost stays out of this header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/adapters/broker/broker.hpp"
#include "ballast/adapters/ib/messages.hpp"
#include "ballast/adapters/ib/requests.hpp"
#include "ballast/adapters/ib/wire.hpp"

namespace ballast::ib {

/// A refusal or failure of IB's: `status()` is IB's error code (326 client id in use, 200 no
/// security definition, ...), 0 when the Gateway was not reached or did not answer in time.
class TwsError : public broker::BrokerError {
 public:
  TwsError(int code, const std::string& what) : broker::BrokerError(code, what) {}
  [[nodiscard]] int code() const noexcept { return status(); }
};

struct ConnectOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 7497;
  int client_id = 1;
  std::chrono::milliseconds timeout{10'000};  ///< connect + handshake, and each request
  int min_version = kMinServerVersion;
  int max_version = kMaxServerVersion;
};

class TwsClient {
 public:
  /// Every message no request is waiting for (order status, executions, notices), on the
  /// reader thread, in arrival order.
  using Unsolicited = std::function<void(int id, const Fields& fields)>;
  /// Whether a message belongs to a request's reply, and whether it ends it.
  enum class Reply : std::uint8_t { kNotMine, kPart, kEnd };
  using Matcher = std::function<Reply(int id, const Fields& fields)>;

  /// The connection ended after the handshake (the Gateway closed it, the network dropped, or
  /// Close), with why; on the reader thread.
  using Down = std::function<void(const std::string& why)>;

  explicit TwsClient(ConnectOptions options, Unsolicited unsolicited = {}, Down on_down = {});
  ~TwsClient();
  TwsClient(const TwsClient&) = delete;
  TwsClient& operator=(const TwsClient&) = delete;

  /// Connects and completes the handshake: ready once nextValidId and managedAccounts have
  /// arrived. Throws TwsError: cannot connect, timed out, a server version outside the range
  /// (naming the Gateway version needed), client id in use (326).
  void Connect();
  void Close();
  [[nodiscard]] bool Connected() const;

  [[nodiscard]] int ServerVersion() const;
  [[nodiscard]] std::string ConnectionTime() const;
  [[nodiscard]] std::vector<std::string> Accounts() const;
  /// The first order id the Gateway would take (nextValidId); order ids never go below it.
  [[nodiscard]] std::int64_t NextValidId() const;
  /// Messages whose id this client does not read (forward compatibility: ignored, counted).
  [[nodiscard]] std::uint64_t UnknownMessages() const;
  /// The connection's notices so far (error messages with request id -1: farm status, 1100...).
  [[nodiscard]] std::vector<ErrorMessage> Notices() const;
  /// Why the connection ended, when it did ("" while connected).
  [[nodiscard]] std::string DownReason() const;

  /// Sends one message (framed here).
  void Send(const Fields& fields);
  /// Sends `request` and collects the messages `match` claims until one ends the reply. An error
  /// message for `req_id` (when >= 0) ends it with TwsError; no end within the timeout throws
  /// TwsError naming `what` (the answer is unknown).
  std::vector<Fields> Request(const Fields& request, std::string_view what, std::int64_t req_id,
                              Matcher match);

  /// A fresh request id for this connection.
  std::int64_t NewRequestId();

  // Typed requests.
  [[nodiscard]] std::int64_t CurrentTime();
  /// NetLiquidation, TotalCashValue, ... of every account the login manages.
  [[nodiscard]] std::vector<AccountValue> AccountSummary(const std::string& tags);
  [[nodiscard]] std::vector<PositionMessage> Positions();
  /// The contract of a US stock; TwsError 200 when IB has none for the symbol.
  [[nodiscard]] ContractDetails ResolveStock(const std::string& symbol,
                                             const std::string& primary_exchange = "");
  /// Daily bars of `c` over `duration` ("30 D", "2 Y") up to now, `what` ADJUSTED_LAST or
  /// TRADES, regular hours only. TwsError 162 when IB refuses (pacing, or no data).
  [[nodiscard]] HistoricalData DailyBars(const Contract& c, const std::string& duration,
                                         const std::string& what);
  /// Every open order the account has (reqAllOpenOrders), each with its last status.
  struct Open {
    OpenOrder order;
    std::optional<OrderStatus> status;
  };
  [[nodiscard]] std::vector<Open> OpenOrders();
  /// The executions `filter` selects (reqExecutions). Their commission reports follow the
  /// reply and reach the Unsolicited handler, joined by execution id.
  [[nodiscard]] std::vector<Execution> Executions(const ExecutionFilter& filter);
  /// Requests sent so far (each typed request counts one).
  [[nodiscard]] std::uint64_t Requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ballast::ib
