#include "fake_tws.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "ballast/engine/time.hpp"

namespace ballast::testkit {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Msg = std::vector<std::string>;

namespace {

std::string Framed(const Msg& fields) {
  std::string body;
  for (const auto& f : fields) {
    body += f;
    body.push_back('\0');
  }
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string out;
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  return out + body;
}

std::string Num(double v) {
  return fmt::format("{}", v);
}

constexpr const char* kNoValue = "1.7976931348623157E308";  // the server's unset double

struct FakeOrder {
  long long id = 0, client_id = 0, con_id = 0, perm_id = 0;
  std::string symbol, action, type, tif, account, ref;
  double qty = 0.0, limit = 0.0, filled = 0.0, avg = 0.0;
  std::string status = "PreSubmitted";
};

struct FakeExecution {
  std::string exec_id;
  long long order_id = 0, client_id = 0, con_id = 0, perm_id = 0;
  std::string symbol, side, account, ref;
  double shares = 0.0, price = 0.0, cum = 0.0, avg = 0.0, commission = 0.0;
};

// openOrder at `version`, in the order of IB's decoder's field walk: a plain stock order (no
// legs, algo, conditions, scale, hedge or delta-neutral parts) and its state.
Msg OpenOrder(const FakeOrder& x, int version) {
  Msg f{"5",
        std::to_string(x.id),
        std::to_string(x.con_id),
        x.symbol,
        "STK",
        "",
        "0",
        "",
        "",
        "SMART",
        "USD",
        x.symbol,
        x.symbol,
        x.action,
        Num(x.qty),
        x.type,
        x.type == "LMT" ? Num(x.limit) : "0",
        "0",
        x.tif,
        "",  // ocaGroup
        x.account,
        "O",
        "0",
        x.ref,
        std::to_string(x.client_id),
        std::to_string(x.perm_id),
        "0",  // outsideRth
        "0",  // hidden
        "0",  // discretionaryAmt
        "",   // goodAfterTime
        "",   // (deprecated sharesAllocation)
        "",
        "",
        ""};                            // faGroup, faMethod, faPercentage
  if (version < 177) f.emplace_back();  // faProfile
  const Msg rest{
      "", "", "", "", "",  // modelCode, goodTillDate, rule80A, percentOffset, settlingFirm
      "0", "", "-1",       // shortSaleSlot, designatedLocation, exemptCode
      "0",                 // auctionStrategy
      "", "", "", "", "",  // startingPrice, stockRefPrice, delta, stockRangeLower / Upper
      "",                  // displaySize
      "0", "0", "0",       // blockOrder, sweepToFill, allOrNone
      "", "3",             // minQty, ocaType
      "0", "0", "",        // eTradeOnly, firmQuoteOnly, nbboPriceCap
      "0", "0",            // parentId, triggerMethod
      "", "0",             // volatility, volatilityType
      "", "",              // deltaNeutralOrderType (none), deltaNeutralAuxPrice
      "0", "0", "", "",    // continuousUpdate, referencePriceType, trailStopPrice, trailingPercent
      "", "",              // basisPoints, basisPointsType
      "",                  // comboLegsDescrip
      "0", "0", "0",       // combo legs, order combo legs, smart combo routing params
      "", "", "",          // scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
      "",                  // hedgeType
      "0", "", "", "0",    // optOutSmartRouting, clearingAccount, clearingIntent, notHeld
      "0",                 // deltaNeutralContract: none
      "",                  // algoStrategy
      "0", "0",            // solicited, whatIf
      x.status,            // the order state
      "", "", "", "", "", "", "", "", "",  // margins: before, change, after
      kNoValue, kNoValue, kNoValue, "",    // commission, min, max, currency
      "",                                  // warningText
      "0", "0",                            // randomizeSize, randomizePrice
      "0",                                 // conditions
      "", "", "", "", "", "", "", "0",     // adjustedOrderType ... adjustableTrailingUnit
      "", "", "",                          // softDollarTier name, value, displayName
      "",                                  // cashQty
      "0", "0", "0", "0",                  // dontUseAutoPriceForHedge, isOmsContainer,
                                           // discretionaryUpToLimitPrice, usePriceMgmtAlgo
      "", "", "0",                         // duration, postToAts, autoCancelParent
      "", "", "", "", "",                  // minTradeQty, minCompeteSize, competeAgainstBestOffset,
                                           // midOffsetAtWhole, midOffsetAtHalf
  };
  f.insert(f.end(), rest.begin(), rest.end());
  return f;
}

Msg OrderStatus(const FakeOrder& x, double last_price) {
  return {"3",
          std::to_string(x.id),
          x.status,
          Num(x.filled),
          Num(x.qty - x.filled),
          Num(x.avg),
          std::to_string(x.perm_id),
          "0",
          Num(last_price),
          std::to_string(x.client_id),
          "",
          "0"};
}

Msg ExecDetails(const FakeExecution& e, long long req_id, int version) {
  Msg f{"11",
        std::to_string(req_id),
        std::to_string(e.order_id),
        std::to_string(e.con_id),
        e.symbol,
        "STK",
        "",
        "0.0",
        "",
        "",
        "SMART",
        "USD",
        e.symbol,
        e.symbol,
        e.exec_id,
        "20260714 15:45:01 US/Eastern",
        e.account,
        "ARCA",
        e.side,
        Num(e.shares),
        Num(e.price),
        std::to_string(e.perm_id),
        std::to_string(e.client_id),
        "0",  // liquidation
        Num(e.cum),
        Num(e.avg),
        e.ref,
        "",
        "",
        "",                                 // evRule, evMultiplier, modelCode
        "1"};                               // lastLiquidity
  if (version >= 178) f.emplace_back("0");  // pendingPriceRevision
  return f;
}

Msg Commission(const FakeExecution& e) {
  return {"59", "1", e.exec_id, Num(e.commission), "USD", kNoValue, kNoValue, ""};
}

}  // namespace

struct FakeTws::Impl {
  FakeTwsOptions o;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  mutable std::mutex mu;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::vector<Msg> received;
  std::vector<std::string> handshakes;
  int connections = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> pacing_left{0};
  // The account (under mu): orders by id, executions in order.
  double cash = 0.0;
  std::map<std::string, double> positions;
  std::map<long long, FakeOrder> orders;
  std::vector<FakeExecution> executions;
  long long next_perm = 1351823369;
  int placed = 0;  // placeOrders taken

  const FakeTwsContract* Find(const std::string& symbol) const {
    for (const auto& c : o.contracts) {
      if (c.symbol == symbol) return &c;
    }
    return nullptr;
  }
  double Price(const std::string& symbol) const {
    const auto it = o.prices.find(symbol);
    return it == o.prices.end() ? 100.0 : it->second;
  }

  void Accept() {
    for (;;) {
      auto s = std::make_shared<tcp::socket>(io);
      boost::system::error_code ec;
      acceptor.accept(*s, ec);
      if (ec || stopping) return;
      std::lock_guard lock(mu);
      ++connections;
      sockets.push_back(s);
      threads.emplace_back([this, s] { Serve(*s); });
    }
  }

  static bool ReadExact(tcp::socket& s, std::string& out, std::size_t n) {
    out.assign(n, '\0');
    boost::system::error_code ec;
    asio::read(s, asio::buffer(out), ec);
    return !ec;
  }
  static bool ReadFrame(tcp::socket& s, Msg& fields) {
    std::string len;
    if (!ReadExact(s, len, 4)) return false;
    const auto b = [&](int i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(len[i]));
    };
    const std::uint32_t n = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    if (n > 0xFFFFFF) return false;
    std::string body;
    if (!ReadExact(s, body, n)) return false;
    fields.clear();
    std::string cur;
    for (char c : body) {
      if (c == '\0') {
        fields.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) fields.push_back(cur);
    return true;
  }
  static void Write(tcp::socket& s, const Msg& fields) {
    // One writer at a time: a notice (Notice) may be sent while a connection's thread writes.
    static std::mutex write_mu;
    std::lock_guard lock(write_mu);
    boost::system::error_code ec;
    asio::write(s, asio::buffer(Framed(fields)), ec);
  }

  void Serve(tcp::socket& s) {
    std::string api;
    if (!ReadExact(s, api, 4) || api != std::string("API\0", 4)) return;
    std::string len, range;
    if (!ReadExact(s, len, 4)) return;
    std::uint32_t n = 0;
    for (char c : len)
      n = (n << 8) | static_cast<unsigned char>(c);
    if (n > 256 || !ReadExact(s, range, n)) return;
    {
      std::lock_guard lock(mu);
      handshakes.push_back(range);
    }
    // "v176..178" or "v176..178 +PACEAPI": agree to min(max, ours); refuse when below min.
    int lo = 0, hi = 0;
    if (std::sscanf(range.c_str(), "v%d..%d", &lo, &hi) != 2) return;
    // An older Gateway answers with its own version: the client must refuse it and say why.
    const int version = std::min(hi, o.server_version);
    if (o.notice_before_version)
      Write(s, {"4", "2", "-1", "2104", "Market data farm connection is OK:usfarm", ""});
    Write(s, {std::to_string(version), o.connection_time});
    Conn conn;
    conn.version = version;
    Msg m;
    while (ReadFrame(s, m)) {
      {
        std::lock_guard lock(mu);
        received.push_back(m);
      }
      if (m.empty()) continue;
      if (!Handle(s, m, conn)) break;
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_both, ignored);
  }

  struct Conn {
    int version = 0;
    long long client_id = 0;
  };

  // placeOrder [3, orderId, contract x12, secIdType, secId, action, totalQuantity, orderType,
  // lmtPrice, auxPrice, tif, ocaGroup, account, openClose, origin, orderRef, ...]: accepted
  // (PreSubmitted, then Submitted), filled at the symbol's price in one execution unless
  // hold_fills, or a limit not reached.
  bool PlaceOrder(tcp::socket& s, const Msg& m, const Conn& conn) {
    auto at = [&](std::size_t i) { return i < m.size() ? m[i] : std::string(); };
    std::lock_guard lock(mu);
    FakeOrder x;
    x.id = std::atoll(at(1).c_str());
    for (const auto& [oid, other] : orders) {
      if (other.client_id == conn.client_id && oid >= x.id) {
        Write(s, {"4", "2", at(1), "103", "Duplicate order id", ""});
        return true;
      }
    }
    x.client_id = conn.client_id;
    x.symbol = at(3);
    const auto* c = Find(x.symbol);
    x.con_id = c != nullptr ? c->con_id : std::atoll(at(2).c_str());
    x.action = at(16);
    x.qty = std::atof(at(17).c_str());
    x.type = at(18);
    x.limit = std::atof(at(19).c_str());
    x.tif = at(21);
    x.account = at(23).empty() ? o.accounts.substr(0, o.accounts.find(',')) : at(23);
    x.ref = at(26);
    x.perm_id = next_perm++;
    if (c == nullptr || !(x.qty > 0.0) || (x.action != "BUY" && x.action != "SELL") ||
        o.reject_symbols.count(x.symbol) != 0) {
      x.status = "Inactive";
      Write(s,
            {"4", "2", at(1), "201",
             o.reject_symbols.count(x.symbol) != 0 ? "Order rejected - reason:No Trading Permission"
                                                   : "Order rejected - reason:Invalid order",
             ""});
      Write(s, OrderStatus(x, 0.0));
      orders[x.id] = x;
      return true;
    }
    Write(s, OpenOrder(x, conn.version));
    Write(s, OrderStatus(x, 0.0));
    x.status = "Submitted";
    Write(s, OpenOrder(x, conn.version));
    Write(s, OrderStatus(x, 0.0));
    const double px = Price(x.symbol);
    const bool marketable = x.type != "LMT" || (x.action == "BUY" ? x.limit >= px : x.limit <= px);
    ++placed;
    // The Gateway takes and fills the order, and the connection drops before any of it is sent.
    const bool drop = o.drop_after_place == placed;
    // The first order's replies come while the Gateway has lost IB (1100, then 1102).
    const bool blip = o.link_blip && placed == 1;
    if (blip)
      Write(s, {"4", "2", "-1", "1100", "Connectivity between IB and TWS has been lost.", ""});
    if (!o.hold_fills && marketable) Fill(x, px, drop ? nullptr : &s, conn.version);
    if (blip) {
      Write(s, {"4", "2", "-1", "1102",
                "Connectivity between IB and Trader Workstation has been restored - data "
                "maintained.",
                ""});
    }
    orders[x.id] = x;
    return !drop;
  }

  // Fills `x` at `px` (under mu): the account, the executions, and (when `s`) the messages: one
  // execution, or two (half, then the rest) with the first execDetails sent twice.
  void Fill(FakeOrder& x, double px, tcp::socket* s, int version) {
    std::vector<double> parts{x.qty - x.filled};
    if (o.partial_fills && parts[0] > 1.0) {
      const double half = std::floor(parts[0] / 2.0);
      parts = {half, parts[0] - half};
    }
    for (std::size_t k = 0; k < parts.size(); ++k) {
      FakeExecution e;
      // Unique across Gateways of different days, as IB's are.
      e.exec_id =
          fmt::format("{:08x}.{:08x}.01.01", o.epoch_seconds & 0xffffffffLL, executions.size() + 1);
      e.order_id = x.id;
      e.client_id = x.client_id;
      e.con_id = x.con_id;
      e.perm_id = x.perm_id;
      e.symbol = x.symbol;
      e.side = x.action == "BUY" ? "BOT" : "SLD";
      e.account = x.account;
      e.ref = x.ref;
      e.shares = parts[k];
      e.price = px;
      e.cum = x.filled + parts[k];
      e.avg = px;
      e.commission = std::max(1.0, 0.005 * parts[k]);
      const double sign = x.action == "BUY" ? 1.0 : -1.0;
      positions[x.symbol] += sign * parts[k];
      cash -= sign * parts[k] * px + e.commission;
      x.filled = e.cum;
      x.avg = px;
      x.status = x.filled >= x.qty ? "Filled" : "Submitted";
      executions.push_back(e);
      if (s == nullptr) continue;
      Write(*s, ExecDetails(e, -1, version));
      if (o.partial_fills && k == 0) Write(*s, ExecDetails(e, -1, version));
      Write(*s, OrderStatus(x, px));
      if (x.status == "Filled") Write(*s, OpenOrder(x, version));
      Write(*s, Commission(e));
    }
  }

  // One request. False closes the connection.
  bool Handle(tcp::socket& s, const Msg& m, Conn& conn) {
    const std::string& id = m[0];
    auto at = [&](std::size_t i) { return i < m.size() ? m[i] : std::string(); };
    if (id == "3") return PlaceOrder(s, m, conn);
    if (id == "4") {  // cancelOrder [4, 1, orderId, manualOrderCancelTime]
      std::lock_guard lock(mu);
      const auto it = orders.find(std::atoll(at(2).c_str()));
      if (it == orders.end() || it->second.client_id != conn.client_id) {
        Write(s, {"4", "2", at(2), "10147",
                  "OrderId " + at(2) + " that needs to be cancelled is not found.", ""});
        return true;
      }
      FakeOrder& x = it->second;
      if (x.status == "Filled" || x.status == "Cancelled") {
        Write(s, {"4", "2", at(2), "10148",
                  "OrderId " + at(2) +
                      " that needs to be cancelled cannot be cancelled, state: " + x.status + ".",
                  ""});
        return true;
      }
      x.status = "Cancelled";
      Write(s, OrderStatus(x, 0.0));
      Write(s, {"4", "2", at(2), "202", "Order Canceled - reason:", ""});
      return true;
    }
    if (id == "5" || id == "16") {  // reqOpenOrders (this client's) / reqAllOpenOrders
      std::lock_guard lock(mu);
      for (const auto& [oid, x] : orders) {
        if (x.status == "Filled" || x.status == "Cancelled") continue;
        if (id == "5" && x.client_id != conn.client_id) continue;
        Write(s, OpenOrder(x, conn.version));
        Write(s, OrderStatus(x, 0.0));
      }
      Write(s, {"53", "1"});
      return true;
    }
    if (id == "7") {  // reqExecutions [7, 3, reqId, clientId, acctCode, time, symbol, ...]
      std::lock_guard lock(mu);
      const long long req = std::atoll(at(2).c_str());
      const std::string client = at(3);
      std::vector<const FakeExecution*> sent;
      for (const auto& e : executions) {
        if (!client.empty() && client != "0" && std::to_string(e.client_id) != client) continue;
        if (!at(6).empty() && e.symbol != at(6)) continue;
        Write(s, ExecDetails(e, req, conn.version));
        sent.push_back(&e);
      }
      Write(s, {"55", "1", at(2)});
      for (const auto* e : sent)
        Write(s, Commission(*e));
      return true;
    }
    if (id == "71") {  // startApi [71, 2, clientId, optCapab]
      conn.client_id = std::atoll(at(2).c_str());
      if (o.client_id_in_use) {
        Write(s, {"4", "2", "-1", "326",
                  "Unable to connect as the client id is already in use. Retry with a unique "
                  "client id.",
                  ""});
        return false;
      }
      // The order and texts of a real Gateway's greeting (NautilusTrader's test_client.py).
      Write(s, {"15", "1", o.accounts});
      Write(s, {"9", "1", std::to_string(o.next_valid_id)});
      Write(s, {"4", "2", "-1", "2104", "Market data farm connection is OK:usfarm.nj", ""});
      Write(s, {"4", "2", "-1", "2106", "HMDS data farm connection is OK:ushmds", ""});
      Write(s, {"4", "2", "-1", "2158", "Sec-def data farm connection is OK:secdefil", ""});
      if (o.unsolicited_unknown) Write(s, {"107", "1", "a message from a newer Gateway"});
      return true;
    }
    if (id == "49") {
      Write(s, {"49", "1", std::to_string(o.epoch_seconds)});
      return true;
    }
    if (id == "8") {
      Write(s, {"9", "1", std::to_string(o.next_valid_id)});
      return true;
    }
    const std::string account = o.accounts.substr(0, o.accounts.find(','));
    if (id == "62") {  // reqAccountSummary [62, 1, reqId, group, tags]
      std::lock_guard lock(mu);
      double value = cash;
      for (const auto& [sym, qty] : positions)
        value += qty * Price(sym);
      const std::map<std::string, double> tags{{"NetLiquidation", value},
                                               {"TotalCashValue", cash},
                                               {"SettledCash", cash},
                                               {"AvailableFunds", cash},
                                               {"BuyingPower", cash * 4.0}};
      std::stringstream list(at(4));
      std::string tag;
      while (std::getline(list, tag, ',')) {
        const auto it = tags.find(tag);
        if (it != tags.end()) Write(s, {"63", "1", at(2), account, tag, Num(it->second), "USD"});
      }
      Write(s, {"64", "1", at(2)});
      return true;
    }
    if (id == "61") {  // reqPositions
      std::lock_guard lock(mu);
      for (const auto& [sym, qty] : positions) {
        const auto* c = Find(sym);
        Write(s, {"61", "3", account, std::to_string(c ? c->con_id : 0), sym, "STK", "", "0.0", "",
                  "", "", "USD", sym, sym, Num(qty), Num(Price(sym))});
      }
      if (!o.positions_never_end) Write(s, {"62", "1"});
      return true;
    }
    if (id == "9") {  // reqContractDetails [9, 8, reqId, conId, symbol, secType, ...]
      // Every contract of the symbol (on the primary exchange asked for, when one is).
      std::vector<const FakeTwsContract*> found;
      for (const auto& k : o.contracts) {
        if (k.symbol == at(4) && (at(11).empty() || at(11) == k.primary_exchange))
          found.push_back(&k);
      }
      if (found.empty() || at(5) != "STK") {
        Write(s, {"4", "2", at(2), "200", "No security definition has been found for the request",
                  ""});
        return true;
      }
      for (const auto* c : found) {
        Write(s, {"10",
                  at(2),
                  c->symbol,
                  "STK",
                  "",
                  "0",
                  "",
                  "SMART",
                  "USD",
                  c->symbol,
                  "NMS",
                  c->symbol,
                  std::to_string(c->con_id),
                  "0.01",
                  "",
                  "ACTIVETIM,AD,ALERT,ALGO,ALLOC,AVGCOST,BASKET,LMT,MKT,MOC,REL,STP",
                  "SMART,AMEX,NYSE,ARCA,BATS,IEX",
                  "1",
                  "0",
                  c->long_name,
                  c->primary_exchange,
                  "",
                  "",
                  "",
                  "",
                  "US/Eastern",
                  "20260714:0400-20260714:2000",
                  "20260714:0930-20260714:1600",
                  "",
                  "",
                  "1",
                  "ISIN",
                  "US0000000000",
                  "1",
                  "",
                  "",
                  "26,26,26",
                  "",
                  "ETF",
                  "0.0001",
                  "0.0001",
                  "100"});
      }
      Write(s, {"52", "1", at(2)});
      return true;
    }
    if (id == "20") {  // reqHistoricalData [20, reqId, contract x12, includeExpired, end, ...]
      const std::string req = at(1), symbol = at(3), duration = at(17), what = at(19);
      if (pacing_left > 0) {
        --pacing_left;
        Write(s, {"4", "2", req, "162",
                  "Historical Market Data Service error message:Historical data request pacing "
                  "violation",
                  ""});
        return true;
      }
      const data::SymbolSeries* series = nullptr;
      for (const auto& b : o.bars)
        if (b.symbol == symbol) series = &b;
      if (series == nullptr || (what != "ADJUSTED_LAST" && what != "TRADES") || at(15) != "" ||
          at(16) != "1 day") {
        Write(s, {"4", "2", req, "162",
                  "Historical Market Data Service error message:HMDS query returned no data: " +
                      symbol + "@SMART " + what,
                  ""});
        return true;
      }
      // "N D" or "N Y" back from today (a year as 365 days).
      long long n = 0;
      char unit = 'D';
      std::sscanf(duration.c_str(), "%lld %c", &n, &unit);
      const Days today{
          std::chrono::floor<std::chrono::days>(
              std::chrono::sys_seconds{std::chrono::seconds{o.epoch_seconds - 5 * 3600}})
              .time_since_epoch()};
      const Days from = today - std::chrono::days{unit == 'Y' ? n * 365 : n} + std::chrono::days{1};
      Msg bars;
      std::size_t count = 0;
      for (std::size_t i = 0; i < series->Rows(); ++i) {
        const Days d = TimestampToDay(series->time[i]);
        if (d < from || d > today) continue;
        const std::string date = FormatDate(d);
        bars.insert(bars.end(),
                    {date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2),
                     Num(series->open[i]), Num(series->high[i]), Num(series->low[i]),
                     Num(series->close[i]), Num(series->volume[i]), Num(series->close[i]), "1"});
        ++count;
      }
      const std::string start = FormatDate(from), end = FormatDate(today);
      Msg reply{"17", req, start + "  00:00:00", end + "  00:00:00", std::to_string(count)};
      reply.insert(reply.end(), bars.begin(), bars.end());
      Write(s, reply);
      return true;
    }
    if (id == "63" || id == "64") return true;  // cancel account summary / positions
    Write(s, {"4", "2", "-1", "505", "Fatal Error: Unknown message id.", ""});
    return true;
  }
};

FakeTws::FakeTws(FakeTwsOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
  impl_->pacing_left = impl_->o.pacing_violations;
  impl_->cash = impl_->o.cash;
  impl_->positions = impl_->o.positions;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([this] { impl_->Accept(); });
}

FakeTws::~FakeTws() {
  Stop();
}

unsigned short FakeTws::Port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::vector<std::vector<std::string>> FakeTws::Received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

std::vector<std::string> FakeTws::Handshakes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->handshakes;
}

void FakeTws::Notice(int code, const std::string& text) {
  std::lock_guard lock(impl_->mu);
  for (const auto& s : impl_->sockets) {
    if (s->is_open()) Impl::Write(*s, {"4", "2", "-1", std::to_string(code), text, ""});
  }
}

void FakeTws::DropConnections() {
  std::lock_guard lock(impl_->mu);
  for (const auto& s : impl_->sockets) {
    boost::system::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
  }
}

void FakeTws::ReleaseFills() {
  std::lock_guard lock(impl_->mu);
  for (auto& [id, x] : impl_->orders) {
    if (x.status == "Submitted" || x.status == "PreSubmitted")
      impl_->Fill(x, impl_->Price(x.symbol), nullptr, 0);
  }
}

double FakeTws::Cash() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cash;
}

std::map<std::string, double> FakeTws::Positions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->positions;
}

int FakeTws::Connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

void FakeTws::Stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  boost::system::error_code ignored;
  // Wake the blocking accept with a connection of our own, then close.
  {
    tcp::socket poke(m.io);
    poke.connect(m.acceptor.local_endpoint(), ignored);
  }
  if (m.accept_thread.joinable()) m.accept_thread.join();
  m.acceptor.close(ignored);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m.mu);
    for (auto& s : m.sockets)
      s->shutdown(tcp::socket::shutdown_both, ignored);
    threads = std::move(m.threads);
  }
  for (auto& t : threads)
    t.join();
}

}  // namespace ballast::testkit
