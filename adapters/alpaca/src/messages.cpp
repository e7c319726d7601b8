#include "ballast/adapters/alpaca/messages.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <chrono>
#include <cmath>

namespace ballast::alpaca {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

bool Fail(ParseError& e, std::string what) {
  e.what = std::move(what);
  return false;
}

/// A decimal sent as a string or a number; nullopt when absent, null or not a number.
std::optional<double> Decimal(const element& v) {
  switch (v.type()) {
    case element_type::DOUBLE:
      return double(v);
    case element_type::INT64:
      return static_cast<double>(std::int64_t(v));
    case element_type::UINT64:
      return static_cast<double>(std::uint64_t(v));
    case element_type::STRING: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
      while (!s.empty() && s.back() == ' ')
        s.remove_suffix(1);
      double d = 0.0;
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
      return d;
    }
    default:
      return std::nullopt;
  }
}

double DecimalField(const object& o, std::string_view key, double fallback = 0.0) {
  element v;
  if (o.at_key(key).get(v) != simdjson::SUCCESS) return fallback;
  return Decimal(v).value_or(fallback);
}

std::string StringField(const object& o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

bool BoolField(const object& o, std::string_view key) {
  bool b = false;
  if (o.at_key(key).get_bool().get(b) != simdjson::SUCCESS) return false;
  return b;
}

Timestamp TimeField(const object& o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return 0;
  return ParseRfc3339(s).value_or(0);
}

bool ParseDocument(std::string_view body, element& doc, ParseError& e) {
  const simdjson::padded_string padded(body);
  const auto err = Parser().parse(padded).get(doc);
  if (err) return Fail(e, fmt::format("not JSON ({})", simdjson::error_message(err)));
  return true;
}

OrderInfo ReadOrder(const object& o) {
  OrderInfo r;
  r.id = StringField(o, "id");
  r.client_order_id = StringField(o, "client_order_id");
  r.symbol = StringField(o, "symbol");
  r.side = StringField(o, "side");
  r.status = StringField(o, "status");
  r.qty = DecimalField(o, "qty");
  r.filled_qty = DecimalField(o, "filled_qty");
  r.filled_avg_price = DecimalField(o, "filled_avg_price");
  r.updated_at = TimeField(o, "updated_at");
  return r;
}

bool ReadBar(const object& o, Bar& b) {
  element v;
  b.t = TimeField(o, "t");
  b.open = DecimalField(o, "o", NAN);
  b.high = DecimalField(o, "h", NAN);
  b.low = DecimalField(o, "l", NAN);
  b.close = DecimalField(o, "c", NAN);
  b.volume = DecimalField(o, "v", 0.0);
  return b.t != 0 && std::isfinite(b.close) && b.close > 0.0;
}

int HhMm(std::string_view s) {
  // "09:30" (or "0930" for session_open / session_close).
  int h = 0, m = 0;
  if (s.size() == 5 && s[2] == ':') {
    std::from_chars(s.data(), s.data() + 2, h);
    std::from_chars(s.data() + 3, s.data() + 5, m);
  } else if (s.size() == 4) {
    std::from_chars(s.data(), s.data() + 2, h);
    std::from_chars(s.data() + 2, s.data() + 4, m);
  } else {
    return -1;
  }
  return h * 60 + m;
}

template <typename T, typename F>
std::optional<std::vector<T>> ParseArray(std::string_view body, ParseError& e, F read) {
  element doc;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  simdjson::dom::array a;
  if (doc.get_array().get(a) != simdjson::SUCCESS) {
    Fail(e, "expected a JSON array");
    return std::nullopt;
  }
  std::vector<T> out;
  for (element item : a) {
    object o;
    if (item.get_object().get(o) != simdjson::SUCCESS) {
      Fail(e, "expected an array of objects");
      return std::nullopt;
    }
    T t;
    if (!read(o, t, e)) return std::nullopt;
    out.push_back(std::move(t));
  }
  return out;
}

bool ReadDataMessage(const object& o, DataMessage& m) {
  const std::string_view type = [&] {
    std::string_view s;
    if (o.at_key("T").get_string().get(s) != simdjson::SUCCESS) return std::string_view();
    return s;
  }();
  if (type.empty()) return false;
  m = DataMessage{};
  if (type == "success") {
    m.kind = DataMessage::Kind::kSuccess;
    m.msg = StringField(o, "msg");
  } else if (type == "error") {
    m.kind = DataMessage::Kind::kError;
    std::int64_t code = 0;
    if (o.at_key("code").get_int64().get(code) == simdjson::SUCCESS) m.code = code;
    m.msg = StringField(o, "msg");
  } else if (type == "subscription") {
    m.kind = DataMessage::Kind::kSubscription;
  } else if (type == "b" || type == "u" || type == "d") {
    m.kind = type == "b"   ? DataMessage::Kind::kBar
             : type == "u" ? DataMessage::Kind::kUpdatedBar
                           : DataMessage::Kind::kDailyBar;
    m.bar.symbol = StringField(o, "S");
    if (m.bar.symbol.empty() || !ReadBar(o, m.bar)) return false;
  } else if (type == "t") {
    m.kind = DataMessage::Kind::kTrade;
    m.bar.symbol = StringField(o, "S");
    m.bar.t = TimeField(o, "t");
    m.bar.close = DecimalField(o, "p", NAN);
    m.bar.volume = DecimalField(o, "s", 0.0);
    if (m.bar.symbol.empty() || m.bar.t == 0 || !(m.bar.close > 0.0)) return false;
  } else {
    m.kind = DataMessage::Kind::kOther;
  }
  return true;
}

}  // namespace

std::optional<Timestamp> ParseRfc3339(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const auto day = ParseIsoDate(s.substr(0, 10));
  if (!day) return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n, int& out) {
    const auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, out);
    return ec == std::errc() && p == s.data() + at + n;
  };
  int hh = 0, mm = 0, ss = 0;
  if (!num(11, 2, hh) || !num(14, 2, mm) || !num(17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  Timestamp frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits)
      frac *= 10;
  }
  Timestamp offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!num(i + 1, 2, oh) || !num(i + 4, 2, om)) return std::nullopt;
    offset = (static_cast<Timestamp>(oh) * 3600 + om * 60) * 1'000'000'000LL;
    if (s[i] == '-') offset = -offset;
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return DayToTimestamp(*day) +
         (static_cast<Timestamp>(hh) * 3600 + mm * 60 + ss) * 1'000'000'000LL + frac - offset;
}

std::string FormatRfc3339(Timestamp t) {
  const Days day = TimestampToDay(t);
  const Timestamp in_day = t - DayToTimestamp(day);
  const Timestamp secs = in_day / 1'000'000'000LL;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:09}Z", FormatDate(day), secs / 3600, secs / 60 % 60,
                     secs % 60, in_day % 1'000'000'000LL);
}

bool ParseDataFrame(std::string_view frame, std::vector<DataMessage>& out, ParseError& e) {
  out.clear();
  element doc;
  if (!ParseDocument(frame, doc, e)) return false;
  auto one = [&](const element& item) {
    object o;
    DataMessage m;
    if (item.get_object().get(o) != simdjson::SUCCESS || !ReadDataMessage(o, m)) {
      return Fail(e,
                  fmt::format("data message #{} has no valid 'T' or bar fields", out.size() + 1));
    }
    out.push_back(std::move(m));
    return true;
  };
  simdjson::dom::array items;
  if (doc.get_array().get(items) == simdjson::SUCCESS) {
    for (element item : items) {
      if (!one(item)) return false;
    }
    return true;
  }
  return one(doc);
}

bool ParseTradeFrame(std::string_view frame, TradeMessage& m, ParseError& e) {
  m = TradeMessage{};
  element doc;
  if (!ParseDocument(frame, doc, e)) return false;
  object o;
  // The new auth form may answer in the data stream's shape, an array of one object.
  simdjson::dom::array a;
  if (doc.get_array().get(a) == simdjson::SUCCESS) {
    if (a.size() != 1 || a.at(0).get_object().get(o) != simdjson::SUCCESS) {
      return Fail(e, "expected a JSON object (or an array of one)");
    }
  } else if (doc.get_object().get(o) != simdjson::SUCCESS) {
    return Fail(e, "expected a JSON object");
  }
  // The new auth form may answer like the data stream: [{"T":"success","msg":"authenticated"}].
  const std::string stream = StringField(o, "stream");
  object data;
  if (o.at_key("data").get_object().get(data) != simdjson::SUCCESS) {
    const std::string t = StringField(o, "T");
    if (t == "success" && StringField(o, "msg") == "connected") {
      m.kind = TradeMessage::Kind::kOther;  // the greeting before authentication, not its answer
      return true;
    }
    if (t == "success" || t == "error") {
      m.kind = TradeMessage::Kind::kAuthorization;
      m.status = StringField(o, "msg") == "authenticated" ? "authorized" : "unauthorized";
      m.auth_message = StringField(o, "msg");
      return true;
    }
    return Fail(e, "missing 'data' object");
  }
  if (stream == "authorization") {
    m.kind = TradeMessage::Kind::kAuthorization;
    m.status = StringField(data, "status");
    m.auth_message = StringField(data, "message");
  } else if (stream == "listening") {
    m.kind = TradeMessage::Kind::kListening;
  } else if (stream == "trade_updates") {
    m.kind = TradeMessage::Kind::kTradeUpdate;
    m.event = StringField(data, "event");
    m.event_id = StringField(data, "event_id");
    m.execution_id = StringField(data, "execution_id");
    m.qty = DecimalField(data, "qty");
    m.price = DecimalField(data, "price");
    m.timestamp = TimeField(data, "timestamp");
    object order;
    if (data.at_key("order").get_object().get(order) != simdjson::SUCCESS) {
      return Fail(e, "trade update without an 'order' object");
    }
    m.order = ReadOrder(order);
    if (m.event.empty() || m.order.client_order_id.empty()) {
      return Fail(e, "trade update without 'event' or 'order.client_order_id'");
    }
    if ((m.event == "fill" || m.event == "partial_fill") && !(m.qty > 0.0 && m.price > 0.0)) {
      return Fail(e, fmt::format("{} without a positive execution 'qty' and 'price'", m.event));
    }
  } else {
    m.kind = TradeMessage::Kind::kOther;
  }
  return true;
}

std::optional<Account> ParseAccount(std::string_view body, ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "account: expected an object");
    return std::nullopt;
  }
  Account a;
  a.status = StringField(o, "status");
  a.currency = StringField(o, "currency");
  element v;
  if (o.at_key("cash").get(v) != simdjson::SUCCESS || !Decimal(v)) {
    Fail(e, "account: missing or invalid 'cash'");
    return std::nullopt;
  }
  a.cash = *Decimal(v);
  a.equity = DecimalField(o, "equity", a.cash);
  a.buying_power = DecimalField(o, "buying_power", a.cash);
  a.trading_blocked = BoolField(o, "trading_blocked");
  a.account_blocked = BoolField(o, "account_blocked");
  return a;
}

std::optional<std::vector<Position>> ParsePositions(std::string_view body, ParseError& e) {
  return ParseArray<Position>(body, e, [](const object& o, Position& p, ParseError& err) {
    p.symbol = StringField(o, "symbol");
    element v;
    if (p.symbol.empty() || o.at_key("qty").get(v) != simdjson::SUCCESS || !Decimal(v)) {
      return Fail(err, "position: missing 'symbol' or 'qty'");
    }
    p.qty = *Decimal(v);
    p.avg_entry_price = DecimalField(o, "avg_entry_price");
    p.market_value = DecimalField(o, "market_value");
    p.current_price = DecimalField(o, "current_price");
    return true;
  });
}

std::optional<OrderInfo> ParseOrder(std::string_view body, ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "order: expected an object");
    return std::nullopt;
  }
  OrderInfo r = ReadOrder(o);
  if (r.id.empty()) {
    Fail(e, "order: missing 'id'");
    return std::nullopt;
  }
  return r;
}

std::optional<std::vector<OrderInfo>> ParseOrders(std::string_view body, ParseError& e) {
  return ParseArray<OrderInfo>(body, e, [](const object& o, OrderInfo& r, ParseError& err) {
    r = ReadOrder(o);
    return r.id.empty() ? Fail(err, "order: missing 'id'") : true;
  });
}

std::optional<AssetInfo> ParseAsset(std::string_view body, ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "asset: expected an object");
    return std::nullopt;
  }
  AssetInfo a;
  a.symbol = StringField(o, "symbol");
  a.status = StringField(o, "status");
  a.tradable = BoolField(o, "tradable");
  a.fractionable = BoolField(o, "fractionable");
  if (a.symbol.empty()) {
    Fail(e, "asset: missing 'symbol'");
    return std::nullopt;
  }
  return a;
}

std::optional<MarketClock> ParseClock(std::string_view body, ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "clock: expected an object");
    return std::nullopt;
  }
  MarketClock c;
  c.timestamp = TimeField(o, "timestamp");
  c.is_open = BoolField(o, "is_open");
  c.next_open = TimeField(o, "next_open");
  c.next_close = TimeField(o, "next_close");
  if (c.timestamp == 0) {
    Fail(e, "clock: missing or invalid 'timestamp'");
    return std::nullopt;
  }
  return c;
}

std::optional<std::vector<CalendarDay>> ParseCalendar(std::string_view body, ParseError& e) {
  return ParseArray<CalendarDay>(body, e, [](const object& o, CalendarDay& d, ParseError& err) {
    const auto date = ParseIsoDate(StringField(o, "date"));
    d.open_minutes = HhMm(StringField(o, "open"));
    d.close_minutes = HhMm(StringField(o, "close"));
    if (!date || d.open_minutes < 0 || d.close_minutes < 0) {
      return Fail(err, "calendar: expected 'date' YYYY-MM-DD and 'open'/'close' HH:MM");
    }
    d.date = *date;
    return true;
  });
}

std::optional<BarsPage> ParseBarsPage(std::string_view body, ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "bars: expected an object");
    return std::nullopt;
  }
  BarsPage page;
  page.next_page_token = StringField(o, "next_page_token");  // null or absent = last page
  element bars;
  if (o.at_key("bars").get(bars) != simdjson::SUCCESS || bars.is_null()) return page;
  object by_symbol;
  if (bars.get_object().get(by_symbol) != simdjson::SUCCESS) {
    Fail(e, "bars: expected 'bars' to map symbols to arrays");
    return std::nullopt;
  }
  for (auto field : by_symbol) {
    simdjson::dom::array a;
    if (field.value.get_array().get(a) != simdjson::SUCCESS) {
      Fail(e, fmt::format("bars.{}: expected an array", field.key));
      return std::nullopt;
    }
    for (element item : a) {
      object bo;
      Bar b;
      b.symbol = std::string(field.key);
      if (item.get_object().get(bo) != simdjson::SUCCESS || !ReadBar(bo, b)) {
        Fail(e, fmt::format("bars.{}[{}]: expected t (RFC 3339) and positive o/h/l/c", field.key,
                            page.bars.size()));
        return std::nullopt;
      }
      page.bars.push_back(std::move(b));
    }
  }
  return page;
}

std::optional<CorporateActionsPage> ParseCorporateActionsPage(std::string_view body,
                                                              ParseError& e) {
  element doc;
  object o;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  if (doc.get_object().get(o) != simdjson::SUCCESS) {
    Fail(e, "corporate actions: expected an object");
    return std::nullopt;
  }
  CorporateActionsPage page;
  page.next_page_token = StringField(o, "next_page_token");  // null or absent = last page
  element lists;
  if (o.at_key("corporate_actions").get(lists) != simdjson::SUCCESS || lists.is_null()) {
    return page;
  }
  object by_type;
  if (lists.get_object().get(by_type) != simdjson::SUCCESS) {
    Fail(e, "corporate actions: expected 'corporate_actions' to map types to arrays");
    return std::nullopt;
  }
  for (auto field : by_type) {
    const std::string_view type = field.key;
    if (field.value.is_null()) continue;
    simdjson::dom::array a;
    if (field.value.get_array().get(a) != simdjson::SUCCESS) {
      Fail(e, fmt::format("corporate_actions.{}: expected an array", type));
      return std::nullopt;
    }
    std::size_t index = 0;
    for (element item : a) {
      object ao;
      if (item.get_object().get(ao) != simdjson::SUCCESS) {
        Fail(e, fmt::format("corporate_actions.{}[{}]: expected an object", type, index));
        return std::nullopt;
      }
      CorporateActionInfo c;
      c.type = std::string(type);
      for (const char* key : {"symbol", "source_symbol", "acquiree_symbol", "old_symbol"}) {
        if (c.symbol.empty()) c.symbol = StringField(ao, key);
      }
      std::string date;
      for (const char* key : {"ex_date", "effective_date", "process_date"}) {
        if (date.empty()) date = StringField(ao, key);
      }
      const auto ex = ParseIsoDate(date);
      const auto bad = [&](std::string_view what) {
        Fail(e, fmt::format("corporate_actions.{}[{}]: expected {}", type, index, what));
        return std::nullopt;
      };
      if (type == "forward_splits" || type == "reverse_splits") {
        const double n = DecimalField(ao, "new_rate", -1.0), d = DecimalField(ao, "old_rate", -1.0);
        if (c.symbol.empty() || !ex || !(n > 0.0) || !(d > 0.0)) {
          return bad("symbol, ex_date (YYYY-MM-DD) and positive new_rate and old_rate");
        }
        c.kind = CorporateActionInfo::Kind::kSplit;
        c.value = n / d;
      } else if (type == "stock_dividends" || type == "cash_dividends") {
        const double rate = DecimalField(ao, "rate", -1.0);
        if (c.symbol.empty() || !ex || !(rate >= 0.0)) {
          return bad("symbol, ex_date (YYYY-MM-DD) and a rate of 0 or more");
        }
        c.kind = type == "cash_dividends" ? CorporateActionInfo::Kind::kCashDividend
                                          : CorporateActionInfo::Kind::kSplit;
        c.value = type == "cash_dividends" ? rate : 1.0 + rate;
      }
      if (ex) c.ex_date = *ex;
      page.actions.push_back(std::move(c));
      ++index;
    }
  }
  return page;
}

std::optional<std::vector<Activity>> ParseActivities(std::string_view body, ParseError& e) {
  element doc;
  if (!ParseDocument(body, doc, e)) return std::nullopt;
  simdjson::dom::array a;
  if (doc.get_array().get(a) != simdjson::SUCCESS) {
    Fail(e, "activities: expected an array");
    return std::nullopt;
  }
  std::vector<Activity> out;
  for (element item : a) {
    object o;
    Activity v;
    std::optional<Days> day;
    std::optional<double> net;
    if (item.get_object().get(o) == simdjson::SUCCESS) {
      v.activity_type = StringField(o, "activity_type");
      v.id = StringField(o, "id");
      day = ParseIsoDate(std::string_view(StringField(o, "date")).substr(0, 10));
      element amount;
      if (o.at_key("net_amount").get(amount) == simdjson::SUCCESS) net = Decimal(amount);
    }
    if (!day || !net || v.activity_type.empty() || v.id.empty()) {
      Fail(e, fmt::format("activities[{}]: expected activity_type, id, date (YYYY-MM-DD) and "
                          "net_amount",
                          out.size()));
      return std::nullopt;
    }
    v.date = *day;
    v.net_amount = *net;
    v.symbol = StringField(o, "symbol");
    v.qty = DecimalField(o, "qty");
    v.per_share_amount = DecimalField(o, "per_share_amount");
    v.status = StringField(o, "status");
    out.push_back(std::move(v));
  }
  return out;
}

ApiError ParseApiError(std::string_view body) {
  ApiError r;
  element doc;
  ParseError e;
  object o;
  if (ParseDocument(body, doc, e) && doc.get_object().get(o) == simdjson::SUCCESS) {
    std::int64_t code = 0;
    if (o.at_key("code").get_int64().get(code) == simdjson::SUCCESS) r.code = code;
    r.message = StringField(o, "message");
  }
  if (r.message.empty()) r.message = std::string(body.substr(0, 200));
  return r;
}

}  // namespace ballast::alpaca
