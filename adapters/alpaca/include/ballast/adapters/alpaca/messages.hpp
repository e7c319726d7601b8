#pragma once
/// Alpaca's wire messages as plain values, and their parsers (simdjson, in messages.cpp). The
/// parsers follow the schema-drift rules of docs/live.md: unknown fields are ignored, decimals are
/// accepted as strings or numbers, optional values may be null or absent, and the data stream's
/// arrays and the trade stream's single objects may arrive in text or binary frames.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/time.hpp"

namespace ballast::alpaca {

/// A message that does not match the documented shape (the caller logs and counts it).
struct ParseError {
  std::string what;
};

struct Account {
  std::string status;  ///< "ACTIVE" when it can trade
  std::string currency;
  double cash = 0.0;
  double equity = 0.0;
  double buying_power = 0.0;
  bool trading_blocked = false;
  bool account_blocked = false;
};

struct Position {
  std::string symbol;
  double qty = 0.0;  ///< negative for shorts
  double avg_entry_price = 0.0;
  double market_value = 0.0;
  double current_price = 0.0;
};

struct OrderInfo {
  std::string id;
  std::string client_order_id;
  std::string symbol;
  std::string side;    ///< buy | sell
  std::string status;  ///< Alpaca's order status (new, filled, canceled, ...)
  double qty = 0.0;    ///< 0 for notional orders
  double filled_qty = 0.0;
  double filled_avg_price = 0.0;
  Timestamp updated_at = 0;
};

/// GET /v2/assets/{symbol}: whether the symbol trades, and in fractions.
struct AssetInfo {
  std::string symbol;
  std::string status;  ///< active | inactive
  bool tradable = false;
  bool fractionable = false;
};

struct MarketClock {
  Timestamp timestamp = 0;
  bool is_open = false;
  Timestamp next_open = 0;
  Timestamp next_close = 0;
};

struct CalendarDay {
  Days date{};
  int open_minutes = 0;   ///< minutes after midnight New York time
  int close_minutes = 0;  ///< 960 normally, 780 on early closes
};

struct Bar {
  std::string symbol;
  Timestamp t = 0;  ///< start of the bar
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
};

/// One page of GET /v2/stocks/bars (bars of every symbol, in the order received).
struct BarsPage {
  std::vector<Bar> bars;
  std::string next_page_token;  ///< empty when this is the last page
};

/// One corporate action of GET /v1/corporate-actions (the market-data API), reduced to what the
/// store models: a split (forward, reverse, or a stock dividend as 1 + rate new shares per old)
/// or a cash dividend; every other kind (spin-offs, mergers, name changes, ...) is kOther, kept
/// so the caller can say it was not applied.
struct CorporateActionInfo {
  enum class Kind : std::uint8_t { kSplit, kCashDividend, kOther };
  Kind kind = Kind::kOther;
  std::string type;  ///< the response's list: forward_splits, cash_dividends, spin_offs, ...
  std::string symbol;
  Days ex_date{};
  double value = 0.0;  ///< split: new shares per old share; cash dividend: cash per share
};

/// One page of GET /v1/corporate-actions.
struct CorporateActionsPage {
  std::vector<CorporateActionInfo> actions;
  std::string next_page_token;  ///< empty when this is the last page
};

/// A non-trade activity of GET /v2/account/activities (dividends, here).
struct Activity {
  std::string activity_type;  ///< DIV, DIVNRA (withholding), DIVROC, ...
  std::string id;             ///< `<time>::<uuid>`; also the next page's token
  Days date{};
  double net_amount = 0.0;  ///< cash in (> 0) or out (< 0)
  std::string symbol;
  double qty = 0.0;  ///< shares that earned it
  double per_share_amount = 0.0;
  std::string status;  ///< executed, correct, canceled
};

/// Body of an error reply: {"code": 40310000, "message": "..."} (code 0 when absent).
struct ApiError {
  std::int64_t code = 0;
  std::string message;
};

/// One message of the market-data stream (each frame is an array of them).
struct DataMessage {
  enum class Kind : std::uint8_t {
    kSuccess,       ///< msg: connected / authenticated
    kError,         ///< code, msg
    kSubscription,  ///< the full current subscription set
    kBar,           ///< b: minute bar
    kUpdatedBar,    ///< u: replaces the bar with the same (symbol, t)
    kDailyBar,      ///< d
    kTrade,         ///< t: price in bar.close, size in bar.volume
    kOther,         ///< quotes, statuses, ... (not used by strategies)
  };
  Kind kind = Kind::kOther;
  std::int64_t code = 0;
  std::string msg;
  Bar bar;
};

/// Parses one data-stream frame (a JSON array, or a single object) into `out` (cleared first).
/// Returns false and sets `error` on malformed input; `out` then holds what parsed before it.
bool ParseDataFrame(std::string_view frame, std::vector<DataMessage>& out, ParseError& error);

/// One message of the trade-updates stream.
struct TradeMessage {
  enum class Kind : std::uint8_t {
    kAuthorization,  ///< status: authorized / unauthorized
    kListening,
    kTradeUpdate,
    kOther,
  };
  Kind kind = Kind::kOther;
  std::string status;        ///< authorization status
  std::string auth_message;  ///< e.g. the 2026 deprecation notice
  // trade_updates:
  std::string event;  ///< new, fill, partial_fill, canceled, rejected, ...
  std::string event_id;
  std::string execution_id;
  double qty = 0.0;    ///< this execution (fill / partial_fill)
  double price = 0.0;  ///< this execution
  Timestamp timestamp = 0;
  OrderInfo order;
};

bool ParseTradeFrame(std::string_view frame, TradeMessage& out, ParseError& error);

[[nodiscard]] std::optional<Account> ParseAccount(std::string_view body, ParseError& error);
[[nodiscard]] std::optional<std::vector<Position>> ParsePositions(std::string_view body,
                                                                  ParseError& error);
[[nodiscard]] std::optional<OrderInfo> ParseOrder(std::string_view body, ParseError& error);
[[nodiscard]] std::optional<std::vector<OrderInfo>> ParseOrders(std::string_view body,
                                                                ParseError& error);
[[nodiscard]] std::optional<AssetInfo> ParseAsset(std::string_view body, ParseError& error);
[[nodiscard]] std::optional<MarketClock> ParseClock(std::string_view body, ParseError& error);
[[nodiscard]] std::optional<std::vector<CalendarDay>> ParseCalendar(std::string_view body,
                                                                    ParseError& error);
[[nodiscard]] std::optional<BarsPage> ParseBarsPage(std::string_view body, ParseError& error);
[[nodiscard]] std::optional<CorporateActionsPage> ParseCorporateActionsPage(std::string_view body,
                                                                            ParseError& error);
[[nodiscard]] std::optional<std::vector<Activity>> ParseActivities(std::string_view body,
                                                                   ParseError& error);
/// Never fails: an unparsable body gives code 0 and the raw text as the message.
[[nodiscard]] ApiError ParseApiError(std::string_view body);

/// RFC 3339 with an optional fraction (up to 9 digits) and `Z` or a ±hh:mm offset.
[[nodiscard]] std::optional<Timestamp> ParseRfc3339(std::string_view text) noexcept;
/// Formats as RFC 3339 UTC with nanoseconds (`2024-01-02T15:04:05.000000001Z`).
[[nodiscard]] std::string FormatRfc3339(Timestamp t);

}  // namespace ballast::alpaca
