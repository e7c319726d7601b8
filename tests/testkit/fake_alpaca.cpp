// The loopback Alpaca test server: synchronous Beast, one thread per connection.
// GCC 12 under ASan/UBSan reports a false -Wmaybe-uninitialized inside Beast's synchronous request
// parser (boost::optional in basic_parser::content_length); the release build has no such warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "fake_alpaca.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "ballast/adapters/alpaca/messages.hpp"
#include "ballast/live/time_ny.hpp"

namespace ballast::testkit {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

std::string Dec(double v) {
  std::string s = fmt::format("{:.9f}", v);
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

double Num(const json& v) {
  if (v.is_string()) return std::stod(v.get<std::string>());
  return v.get<double>();
}

}  // namespace

struct FakeAlpaca::Impl {
  FakeAlpacaOptions o;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;  // set when the options name a certificate
  std::thread accept_thread;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::atomic<bool> stopping{false};

  // Account state (under mu).
  double cash = 0.0;
  std::map<std::string, double> positions;
  std::map<std::string, double> cost;
  std::vector<OrderView> orders;
  std::vector<std::string> held;  // client order ids waiting for ReleaseFills
  std::vector<std::pair<std::string, CorporateAction>> splits;  // applied to the account
  json activities = json::array();                              // DIV activities paid
  std::map<std::string, double> split_factor;                   // product of splits applied
  std::size_t posts = 0;
  std::size_t cancels = 0;  // DELETE /v2/orders/{id} requests
  std::map<std::string, std::size_t> requests;
  std::vector<std::string> received;
  std::vector<std::string> pushed_bars;  // PushMinuteBar frames, sent on every data stream
  int rest_calls = 0;
  int posts_lost = 0;
  int lookups_hidden = 0;
  int trade_conns = 0, data_conns = 0;
  bool dropped_once = false;
  bool hold_account = false;      // GET /v2/account waits for ReleaseAccount()
  std::size_t accounts_held = 0;  // GET /v2/account requests that waited
  std::uint64_t event_seq = 0;
  // Trade-update frames for each connected trade stream.
  std::vector<std::shared_ptr<std::deque<std::string>>> trade_queues;

  Days today{};
  Timestamp now_ts = 0;  // the clock at construction; it runs on from there
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  [[nodiscard]] Timestamp NowTs() const {
    return now_ts + std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  }

  /// The last close, in the shares of the splits applied since (Apply).
  double LastClose(const std::string& symbol) const {
    const auto f = split_factor.find(symbol);
    const double factor = f == split_factor.end() ? 1.0 : f->second;
    for (const auto& s : o.bars) {
      if (s.symbol == symbol && !s.close.empty()) return s.close.back() / factor;
    }
    return 100.0 / factor;
  }

  /// Applies a corporate action to the account today (under mu).
  void Apply(const FakeAccountAction& a) {
    const std::string day = FormatDate(today);
    if (a.split) {
      positions[a.symbol] *= a.value;
      if (cost.count(a.symbol)) cost[a.symbol] /= a.value;
      split_factor.try_emplace(a.symbol, 1.0).first->second *= a.value;
      if (a.cash_in_lieu) {
        const double whole = std::floor(positions[a.symbol] + 1e-9);
        cash += (positions[a.symbol] - whole) * LastClose(a.symbol);
        positions[a.symbol] = whole;
      }
      splits.emplace_back(a.symbol, CorporateAction{today, ActionKind::kSplit, a.value});
      return;
    }
    const double qty = positions[a.symbol];
    cash += qty * a.value;
    activities.push_back(
        {{"activity_type", "DIV"},
         {"id", fmt::format("{}000000000::div-{}-{}", day, a.symbol, activities.size())},
         {"date", day},
         {"net_amount", Dec(qty * a.value)},
         {"description", ""},
         {"symbol", a.symbol},
         {"qty", Dec(qty)},
         {"per_share_amount", Dec(a.value)},
         {"status", "executed"}});
  }

  void Publish(const std::string& frame) {
    for (auto& q : trade_queues) {
      q->push_back(frame);
      if (o.duplicate_updates) q->push_back(frame);
    }
    cv.notify_all();
  }

  json OrderJson(const OrderView& v) const {
    return json{{"id", v.id},
                {"client_order_id", v.client_order_id},
                {"symbol", v.symbol},
                {"side", v.side},
                {"type", v.type},
                {"limit_price", v.type == "limit" ? json(Dec(v.limit_price)) : json()},
                {"time_in_force", "day"},
                {"status", v.status},
                {"qty", Dec(v.qty)},
                {"notional", nullptr},
                {"filled_qty", Dec(v.filled_qty)},
                {"filled_avg_price", v.filled_qty > 0 ? json(Dec(v.filled_avg_price)) : json()},
                {"created_at", alpaca::FormatRfc3339(NowTs())},
                {"updated_at", alpaca::FormatRfc3339(NowTs())},
                {"asset_class", "us_equity"},
                {"order_class", ""},
                {"extended_hours", false},
                {"some_future_field", {{"ignored", true}}}};
  }

  void Update(const OrderView& v, const std::string& event, double qty, double price) {
    json data{{"event", event},
              {"event_id", fmt::format("01TEST{:020}", ++event_seq)},
              {"timestamp", alpaca::FormatRfc3339(NowTs())},
              {"at", alpaca::FormatRfc3339(NowTs())},
              {"order", OrderJson(v)}};
    if (event == "fill" || event == "partial_fill") {
      data["qty"] = Dec(qty);
      data["price"] = Dec(price);
      data["execution_id"] = fmt::format("exec-{}", event_seq);
      data["position_qty"] = Dec(positions[v.symbol]);
    }
    Publish(json{{"stream", "trade_updates"}, {"data", data}}.dump());
  }

  /// Fills `v` at the symbol's last close (under mu).
  void Fill(OrderView& v) {
    double px = LastClose(v.symbol);
    const double sign = v.side == "buy" ? 1.0 : -1.0;
    auto exec = [&](double q, const std::string& event) {
      if (event == "fill" && o.partial_fills && o.second_fill_premium != 0.0) {
        px *= 1.0 + o.second_fill_premium;  // the second execution at another price
      }
      v.filled_avg_price = (v.filled_avg_price * v.filled_qty + px * q) / (v.filled_qty + q);
      v.filled_qty += q;
      positions[v.symbol] += sign * q;
      cash -= sign * q * px;
      v.status = event == "fill" ? "filled" : "partially_filled";
      Update(v, event, q, px);
    };
    if (o.partial_fills && v.qty > 1e-6) {
      const double first = std::floor(v.qty * 0.4 * 1e6) / 1e6;
      exec(first, "partial_fill");
      exec(v.qty - first, "fill");
    } else {
      exec(v.qty, "fill");
    }
  }

  // ---- REST ----
  http::response<http::string_body> Rest(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set("X-Ratelimit-Limit", "200");
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    std::string query =
        target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    auto param = [&](const std::string& k) -> std::string {
      std::size_t pos = 0;
      while (pos <= query.size()) {
        const auto amp = query.find('&', pos);
        const std::string kv = query.substr(pos, amp - pos);
        const auto eq = kv.find('=');
        if (kv.substr(0, eq) == k && eq != std::string::npos) {
          std::string v = kv.substr(eq + 1), out;
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '%' && i + 2 < v.size()) {
              out.push_back(static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
              i += 2;
            } else {
              out.push_back(v[i]);
            }
          }
          return out;
        }
        if (amp == std::string::npos) break;
        pos = amp + 1;
      }
      return {};
    };
    auto error = [&](http::status st, std::int64_t code, const std::string& msg, json extra = {}) {
      res.result(st);
      json body{{"code", code}, {"message", msg}};
      if (extra.is_object()) body.update(extra);
      res.body() = body.dump();
      return res;
    };
    auto symbols_param = [&] {  // ?symbols=A,B
      std::vector<std::string> symbols;
      const std::string list = param("symbols");
      for (std::size_t pos = 0; pos <= list.size();) {
        const auto c = list.find(',', pos);
        symbols.push_back(list.substr(pos, c - pos));
        if (c == std::string::npos) break;
        pos = c + 1;
      }
      return symbols;
    };
    std::unique_lock lock(mu);
    ++requests[path];
    received.push_back(std::string(req.method_string()) + " " + target);
    if (path == "/v2/account" && hold_account) {
      // Answered once the test lets it go (mu is released while it waits).
      ++accounts_held;
      cv.notify_all();
      cv.wait(lock, [&] { return !hold_account; });
    }
    const std::string key(req["APCA-API-KEY-ID"]);
    const std::string secret(req["APCA-API-SECRET-KEY"]);
    if (o.bad_keys || key != o.key_id || secret != o.secret) {
      return error(http::status::unauthorized, 40110000, "request is not authorized");
    }
    if (rest_calls++ < o.rate_limit_first) {
      res.set("X-Ratelimit-Remaining", "0");
      // On the server's clock, the one /v2/clock reports (as Alpaca's headers are).
      const auto reset = NowTs() / 1'000'000'000LL + 1;
      res.set("X-Ratelimit-Reset", std::to_string(reset));
      return error(http::status::too_many_requests, 42910000, "rate limit exceeded");
    }
    res.set("X-Ratelimit-Remaining", "150");
    if (path == "/v2/account" && o.echo_headers_on_error) {
      std::string echoed;
      for (const auto& field : req)
        echoed += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
      return error(http::status::bad_request, 40010000, "bad request; you sent:\n" + echoed);
    }
    if ((path == "/v2/clock" && o.garbage_clock) ||
        (path == "/v2/positions" && o.garbage_positions)) {
      res.body() = "<html>upstream error</html>";
      return res;
    }
    if (path == "/v2/stocks/bars" && !o.endless_bars.empty()) {
      const std::string token = param("page_token");
      const bool loop = o.endless_bars == "loop";
      json bars = json::object();
      if (loop) {
        bars["SPY"].push_back({{"t", "2026-07-14T04:00:00Z"},
                               {"o", 1},
                               {"h", 1},
                               {"l", 1},
                               {"c", 1},
                               {"v", 1},
                               {"n", 1},
                               {"vw", 1}});
      }
      const std::string next =
          loop ? (token == "A" ? "B" : "A") : fmt::format("empty{}", requests[path]);
      res.body() = json{{"bars", bars}, {"next_page_token", next}}.dump();
      return res;
    }
    if (path.rfind("/v2/assets/", 0) == 0) {
      const std::string sym = path.substr(11);
      res.body() = json{{"id", "asset-" + sym},
                        {"class", "us_equity"},
                        {"symbol", sym},
                        {"status", "active"},
                        {"tradable", !o.untradable.count(sym)},
                        {"fractionable", !o.whole_only.count(sym)}}
                       .dump();
      return res;
    }
    if (path == "/v2/account") {
      double equity = cash;
      for (const auto& [s, q] : positions)
        equity += q * LastClose(s);
      res.body() = json{
          {"id", "e6fe16f3-64a4-4921-8928-cadf02f92f98"},
          {"account_number", "PA0TEST"},
          {"status", "ACTIVE"},
          {"currency", "USD"},
          {"cash", Dec(cash)},
          {"equity", Dec(equity)},
          {"portfolio_value", Dec(equity)},
          {"buying_power", Dec(std::max(cash * (1.0 - o.buying_power_haircut), 0.0))},
          {"daytrade_count", "0"},
          {"trading_blocked", false},
          {"account_blocked", false},
          {"pattern_day_trader",
           false}}.dump();
    } else if (path == "/v2/positions") {
      json a = json::array();
      for (const auto& [s, q] : positions) {
        if (std::abs(q) < 1e-12) continue;
        // Numbers as strings and as JSON numbers both occur in the wild: mix them.
        a.push_back({{"symbol", s},
                     {"qty", Dec(q)},
                     {"avg_entry_price", cost.count(s) ? cost[s] : LastClose(s)},
                     {"market_value", Dec(q * LastClose(s))},
                     {"current_price", Dec(LastClose(s))},
                     {"side", q > 0 ? "long" : "short"},
                     {"asset_class", "us_equity"}});
      }
      res.body() = a.dump();
    } else if (path == "/v2/clock") {
      res.body() =
          json{{"timestamp", alpaca::FormatRfc3339(NowTs())},
               {"is_open", o.market_open},
               {"next_open",
                alpaca::FormatRfc3339(live::NyLocalToUtc(today + std::chrono::days(1), 570))},
               {"next_close", alpaca::FormatRfc3339(live::NyLocalToUtc(today, 960))}}
              .dump();
    } else if (path == "/v2/calendar") {
      res.body() =
          json::array({{{"date", FormatDate(today)}, {"open", "09:30"}, {"close", "16:00"}}})
              .dump();
    } else if (path == "/v2/orders:by_client_order_id") {
      const std::string id = param("client_order_id");
      for (const auto& v : orders) {
        if (v.client_order_id == id && lookups_hidden++ >= o.lookup_lag) {
          res.body() = OrderJson(v).dump();
          return res;
        }
      }
      return error(http::status::not_found, 40410000, "order not found");
    } else if (path == "/v2/orders" && req.method() == http::verb::get) {
      json a = json::array();
      const std::string status = param("status");
      for (const auto& v : orders) {
        const bool open = v.status != "filled" && v.status != "canceled" && v.status != "rejected";
        if (status == "all" || (status == "open") == open) a.push_back(OrderJson(v));
      }
      res.body() = a.dump();
    } else if (path == "/v2/account/activities") {
      // Dividends only (what the session asks for); `after` / `until` exclusive, by date.
      const auto after = ParseIsoDate(param("after"));
      const auto until = ParseIsoDate(param("until"));
      const std::string types = "," + param("activity_types") + ",";
      json page = json::array();
      const std::string token = param("page_token");
      bool past_token = token.empty();
      const std::size_t size = param("page_size").empty() ? 100 : std::stoul(param("page_size"));
      for (const auto& a : activities) {
        if (!past_token) {
          past_token = a["id"] == token;
          continue;
        }
        const auto d = ParseIsoDate(a["date"].get<std::string>());
        if ((after && *d <= *after) || (until && *d >= *until)) continue;
        if (types.find("," + a["activity_type"].get<std::string>() + ",") == std::string::npos)
          continue;
        if (page.size() < size) page.push_back(a);
      }
      res.body() = page.dump();
    } else if (path == "/v2/orders" && req.method() == http::verb::post) {
      if (posts == 0) {
        for (const auto& a : o.actions_on_first_order)
          Apply(a);
      }
      ++posts;
      json body;
      try {
        body = json::parse(req.body());
      } catch (...) {
        return error(http::status::bad_request, 40010000, "request body format is invalid");
      }
      if (!body.contains("symbol") || !body.contains("qty") || !body.contains("side") ||
          (body.value("type", "") != "market" && body.value("type", "") != "limit") ||
          !body.contains("client_order_id") ||
          body["client_order_id"].get<std::string>().size() > 48) {
        return error(http::status::unprocessable_entity, 40010000, "invalid order request");
      }
      const bool limit = body["type"] == "limit";
      double limit_price = 0.0;
      if (limit) {
        // As Alpaca: a limit price is a decimal string on the tick ($0.01 from $1, else $0.0001).
        if (!body.contains("limit_price") || !body["limit_price"].is_string() ||
            body.value("time_in_force", "") != "day") {
          return error(http::status::unprocessable_entity, 40010000, "invalid order request");
        }
        const std::string text = body["limit_price"];
        limit_price = Num(body["limit_price"]);
        const auto dot = text.find('.');
        const std::size_t decimals = dot == std::string::npos ? 0 : text.size() - dot - 1;
        if (!(limit_price > 0.0) || decimals > (limit_price >= 1.0 ? 2u : 4u)) {
          return error(http::status::unprocessable_entity, 42210000,
                       fmt::format("invalid limit_price {}. sub-penny increment does not fulfill "
                                   "minimum pricing criteria",
                                   text));
        }
      }
      const std::string coid = body["client_order_id"];
      for (const auto& v : orders) {
        if (v.client_order_id == coid) {
          return error(http::status::unprocessable_entity, 40010001,
                       "client_order_id must be unique");
        }
      }
      const std::string symbol = body["symbol"];
      const double qty = Num(body["qty"]);
      if (!(qty > 0.0)) {
        return error(http::status::unprocessable_entity, 40010000, "qty must be > 0");
      }
      if (o.strict_buying_power) {
        // As Alpaca: a fractional order is at least $1, and buys need cash now; unfilled sells
        // bring none, and open buys hold theirs.
        const double notional = qty * LastClose(symbol);
        if (std::floor(qty) != qty && notional < 1.0) {
          return error(http::status::forbidden, 40310000, "cost basis must be >= 1");
        }
        double reserved = 0.0;
        for (const auto& w : orders) {
          if (w.side == "buy" && (w.status == "accepted" || w.status == "partially_filled"))
            reserved += (w.qty - w.filled_qty) * LastClose(w.symbol);
        }
        const double power = cash * (1.0 - o.buying_power_haircut) - reserved;
        if (body["side"] == "buy" && notional > power) {
          return error(http::status::forbidden, 40310000, "insufficient buying power",
                       json{{"buying_power", Dec(power)}, {"cost_basis", Dec(notional)}});
        }
      }
      if (o.reject_symbols.count(symbol)) {
        return error(
            http::status::forbidden, 40310000, "insufficient buying power",
            json{{"buying_power", Dec(cash)}, {"cost_basis", Dec(qty * LastClose(symbol))}});
      }
      OrderView v;
      v.id = fmt::format("61e69015-8549-4bfd-b9c3-{:012}", orders.size() + 1);
      v.client_order_id = coid;
      v.symbol = symbol;
      v.side = body["side"];
      v.qty = qty;
      v.status = "accepted";
      if (limit) {
        v.type = "limit";
        v.limit_price = limit_price;
      }
      orders.push_back(v);
      res.body() = OrderJson(v).dump();
      if (posts_lost < o.lose_post_replies) {
        ++posts_lost;
        res.set("X-Fake-Drop", "1");  // Serve closes the connection instead of replying
      }
      Update(orders.back(), "new", 0, 0);
      const double last = LastClose(symbol);
      const bool rests = limit && (v.side == "buy" ? last > limit_price : last < limit_price);
      if (o.hold_fills) {
        held.push_back(coid);
      } else if (!rests) {  // a limit away from the last close rests until canceled
        Fill(orders.back());
      }
      cv.notify_all();
    } else if (path.rfind("/v2/orders/", 0) == 0 && req.method() == http::verb::delete_) {
      const std::string id = path.substr(11);
      ++cancels;
      for (auto& v : orders) {
        if (v.id == id && v.status != "filled" && v.status != "canceled") {
          if (o.ignore_cancels) {  // accepted (204), but the order stays open: no confirmation
            res.result(http::status::no_content);
            return res;
          }
          v.status = "canceled";
          Update(v, "canceled", 0, 0);
          held.erase(std::remove(held.begin(), held.end(), v.client_order_id), held.end());
          res.result(http::status::no_content);
          return res;
        }
      }
      return error(http::status::not_found, 40410000, "order not found");
    } else if (path == "/v1/corporate-actions") {
      // Alpaca's shape: lists by type, each action with its dates; paged by offset over the
      // served actions (in the order of the served series, then ex-date).
      const auto symbols = symbols_param();
      const std::set<std::string> wanted(symbols.begin(), symbols.end());
      const auto start = ParseIsoDate(param("start"));
      const auto end = ParseIsoDate(param("end"));
      if (!start || !end) {
        return error(http::status::bad_request, 40010000, "expected start and end YYYY-MM-DD");
      }
      std::vector<std::pair<std::string, CorporateAction>> served = splits;
      for (const auto& s : o.raw_bars) {
        for (const auto& a : s.actions)
          served.emplace_back(s.symbol, a);
      }
      std::vector<std::pair<std::string, json>> all;  // (list, action)
      for (const auto& [symbol, a] : served) {
        if (wanted.count(symbol) == 0) continue;
        {
          // As Alpaca: filtered by process date, which for a dividend is its payable date
          // (two weeks after the ex-date here); a split's is its ex-date.
          const Days process =
              a.ex_date + std::chrono::days{a.kind == ActionKind::kDividend ? 14 : 0};
          if (process < *start || process > *end) continue;
          const std::string day = FormatDate(a.ex_date);
          json j{{"id", fmt::format("ca-{}-{}", symbol, day)},
                 {"symbol", symbol},
                 {"cusip", "000000000"},
                 {"process_date", FormatDate(process)},
                 {"ex_date", day},
                 {"record_date", day},
                 {"payable_date", FormatDate(process)}};
          if (a.kind == ActionKind::kDividend) {
            j["rate"] = a.value;
            j["special"] = false;
            j["foreign"] = false;
            all.emplace_back("cash_dividends", std::move(j));
          } else if (a.value > 1.0) {
            j["new_rate"] = a.value;
            j["old_rate"] = 1;
            all.emplace_back("forward_splits", std::move(j));
          } else {
            j["new_rate"] = 1;
            j["old_rate"] = 1.0 / a.value;
            all.emplace_back("reverse_splits", std::move(j));
          }
        }
      }
      const std::string token = param("page_token");
      const std::size_t from = token.empty() ? 0 : std::stoul(token.substr(4));
      const std::size_t to = std::min(all.size(), from + o.actions_page_size);
      json lists = json::object();
      if (from == 0 && !o.extra_corporate_actions.empty()) {
        lists = json::parse(o.extra_corporate_actions);
      }
      for (std::size_t k = from; k < to; ++k)
        lists[all[k].first].push_back(all[k].second);
      res.body() =
          json{{"corporate_actions", lists},
               {"next_page_token", to < all.size() ? json(fmt::format("page{}", to)) : json()}}
              .dump();
    } else if (path == "/v2/stocks/bars") {
      const bool raw = param("adjustment") == "raw" && !o.raw_bars.empty();
      if ((param("adjustment") != "all" && !raw) || param("timeframe") != "1Day") {
        return error(http::status::bad_request, 40010000,
                     "expected timeframe 1Day, adjustment all (or raw when raw bars are set)");
      }
      const auto& served = raw ? o.raw_bars : o.bars;
      const auto symbols = symbols_param();
      const auto start = ParseIsoDate(param("start"));
      const std::string end_text = param("end");
      const auto end = end_text.empty() ? std::optional<Days>() : ParseIsoDate(end_text);
      // Flatten (symbol-major, like Alpaca), then page by offset.
      struct Row {
        const data::SymbolSeries* s;
        std::size_t i;
      };
      std::vector<Row> rows;
      for (const auto& sym : symbols) {
        for (const auto& s : served) {
          if (s.symbol != sym) continue;
          for (std::size_t i = 0; i < s.Rows(); ++i) {
            const Days d = TimestampToDay(s.time[i]);
            if ((start && d < *start) || (end && d > *end)) continue;
            rows.push_back({&s, i});
          }
        }
      }
      const std::string token = param("page_token");
      const std::size_t from = token.empty() ? 0 : std::stoul(token.substr(4));
      const std::size_t to = std::min(rows.size(), from + o.bars_page_size);
      json bars = json::object();
      for (std::size_t k = from; k < to; ++k) {
        const auto& [s, i] = rows[k];
        bars[s->symbol].push_back(
            {{"t", alpaca::FormatRfc3339(live::NyLocalToUtc(TimestampToDay(s->time[i]), 0))},
             {"o", s->open[i]},
             {"h", s->high[i]},
             {"l", s->low[i]},
             {"c", s->close[i]},
             {"v", s->volume[i]},
             {"n", 1000},
             {"vw", s->close[i]}});
      }
      res.body() =
          json{{"bars", bars},
               {"next_page_token", to < rows.size() ? json(fmt::format("page{}", to)) : json()}}
              .dump();
    } else {
      return error(http::status::not_found, 40410000, "route not found: " + path);
    }
    return res;
  }

  // ---- websockets ----
  template <class Ws>
  void TradeStream(Ws& ws) {
    beast::flat_buffer buf;
    ws.read(buf);
    const std::string auth = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    json a = json::parse(auth, nullptr, false);
    {
      std::lock_guard lock(mu);
      received.push_back("trade_stream " + auth);
      ++trade_conns;
      if (o.refuse_trade_stream < 0 || trade_conns <= o.refuse_trade_stream) return;  // closed
    }
    const bool new_form = a.value("action", "") == "auth";
    const std::string key = new_form ? a.value("key", "") : a["data"].value("key_id", "");
    const std::string secret = new_form ? a.value("secret", "") : a["data"].value("secret_key", "");
    const bool ok = !o.bad_keys && key == o.key_id && secret == o.secret;
    ws.binary(true);  // the paper stream sends binary frames even for JSON
    if (o.greet_trade_stream) {
      ws.write(asio::buffer(std::string(R"([{"T":"success","msg":"connected"}])")));
    }
    if (o.new_auth_reply && ok) {
      ws.write(asio::buffer(std::string(R"([{"T":"success","msg":"authenticated"}])")));
    } else {
      ws.write(asio::buffer(json{
          {"stream", "authorization"},
          {"data", {{"status", ok ? "authorized" : "unauthorized"}, {"action", "authenticate"}}}}
                                .dump()));
    }
    if (!ok) return;
    ws.read(buf);
    buf.consume(buf.size());
    ws.write(asio::buffer(
        json{{"stream", "listening"}, {"data", {{"streams", {"trade_updates"}}}}}.dump()));
    auto queue = std::make_shared<std::deque<std::string>>();
    {
      std::lock_guard lock(mu);
      trade_queues.push_back(queue);
    }
    if (o.malformed_frames) {
      ws.write(asio::buffer(std::string(R"({"stream":"trade_updates","data":{"event":"fill"})")));
      ws.write(asio::buffer(std::string("not json at all")));
    }
    int sent = 0;
    for (;;) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !queue->empty() || stopping; });
      if (stopping) break;
      if (queue->empty()) continue;
      const std::string frame = queue->front();
      queue->pop_front();
      const bool drop =
          o.drop_trade_stream_after > 0 && !dropped_once && sent >= o.drop_trade_stream_after;
      if (drop) dropped_once = true;
      lock.unlock();
      if (drop) {
        // Disconnect mid-stream: the update is lost (not replayed), like Alpaca.
        break;
      }
      beast::error_code ec;
      ws.write(asio::buffer(frame), ec);
      if (ec) break;
      ++sent;
    }
    std::lock_guard lock(mu);
    trade_queues.erase(std::remove(trade_queues.begin(), trade_queues.end(), queue),
                       trade_queues.end());
  }

  template <class Ws>
  void DataStream(Ws& ws) {
    int conn = 0;
    {
      std::lock_guard lock(mu);
      conn = ++data_conns;
    }
    ws.text(true);
    ws.write(asio::buffer(std::string(R"([{"T":"success","msg":"connected"}])")));
    beast::flat_buffer buf;
    ws.read(buf);
    const std::string auth = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    {
      std::lock_guard lock(mu);
      received.push_back("data_stream " + auth);
    }
    json a = json::parse(auth, nullptr, false);
    if (o.bad_keys || a.value("key", "") != o.key_id || a.value("secret", "") != o.secret) {
      ws.write(asio::buffer(std::string(R"([{"T":"error","code":402,"msg":"auth failed"}])")));
      return;
    }
    if (conn <= o.data_406_first) {
      ws.write(asio::buffer(
          std::string(R"([{"T":"error","code":406,"msg":"connection limit exceeded"}])")));
      return;
    }
    ws.write(asio::buffer(std::string(R"([{"T":"success","msg":"authenticated"}])")));
    ws.read(buf);
    json sub = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
    buf.consume(buf.size());
    json ack{{"T", "subscription"},
             {"trades", json::array()},
             {"quotes", json::array()},
             {"bars", sub.value("bars", json::array())},
             {"updatedBars", sub.value("updatedBars", json::array())},
             {"dailyBars", sub.value("dailyBars", json::array())},
             {"corrections", json::array()},
             {"cancelErrors", json::array()}};
    ws.write(asio::buffer(json::array({ack}).dump()));
    // One minute bar per symbol at today's 15:40 NY (2% above the last close), then an updated
    // bar replacing it (1% above): the engine must keep the update.
    json batch = json::array();
    json updates = json::array();
    const std::string t = alpaca::FormatRfc3339(live::NyLocalToUtc(today, 15 * 60 + 40));
    for (const auto& sym : sub.value("bars", json::array())) {
      const double c = LastClose(sym.get<std::string>());
      batch.push_back({{"T", "b"},
                       {"S", sym},
                       {"o", c},
                       {"h", c * 1.02},
                       {"l", c},
                       {"c", c * 1.02},
                       {"v", 100},
                       {"t", t},
                       {"n", 5},
                       {"vw", c}});
      updates.push_back({{"T", "u"},
                         {"S", sym},
                         {"o", c},
                         {"h", c * 1.02},
                         {"l", c},
                         {"c", c * 1.01},
                         {"v", 120},
                         {"t", t},
                         {"n", 6},
                         {"vw", c}});
    }
    beast::error_code ec;
    ws.write(asio::buffer(batch.dump()), ec);
    if (o.malformed_frames) {
      ws.write(asio::buffer(std::string(R"([{"T":"b","S":"SPY"}])")), ec);
      ws.binary(true);
      ws.write(asio::buffer(std::string("\x01\x02garbage")), ec);
      ws.text(true);
    }
    ws.write(asio::buffer(updates.dump()), ec);
    std::size_t pushed = 0;  // every pushed bar, from the first (a minute bar replaces itself)
    while (!stopping && !ec) {
      std::vector<std::string> frames;
      {
        std::lock_guard lock(mu);
        frames.assign(pushed_bars.begin() + static_cast<std::ptrdiff_t>(pushed), pushed_bars.end());
        pushed = pushed_bars.size();
      }
      for (const auto& f : frames)
        ws.write(asio::buffer(f), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  /// HTTP requests and websocket upgrades on one connection (plain or TLS).
  template <class Stream>
  void ServeOn(Stream& stream) {
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      http::read(stream, buf, req);
      if (websocket::is_upgrade(req)) {
        websocket::stream<Stream&> ws(stream);
        ws.accept(req);
        const std::string target(req.target());
        if (target == "/stream") {
          TradeStream(ws);
        } else {
          DataStream(ws);
        }
        beast::error_code ec;
        ws.close(websocket::close_code::normal, ec);
        return;
      }
      auto res = Rest(req);
      if (res.count("X-Fake-Drop")) return;  // the reply is lost with the connection
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(stream, res);
      if (!req.keep_alive()) return;
    }
  }

  void Serve(std::shared_ptr<tcp::socket> sock) {
    try {
      if (tls) {
        asio::ssl::stream<tcp::socket&> secure(*sock, *tls);
        secure.handshake(asio::ssl::stream_base::server);
        ServeOn(secure);
      } else {
        ServeOn(*sock);
      }
    } catch (const std::exception&) {
      // Client went away, refused our certificate, or the server is stopping.
    }
    // Hang up (a lost reply must look like one to the client); under mu, as the destructor
    // closes sockets under it too.
    std::lock_guard lock(mu);
    beast::error_code ec;
    sock->shutdown(tcp::socket::shutdown_both, ec);
  }

  void AcceptLoop() {
    for (;;) {
      auto sock = std::make_shared<tcp::socket>(io);
      beast::error_code ec;
      acceptor.accept(*sock, ec);
      if (ec || stopping) return;
      std::lock_guard lock(mu);
      sockets.push_back(sock);
      threads.emplace_back([this, sock] { Serve(sock); });
    }
  }
};

FakeAlpaca::FakeAlpaca(FakeAlpacaOptions options) : impl_(std::make_shared<Impl>()) {
  auto& m = *impl_;
  m.o = std::move(options);
  m.cash = m.o.cash;
  Days last{};
  for (const auto& s : m.o.bars) {
    if (!s.time.empty()) last = std::max(last, TimestampToDay(s.time.back()));
  }
  m.today = last;
  m.now_ts = live::NyLocalToUtc(last, 15 * 60 + 45) +
             static_cast<Timestamp>(m.o.clock_offset_seconds * 1e9);
  for (const auto& [s, q] : m.o.positions) {
    m.positions[s] = q;
    m.cost[s] = m.LastClose(s);
  }
  if (!m.o.tls_cert_file.empty()) {
    m.tls.emplace(asio::ssl::context::tls_server);
    m.tls->use_certificate_chain_file(m.o.tls_cert_file);
    m.tls->use_private_key_file(m.o.tls_key_file, asio::ssl::context::pem);
  }
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  m.acceptor.open(ep.protocol());
  m.acceptor.bind(ep);
  m.acceptor.listen();
  m.accept_thread = std::thread([&m] { m.AcceptLoop(); });
}

FakeAlpaca::~FakeAlpaca() {
  auto& m = *impl_;
  m.stopping = true;
  m.cv.notify_all();
  beast::error_code ec;
  {
    // Wake the blocking accept with one last connection, then close.
    tcp::socket s(m.io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), Port()), ec);
  }
  if (m.accept_thread.joinable()) m.accept_thread.join();
  m.acceptor.close(ec);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m.mu);
    for (auto& s : m.sockets) {
      s->shutdown(tcp::socket::shutdown_both, ec);
      s->close(ec);
    }
    threads = std::move(m.threads);
  }
  for (auto& t : threads)
    t.join();
}

unsigned short FakeAlpaca::Port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::string FakeAlpaca::HttpUrl() const {
  return fmt::format("{}://{}:{}", impl_->tls ? "https" : "http", impl_->o.host, Port());
}

void FakeAlpaca::ExportEnvironment() const {
  const std::string http = HttpUrl();
  const std::string ws =
      fmt::format("{}://{}:{}", impl_->tls ? "wss" : "ws", impl_->o.host, Port());
  ::setenv("APCA_API_KEY_ID", impl_->o.key_id.c_str(), 1);
  ::setenv("APCA_API_SECRET_KEY", impl_->o.secret.c_str(), 1);
  ::setenv("APCA_API_BASE_URL", http.c_str(), 1);
  ::setenv("APCA_API_DATA_URL", http.c_str(), 1);
  ::setenv("APCA_API_STREAM_URL", (ws + "/stream").c_str(), 1);
  ::setenv("APCA_API_DATA_STREAM_URL", (ws + "/v2/test").c_str(), 1);
}

void FakeAlpaca::HoldAccount() {
  std::lock_guard lock(impl_->mu);
  impl_->hold_account = true;
}

bool FakeAlpaca::WaitForHeldAccount(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->accounts_held > 0; });
}

void FakeAlpaca::ReleaseAccount() {
  std::lock_guard lock(impl_->mu);
  impl_->hold_account = false;
  impl_->cv.notify_all();
}

void FakeAlpaca::PushMinuteBar(const std::string& symbol, double close, int ny_minute) {
  std::lock_guard lock(impl_->mu);
  const std::string t = alpaca::FormatRfc3339(live::NyLocalToUtc(impl_->today, ny_minute));
  const json bar{{"T", "b"},   {"S", symbol}, {"o", close}, {"h", close}, {"l", close},
                 {"c", close}, {"v", 50},     {"t", t},     {"n", 3},     {"vw", close}};
  impl_->pushed_bars.push_back(json::array({bar}).dump());
}

void FakeAlpaca::ReleaseFills() {
  std::lock_guard lock(impl_->mu);
  for (const auto& coid : impl_->held) {
    for (auto& v : impl_->orders) {
      if (v.client_order_id == coid && v.status != "canceled") impl_->Fill(v);
    }
  }
  impl_->held.clear();
}

bool FakeAlpaca::WaitForOrders(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->orders.size() >= n; });
}

std::vector<FakeAlpaca::OrderView> FakeAlpaca::Orders() const {
  std::lock_guard lock(impl_->mu);
  return impl_->orders;
}

std::map<std::string, double> FakeAlpaca::Positions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->positions;
}

double FakeAlpaca::Cash() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cash;
}

std::size_t FakeAlpaca::Posts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posts;
}

std::size_t FakeAlpaca::Cancels() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cancels;
}

std::size_t FakeAlpaca::Requests(const std::string& prefix) const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& [path, count] : impl_->requests) {
    if (path.rfind(prefix, 0) == 0) n += count;
  }
  return n;
}

std::vector<std::string> FakeAlpaca::Received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

int FakeAlpaca::TradeStreamConnections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->trade_conns;
}

int FakeAlpaca::DataStreamConnections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->data_conns;
}

}  // namespace ballast::testkit
