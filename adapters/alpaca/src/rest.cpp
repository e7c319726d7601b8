#include "ballast/adapters/alpaca/rest.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "ballast/engine/clock.hpp"
#include "ballast/engine/error.hpp"

namespace ballast::alpaca {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

/// `symbols=` of the data API: comma-separated.
std::string JoinSymbols(const std::vector<std::string>& symbols) {
  std::string joined;
  for (const auto& s : symbols)
    joined += (joined.empty() ? "" : ",") + s;
  return joined;
}

}  // namespace

Credentials LoadCredentials(const std::string& env_file) {
  Credentials c;
  if (!env_file.empty()) {
    std::ifstream in(env_file);
    if (!in) throw Error(ErrorKind::kBroker, fmt::format("{}: cannot read the env file", env_file));
    std::string line;
    while (std::getline(in, line)) {
      std::string_view l = line;
      while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
        l.remove_prefix(1);
      if (l.empty() || l.front() == '#') continue;
      if (l.rfind("export ", 0) == 0) l.remove_prefix(7);
      const auto eq = l.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string key = Trim(l.substr(0, eq));
      if (key == "APCA_API_KEY_ID") c.key_id = Trim(l.substr(eq + 1));
      if (key == "APCA_API_SECRET_KEY") c.secret = Trim(l.substr(eq + 1));
    }
    if (c.key_id.empty() || c.secret.empty()) {
      throw Error(
          ErrorKind::kBroker,
          fmt::format("{}: needs APCA_API_KEY_ID=... and APCA_API_SECRET_KEY=... lines", env_file));
    }
    RegisterSecret(c.key_id);
    RegisterSecret(c.secret);
    return c;
  }
  if (const char* k = std::getenv("APCA_API_KEY_ID")) c.key_id = k;
  if (const char* s = std::getenv("APCA_API_SECRET_KEY")) c.secret = s;
  if (c.key_id.empty() || c.secret.empty()) {
    throw Error(ErrorKind::kBroker,
                "Alpaca keys missing: set APCA_API_KEY_ID and APCA_API_SECRET_KEY in the "
                "environment, or pass --env-file FILE");
  }
  RegisterSecret(c.key_id);
  RegisterSecret(c.secret);
  return c;
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (const unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

std::string DecimalString(double v) {
  // Nanos in an integer: exact below 2^20 (the error of v * 1e9 stays under 0.2 of a nano), which
  // covers what the order path sends; fmt's "{:.9f}" takes a multi-precision path per call.
  if (!std::isfinite(v) || std::abs(v) >= 1e6) {
    std::string s = fmt::format("{:.9f}", v);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
      const bool dot = s.back() == '.';
      s.pop_back();
      if (dot) break;
    }
    return s;
  }
  const long long nanos = std::llround(v * 1e9);
  const unsigned long long u =
      nanos < 0 ? static_cast<unsigned long long>(-nanos) : static_cast<unsigned long long>(nanos);
  char buf[32];
  char* p = buf;
  if (nanos < 0) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, u / 1'000'000'000ULL).ptr;
  unsigned long long frac = u % 1'000'000'000ULL;
  if (frac != 0) {
    int digits = 9;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    *p++ = '.';
    char* end = p + digits;
    for (char* q = end; q-- > p;) {
      *q = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p = end;
  }
  return std::string(buf, p);
}

std::string OrderBody(const OrderRequest& o) {
  // Symbols and client order ids are ours ([A-Za-z0-9.-]); no escaping needed beyond that check.
  if (o.limit_price > 0.0) {
    return fmt::format(
        R"({{"symbol":"{}","qty":"{}","side":"{}","type":"limit","limit_price":"{}","time_in_force":"{}","client_order_id":"{}"}})",
        o.symbol, DecimalString(o.qty), o.side, DecimalString(o.limit_price), o.time_in_force,
        o.client_order_id);
  }
  return fmt::format(
      R"({{"symbol":"{}","qty":"{}","side":"{}","type":"market","time_in_force":"{}","client_order_id":"{}"}})",
      o.symbol, DecimalString(o.qty), o.side, o.time_in_force, o.client_order_id);
}

Rest::Rest(const Clock& clock, Endpoints endpoints, Credentials credentials, EventFn on_event,
           std::chrono::milliseconds timeout)
    : clock_(clock),
      endpoints_(std::move(endpoints)),
      trading_(net::ParseUrl(endpoints_.trading_url)),
      data_(net::ParseUrl(endpoints_.data_url)),
      auth_{{"APCA-API-KEY-ID", credentials.key_id},
            {"APCA-API-SECRET-KEY", credentials.secret},
            {"Accept", "application/json"}},
      on_event_(std::move(on_event)),
      trading_http_(std::make_unique<net::HttpClient>(endpoints_.tls, timeout)),
      data_http_(std::make_unique<net::HttpClient>(endpoints_.tls, timeout)) {
  // A base URL may carry a path prefix (a proxy); requests append to it.
  if (trading_.target == "/") trading_.target.clear();
  if (data_.target == "/") data_.target.clear();
}

Rest::~Rest() = default;

net::HttpResponse Rest::Call(std::string_view method, const net::Url& origin,
                             const std::string& target, std::string_view body, bool retry_reads) {
  auto& http = &origin == &data_ ? *data_http_ : *trading_http_;
  const std::string full = origin.target + target;
  for (int attempt = 1;; ++attempt) {
    std::this_thread::sleep_until(wait_until_);
    ++requests_;
    net::HttpResponse r;
    try {
      r = http.Request(method, origin, full, auth_, body);
    } catch (const net::TransportError& e) {
      if (!retry_reads || attempt >= 3) throw;
      if (on_event_) on_event_("retry", fmt::format("{} {}: {}", method, target, e.what()));
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      continue;
    }
    // X-Ratelimit-Remaining 0: wait for the reset before the next call.
    const auto remaining = r.Header("x-ratelimit-remaining");
    const auto reset = r.Header("x-ratelimit-reset");
    long long reset_s = 0;
    std::from_chars(reset.data(), reset.data() + reset.size(), reset_s);
    // The reset is the server's time (epoch seconds); the clock keeps the broker's time. The
    // wait is a duration from now, at most a minute (Alpaca's window), so a later change of the
    // clock's offset cannot stretch it.
    auto until_reset = [&] {
      const Timestamp left = reset_s * 1'000'000'000LL - clock_.Now();
      return std::chrono::nanoseconds(std::clamp<Timestamp>(left, 0, 60'000'000'000LL));
    };
    if (remaining == "0" && reset_s > 0)
      wait_until_ = std::chrono::steady_clock::now() + until_reset();
    if (r.status == 429) {
      ++rate_limited_;
      const std::chrono::nanoseconds wait =
          reset_s > 0 ? until_reset() : std::chrono::nanoseconds(1'000'000'000LL * attempt);
      if (on_event_) {
        on_event_("rate_limited", fmt::format("{} {}: 429, waiting {:.1f} s for the reset", method,
                                              target, static_cast<double>(wait.count()) / 1e9));
      }
      wait_until_ = std::chrono::steady_clock::now() + wait;
      // A 429 was refused before any processing: repeating it (even a POST) is safe.
      if (attempt >= 5) return r;
      continue;
    }
    if (r.status >= 500 && retry_reads && attempt < 3) {
      if (on_event_) on_event_("retry", fmt::format("{} {}: HTTP {}", method, target, r.status));
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      continue;
    }
    return r;
  }
}

void Rest::Throw(std::string_view what, const net::HttpResponse& r) const {
  ApiError e = ParseApiError(r.body);
  std::string hint;
  if (r.status == 401 || r.status == 403) {
    hint =
        " (check APCA_API_KEY_ID / APCA_API_SECRET_KEY, and that paper keys go to the paper "
        "endpoint)";
  }
  throw RestError(r.status, e, fmt::format("{}: HTTP {} {}{}", what, r.status, e.message, hint));
}

Account Rest::GetAccount() {
  const auto r = Call("GET", trading_, "/v2/account", {}, true);
  if (r.status != 200) Throw("GET /v2/account", r);
  ParseError e;
  auto a = ParseAccount(r.body, e);
  if (!a) throw RestError(r.status, {}, "GET /v2/account: " + e.what);
  return *a;
}

std::vector<Position> Rest::GetPositions() {
  const auto r = Call("GET", trading_, "/v2/positions", {}, true);
  if (r.status != 200) Throw("GET /v2/positions", r);
  ParseError e;
  auto p = ParsePositions(r.body, e);
  if (!p) throw RestError(r.status, {}, "GET /v2/positions: " + e.what);
  return *p;
}

std::vector<OrderInfo> Rest::ListOrders(std::string_view status, std::optional<Timestamp> after) {
  std::string target = fmt::format("/v2/orders?status={}&limit=500&direction=asc", status);
  if (after) target += "&after=" + UrlEncode(FormatRfc3339(*after));
  const auto r = Call("GET", trading_, target, {}, true);
  if (r.status != 200) Throw("GET /v2/orders", r);
  ParseError e;
  auto o = ParseOrders(r.body, e);
  if (!o) throw RestError(r.status, {}, "GET /v2/orders: " + e.what);
  return *o;
}

std::optional<OrderInfo> Rest::GetOrderByClientId(std::string_view id) {
  const auto r = Call("GET", trading_,
                      "/v2/orders:by_client_order_id?client_order_id=" + UrlEncode(id), {}, true);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Throw("GET /v2/orders:by_client_order_id", r);
  ParseError e;
  auto o = ParseOrder(r.body, e);
  if (!o) throw RestError(r.status, {}, "GET /v2/orders:by_client_order_id: " + e.what);
  return o;
}

std::optional<AssetInfo> Rest::GetAsset(std::string_view symbol) {
  const auto r = Call("GET", trading_, "/v2/assets/" + UrlEncode(symbol), {}, true);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Throw("GET /v2/assets", r);
  ParseError e;
  auto a = ParseAsset(r.body, e);
  if (!a) throw RestError(r.status, {}, "GET /v2/assets: " + e.what);
  return a;
}

PostOutcome Rest::PostOrder(const OrderRequest& order) {
  PostOutcome out;
  net::HttpResponse r;
  try {
    r = Call("POST", trading_, "/v2/orders", OrderBody(order), /*retry_reads=*/false);
  } catch (const net::TransportError& e) {
    out.kind = PostOutcome::Kind::kUnknown;
    out.error.message = e.what();
    return out;
  }
  out.status = r.status;
  if (r.status == 200 || r.status == 201) {
    ParseError e;
    auto o = ParseOrder(r.body, e);
    if (!o) {
      out.kind = PostOutcome::Kind::kUnknown;
      out.error.message = "unparsable order reply: " + e.what;
      return out;
    }
    out.kind = PostOutcome::Kind::kAccepted;
    out.order = std::move(*o);
    return out;
  }
  out.error = ParseApiError(r.body);
  if (r.status >= 500 || r.status == 429) {
    out.kind = PostOutcome::Kind::kUnknown;
  } else if (r.status == 422 &&
             out.error.message.find("client_order_id must be unique") != std::string::npos) {
    out.kind = PostOutcome::Kind::kDuplicate;
  } else {
    out.kind = PostOutcome::Kind::kRejected;
  }
  return out;
}

bool Rest::CancelOrder(std::string_view order_id) {
  const auto r = Call("DELETE", trading_, fmt::format("/v2/orders/{}", order_id), {}, true);
  return r.status == 204 || r.status == 200;
}

MarketClock Rest::GetClock() {
  const auto r = Call("GET", trading_, "/v2/clock", {}, true);
  if (r.status != 200) Throw("GET /v2/clock", r);
  ParseError e;
  auto c = ParseClock(r.body, e);
  if (!c) throw RestError(r.status, {}, "GET /v2/clock: " + e.what);
  return *c;
}

std::vector<CalendarDay> Rest::GetCalendar(Days start, Days end) {
  const auto r = Call(
      "GET", trading_,
      fmt::format("/v2/calendar?start={}&end={}", FormatDate(start), FormatDate(end)), {}, true);
  if (r.status != 200) Throw("GET /v2/calendar", r);
  ParseError e;
  auto c = ParseCalendar(r.body, e);
  if (!c) throw RestError(r.status, {}, "GET /v2/calendar: " + e.what);
  return *c;
}

std::vector<Bar> Rest::GetDailyBars(const std::vector<std::string>& symbols, Days start,
                                    std::optional<Days> end,
                                    const std::function<void(std::size_t)>& progress,
                                    std::string_view adjustment) {
  const std::string joined = UrlEncode(JoinSymbols(symbols));
  std::string base =
      fmt::format("/v2/stocks/bars?symbols={}&timeframe=1Day&adjustment={}&limit=10000&start={}",
                  joined, adjustment, FormatDate(start));
  if (end) base += "&end=" + FormatDate(*end);
  if (endpoints_.feed == "iex" || endpoints_.feed == "sip") base += "&feed=" + endpoints_.feed;
  // Bounded work against any server: at most one bar per symbol and calendar day can exist, so
  // more bars (or more pages than bars) than that, a page without bars that promises more, or a
  // token seen before (a loop of any length) ends the download with an error.
  const Days last = end ? *end : TimestampToDay(clock_.Now()) + std::chrono::days{1};
  const auto days = std::max<std::int64_t>(1, (last - start).count() + 1);
  const std::size_t max_bars = symbols.size() * static_cast<std::size_t>(days);
  std::set<std::string> seen;
  std::vector<Bar> out;
  std::string token;
  for (std::size_t page = 0;; ++page) {
    const std::string target = token.empty() ? base : base + "&page_token=" + UrlEncode(token);
    const auto r = Call("GET", data_, target, {}, true);
    if (r.status != 200) Throw("GET /v2/stocks/bars", r);
    ParseError e;
    auto p = ParseBarsPage(r.body, e);
    if (!p)
      throw RestError(r.status, {},
                      fmt::format("GET /v2/stocks/bars page {}: {}", page + 1, e.what));
    out.insert(out.end(), std::make_move_iterator(p->bars.begin()),
               std::make_move_iterator(p->bars.end()));
    if (progress) progress(out.size());
    if (out.size() > max_bars) {
      throw RestError(r.status, {},
                      fmt::format("GET /v2/stocks/bars: the server sent {} bars, more than the {} "
                                  "that {} symbol(s) over {} days can have; stopped",
                                  out.size(), max_bars, symbols.size(), days));
    }
    if (p->next_page_token.empty()) break;
    if (p->bars.empty()) {
      throw RestError(r.status, {},
                      fmt::format("GET /v2/stocks/bars page {}: no bars but a next page token; "
                                  "stopped",
                                  page + 1));
    }
    if (!seen.insert(p->next_page_token).second) {
      throw RestError(r.status, {},
                      fmt::format("GET /v2/stocks/bars page {}: the server repeated a page token "
                                  "seen before; stopped",
                                  page + 1));
    }
    token = std::move(p->next_page_token);
  }
  return out;
}

std::vector<CorporateActionInfo> Rest::GetCorporateActions(const std::vector<std::string>& symbols,
                                                           Days start, Days end) {
  const std::string joined = UrlEncode(JoinSymbols(symbols));
  const std::string base =
      fmt::format("/v1/corporate-actions?symbols={}&start={}&end={}&limit=1000&sort=asc", joined,
                  FormatDate(start), FormatDate(end));
  // Bounded like the bars: a page without actions that promises more, or a token seen before,
  // ends the download with an error.
  std::set<std::string> seen;
  std::vector<CorporateActionInfo> out;
  std::string token;
  for (std::size_t page = 0;; ++page) {
    const std::string target = token.empty() ? base : base + "&page_token=" + UrlEncode(token);
    const auto r = Call("GET", data_, target, {}, true);
    if (r.status != 200) Throw("GET /v1/corporate-actions", r);
    ParseError e;
    auto p = ParseCorporateActionsPage(r.body, e);
    if (!p) {
      throw RestError(r.status, {},
                      fmt::format("GET /v1/corporate-actions page {}: {}", page + 1, e.what));
    }
    out.insert(out.end(), std::make_move_iterator(p->actions.begin()),
               std::make_move_iterator(p->actions.end()));
    if (p->next_page_token.empty()) break;
    if (p->actions.empty() || !seen.insert(p->next_page_token).second) {
      throw RestError(r.status, {},
                      fmt::format("GET /v1/corporate-actions page {}: {}; stopped", page + 1,
                                  p->actions.empty() ? "no actions but a next page token"
                                                     : "the server repeated a page token"));
    }
    token = std::move(p->next_page_token);
  }
  return out;
}

std::vector<Activity> Rest::GetDividendActivities(Days from, Days to) {
  constexpr std::size_t kPage = 100;
  // `after` and `until` are exclusive: one day either side, then the dates are checked here.
  const std::string base = fmt::format(
      "/v2/account/activities?activity_types=DIV,DIVCGL,DIVCGS,DIVFT,DIVNRA,DIVROC,DIVTW,DIVTXEX"
      "&after={}&until={}&direction=asc&page_size={}",
      FormatDate(from - std::chrono::days{1}), FormatDate(to + std::chrono::days{1}), kPage);
  std::set<std::string> seen;
  std::vector<Activity> out;
  std::string token;
  for (std::size_t page = 0;; ++page) {
    const std::string target = token.empty() ? base : base + "&page_token=" + UrlEncode(token);
    const auto r = Call("GET", trading_, target, {}, true);
    if (r.status != 200) Throw("GET /v2/account/activities", r);
    ParseError e;
    auto p = ParseActivities(r.body, e);
    if (!p) {
      throw RestError(r.status, {},
                      fmt::format("GET /v2/account/activities page {}: {}", page + 1, e.what));
    }
    for (auto& a : *p) {
      if (a.date >= from && a.date <= to && a.status != "canceled") out.push_back(a);
    }
    if (p->size() < kPage) break;
    if (!seen.insert(p->back().id).second) {
      throw RestError(r.status, {},
                      fmt::format("GET /v2/account/activities page {}: the server repeated a "
                                  "page; stopped",
                                  page + 1));
    }
    token = p->back().id;
  }
  return out;
}

}  // namespace ballast::alpaca
