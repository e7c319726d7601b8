#pragma once
/// Alpaca's Trading REST API v2 and historical bars, with the rules of docs/live.md: 429 waits
/// until `X-Ratelimit-Reset` (and a spent `X-Ratelimit-Remaining` waits before the next call),
/// reads are retried on transport errors and 5xx, and POST /v2/orders is never retried blind.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/adapters/alpaca/messages.hpp"
#include "ballast/adapters/alpaca/net.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/redact.hpp"

namespace ballast::alpaca {

/// Where to connect. Defaults are Alpaca's paper endpoints; see ResolveEndpoints.
struct Endpoints {
  std::string trading_url = "https://paper-api.alpaca.markets";
  std::string data_url = "https://data.alpaca.markets";
  std::string trading_stream_url = "wss://paper-api.alpaca.markets/stream";
  std::string data_stream_url;  ///< empty = wss://stream.data.alpaca.markets/v2/<feed>
  std::string feed = "iex";     ///< iex | sip | test (test streams FAKEPACA all day)
  net::TlsOptions tls;
};

/// API keys. Never logged, never written anywhere.
struct Credentials {
  std::string key_id;
  std::string secret;
};

/// Reads APCA_API_KEY_ID / APCA_API_SECRET_KEY from `env_file` (KEY=VALUE lines, `#` comments,
/// optional `export ` and quotes) when given, else from the environment. Throws Error(kBroker)
/// naming what is missing (never the values).
[[nodiscard]] Credentials LoadCredentials(const std::string& env_file);

/// An HTTP error reply from Alpaca.
class RestError : public std::runtime_error {
 public:
  RestError(int status, ApiError error, const std::string& what)
      : std::runtime_error(Redact(what)), status_(status), error_(std::move(error)) {
    error_.message = Redact(error_.message);
  }
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const ApiError& error() const noexcept { return error_; }

 private:
  int status_;
  ApiError error_;
};

struct OrderRequest {
  std::string symbol;
  std::string side;  ///< buy | sell
  double qty = 0.0;  ///< shares (fractional allowed for market/day)
  std::string client_order_id;
  std::string time_in_force = "day";
  double limit_price = 0.0;  ///< > 0: a limit order at this price; else a market order
};

struct PostOutcome {
  enum class Kind : std::uint8_t {
    kAccepted,   ///< 200: `order` is the new order
    kDuplicate,  ///< 422 "client_order_id must be unique": already placed (look it up)
    kRejected,   ///< 403/422/other 4xx: `error` says why; do not retry
    kUnknown,    ///< timeout, transport error or 5xx: look it up by client order id
  };
  Kind kind = Kind::kUnknown;
  int status = 0;
  OrderInfo order;
  ApiError error;
};

class Rest {
 public:
  /// `on_event(kind, detail)` reports faults handled here (rate_limited, retry).
  using EventFn = std::function<void(std::string_view kind, const std::string& detail)>;
  /// `clock` is the one rate-limit resets (the server's epoch seconds) and "today" are read
  /// on: a session's WallClock, which keeps the broker's time.
  Rest(const Clock& clock, Endpoints endpoints, Credentials credentials, EventFn on_event = {},
       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Rest();

  [[nodiscard]] Account GetAccount();
  [[nodiscard]] std::vector<Position> GetPositions();
  /// GET /v2/orders?status=...&limit=500&direction=asc[&after=...]
  [[nodiscard]] std::vector<OrderInfo> ListOrders(std::string_view status,
                                                  std::optional<Timestamp> after = {});
  /// nullopt on 404.
  [[nodiscard]] std::optional<OrderInfo> GetOrderByClientId(std::string_view client_order_id);
  [[nodiscard]] PostOutcome PostOrder(const OrderRequest& order);
  /// True when the cancel was accepted (204); false when not found or not cancelable.
  bool CancelOrder(std::string_view order_id);
  /// GET /v2/assets/{symbol}; nullopt on 404 (the broker does not know it).
  [[nodiscard]] std::optional<AssetInfo> GetAsset(std::string_view symbol);
  [[nodiscard]] MarketClock GetClock();
  [[nodiscard]] std::vector<CalendarDay> GetCalendar(Days start, Days end);
  /// Daily bars (1Day), every page appended; `progress(bars so far)` per page. `adjustment`:
  /// `all` (splits and dividends in the prices) or `raw` (as traded).
  [[nodiscard]] std::vector<Bar> GetDailyBars(const std::vector<std::string>& symbols, Days start,
                                              std::optional<Days> end,
                                              const std::function<void(std::size_t)>& progress = {},
                                              std::string_view adjustment = "all");
  /// GET /v1/corporate-actions (market-data API) for `symbols` in [start, end], every page
  /// appended, in the server's order.
  [[nodiscard]] std::vector<CorporateActionInfo> GetCorporateActions(
      const std::vector<std::string>& symbols, Days start, Days end);
  /// GET /v2/account/activities of the dividend types (DIV and its withholding, return of
  /// capital and tax-exempt variants) dated in [from, to], every page, canceled ones left out.
  [[nodiscard]] std::vector<Activity> GetDividendActivities(Days from, Days to);
  [[nodiscard]] const Endpoints& endpoints() const noexcept { return endpoints_; }
  [[nodiscard]] std::uint64_t Requests() const noexcept { return requests_; }
  [[nodiscard]] std::uint64_t RateLimited() const noexcept { return rate_limited_; }

 private:
  net::HttpResponse Call(std::string_view method, const net::Url& origin, const std::string& target,
                         std::string_view body, bool retry_reads);
  [[noreturn]] void Throw(std::string_view what, const net::HttpResponse& r) const;

  const Clock& clock_;
  Endpoints endpoints_;
  net::Url trading_, data_;
  net::Headers auth_;
  EventFn on_event_;
  std::unique_ptr<net::HttpClient> trading_http_, data_http_;
  std::uint64_t requests_ = 0;
  std::uint64_t rate_limited_ = 0;
  std::chrono::steady_clock::time_point wait_until_{};  // no request before (rate limits)
};

/// Builds the JSON body of POST /v2/orders (market, or limit when `limit_price` > 0; quantities
/// and prices as decimal strings).
[[nodiscard]] std::string OrderBody(const OrderRequest& order);
/// A quantity or price as Alpaca takes it: rounded to 9 decimals, no trailing zeros ("12.5",
/// "3"). The same digits as printf's "%.9f" trimmed, without its cost on the order path.
[[nodiscard]] std::string DecimalString(double v);
/// Percent-encodes a query value.
[[nodiscard]] std::string UrlEncode(std::string_view text);

}  // namespace ballast::alpaca
