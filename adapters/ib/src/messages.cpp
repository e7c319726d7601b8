#include "ballast/adapters/ib/messages.hpp"

#include <charconv>

namespace ballast::ib {
namespace {

// Reads past the message id (field 0).
FieldReader After(const Fields& f, std::string_view name) {
  FieldReader r(f, name);
  r.Skip();
  return r;
}

double OrZero(const std::optional<double>& v) {
  return v.value_or(0.0);
}

}  // namespace

std::optional<int> MessageId(const Fields& f) {
  if (f.empty()) return std::nullopt;
  int id = 0;
  const auto& s = f[0];
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return id;
}

ServerHello ParseServerHello(const Fields& f) {
  FieldReader r(f, "server version");
  ServerHello h;
  h.server_version = static_cast<int>(r.Int());
  if (!r.AtEnd()) h.connection_time = r.String();
  return h;
}

ErrorClass Classify(int code) noexcept {
  switch (code) {
    case 1100:
      return ErrorClass::kLinkLost;
    case 1101:
    case 1102:
      return ErrorClass::kLinkRestored;
    case 2103:
    case 2105:
    case 2107:
    case 2108:
    case 2157:
      return ErrorClass::kDataDegraded;
    case 326:
    case 502:
    case 504:
      return ErrorClass::kFatal;
    case 100:
    case 162:
      return ErrorClass::kPacing;
    case 105:
    case 110:
    case 165:
    case 321:
    case 329:
    case 399:
    case 404:
    case 434:
    case 492:
    case 10167:
      return ErrorClass::kWarning;
    default:
      break;
  }
  if (code >= 2100 && code <= 2199) return ErrorClass::kInfo;
  return ErrorClass::kRequest;
}

std::int64_t ReplyReqId(int id, const Fields& f) {
  std::size_t at = 0;
  switch (id) {
    case in::kError:
    case in::kAccountSummary:
    case in::kAccountSummaryEnd:
    case in::kContractDetailsEnd:
    case in::kExecDetailsEnd:
    case in::kTickPrice:
    case in::kTickSize:
    case in::kTickSnapshotEnd:
      at = 2;  // after the version field
      break;
    case in::kContractDetails:
    case in::kExecDetails:
    case in::kHistoricalData:
      at = 1;
      break;
    default:
      return -1;
  }
  if (f.size() <= at) return -1;
  std::int64_t v = -1;
  const auto& s = f[at];
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : -1;
}

ErrorMessage ParseError(const Fields& f) {
  // [4, version 2, reqId, code, message, advancedOrderRejectJson (>= 166)]
  FieldReader r = After(f, "error");
  r.Skip();  // version
  ErrorMessage e;
  e.req_id = r.OptInt().value_or(-1);
  e.code = static_cast<int>(r.Int());
  e.text = r.String();
  if (!r.AtEnd()) e.advanced_reject_json = r.String();
  return e;
}

NextValidId ParseNextValidId(const Fields& f) {
  FieldReader r = After(f, "nextValidId");
  r.Skip();
  return {r.Int()};
}

ManagedAccounts ParseManagedAccounts(const Fields& f) {
  FieldReader r = After(f, "managedAccounts");
  r.Skip();
  ManagedAccounts m;
  const std::string list = r.String();
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    if (end > start) m.accounts.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return m;
}

CurrentTime ParseCurrentTime(const Fields& f) {
  FieldReader r = After(f, "currentTime");
  r.Skip();
  return {r.Int()};
}

OrderStatus ParseOrderStatus(const Fields& f) {
  // No version field at >= 136 (MARKET_CAP_PRICE).
  FieldReader r = After(f, "orderStatus");
  OrderStatus s;
  s.order_id = r.Int();
  s.status = r.String();
  s.filled = OrZero(r.OptDouble());
  s.remaining = OrZero(r.OptDouble());
  s.avg_fill_price = OrZero(r.OptDouble());
  s.perm_id = r.OptInt().value_or(0);
  s.parent_id = r.OptInt().value_or(0);
  s.last_fill_price = OrZero(r.OptDouble());
  s.client_id = r.OptInt().value_or(0);
  if (!r.AtEnd()) s.why_held = r.String();
  return s;
}

OpenOrder ParseOpenOrder(const Fields& f) {
  // No version field at >= 136 (ORDER_CONTAINER). The order's ids come first; its state is
  // about a hundred fields on, past sections whose length varies, and orderStatus repeats it.
  FieldReader r = After(f, "openOrder");
  OpenOrder o;
  o.order_id = r.OptInt().value_or(0);
  o.con_id = r.OptInt().value_or(0);
  o.symbol = r.String();
  o.sec_type = r.String();
  r.Skip(4);  // lastTradeDateOrContractMonth, strike, right, multiplier
  r.Skip(4);  // exchange, currency, localSymbol, tradingClass
  o.action = r.String();
  o.quantity = r.Double();
  o.order_type = r.String();
  o.limit_price = r.OptDouble();
  r.Skip();  // auxPrice
  o.tif = r.String();
  r.Skip();  // ocaGroup
  o.account = r.String();
  r.Skip(2);  // openClose, origin
  o.order_ref = r.String();
  o.client_id = r.OptInt().value_or(0);
  o.perm_id = r.OptInt().value_or(0);
  return o;
}

Execution ParseExecDetails(const Fields& f, int server_version) {
  // No version field at >= 136 (LAST_LIQUIDITY).
  FieldReader r = After(f, "execDetails");
  Execution x;
  x.req_id = r.OptInt().value_or(-1);
  x.order_id = r.OptInt().value_or(0);
  x.con_id = r.OptInt().value_or(0);
  x.symbol = r.String();
  x.sec_type = r.String();
  r.Skip(4);  // lastTradeDateOrContractMonth, strike, right, multiplier
  r.Skip();   // the contract's exchange
  r.Skip(3);  // currency, localSymbol, tradingClass
  x.exec_id = r.String();
  x.time = r.String();
  x.account = r.String();
  x.exchange = r.String();
  x.side = r.String();
  x.shares = r.Double();
  x.price = r.Double();
  x.perm_id = r.OptInt().value_or(0);
  x.client_id = r.OptInt().value_or(0);
  r.Skip();  // liquidation
  x.cum_qty = OrZero(r.OptDouble());
  x.avg_price = OrZero(r.OptDouble());
  x.order_ref = r.String();
  r.Skip(4);                            // evRule, evMultiplier, modelCode, lastLiquidity
  if (server_version >= 178) r.Skip();  // pendingPriceRevision
  r.Require();
  return x;
}

CommissionReport ParseCommissionReport(const Fields& f) {
  FieldReader r = After(f, "commissionReport");
  r.Skip();  // version
  CommissionReport c;
  c.exec_id = r.String();
  c.commission = r.OptDouble();
  c.currency = r.String();
  c.realized_pnl = r.OptDouble();
  return c;
}

PositionMessage ParsePosition(const Fields& f) {
  FieldReader r = After(f, "position");
  r.Skip();  // version 3
  PositionMessage p;
  p.account = r.String();
  p.con_id = r.OptInt().value_or(0);
  p.symbol = r.String();
  p.sec_type = r.String();
  r.Skip(5);  // lastTradeDate, strike, right, multiplier, exchange
  p.currency = r.String();
  r.Skip(2);  // localSymbol, tradingClass
  p.position = OrZero(r.OptDouble());
  p.avg_cost = OrZero(r.OptDouble());
  return p;
}

AccountValue ParseAccountSummary(const Fields& f) {
  FieldReader r = After(f, "accountSummary");
  r.Skip();
  AccountValue v;
  v.req_id = r.Int();
  v.account = r.String();
  v.tag = r.String();
  v.value = r.String();
  v.currency = r.String();
  return v;
}

ContractDetails ParseContractDetails(const Fields& f) {
  // No version field at >= 164 (SIZE_RULES).
  FieldReader r = After(f, "contractDetails");
  ContractDetails d;
  d.req_id = r.Int();
  d.symbol = r.String();
  d.sec_type = r.String();
  r.Skip(3);  // lastTimes, strike, right
  d.exchange = r.String();
  d.currency = r.String();
  r.Skip(3);  // localSymbol, marketName, tradingClass
  d.con_id = r.Int();
  d.min_tick = OrZero(r.OptDouble());
  r.Skip(5);  // multiplier, orderTypes, validExchanges, priceMagnifier, underConId
  d.long_name = r.String();
  d.primary_exchange = r.String();
  r.Skip(4);  // contractMonth, industry, category, subcategory
  d.time_zone = r.String();
  r.Skip(4);  // tradingHours, liquidHours, evRule, evMultiplier
  const std::int64_t sec_ids = r.OptInt().value_or(0);
  if (sec_ids < 0 || sec_ids > 64)
    throw WireError{"contractDetails message: a secIdList of " + std::to_string(sec_ids) +
                    " entries"};
  r.Skip(static_cast<std::size_t>(sec_ids) * 2);
  r.Skip(5);  // aggGroup, underSymbol, underSecType, marketRuleIds, realExpirationDate
  d.stock_type = r.String();
  d.min_size = OrZero(r.OptDouble());
  d.size_increment = OrZero(r.OptDouble());
  return d;
}

HistoricalData ParseHistoricalData(const Fields& f) {
  FieldReader r = After(f, "historicalData");
  HistoricalData h;
  h.req_id = r.Int();
  r.Skip(2);  // startDate, endDate
  const std::int64_t n = r.Int();
  if (n < 0 || static_cast<std::size_t>(n) * 8 > f.size())
    throw WireError{"historicalData message: " + std::to_string(n) + " bars in " +
                    std::to_string(f.size()) + " fields"};
  h.bars.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    HistoricalBar b;
    b.date = r.String();
    b.open = r.Double();
    b.high = r.Double();
    b.low = r.Double();
    b.close = r.Double();
    b.volume = OrZero(r.OptDouble());
    r.Skip(2);  // WAP, barCount
    h.bars.push_back(std::move(b));
  }
  return h;
}

}  // namespace ballast::ib
