#include "ballast/adapters/ib/requests.hpp"

namespace ballast::ib {
namespace {

// The 12-field contract block most requests carry: conId, symbol, secType,
// lastTradeDateOrContractMonth, strike, right, multiplier, exchange, primaryExchange, currency,
// localSymbol, tradingClass.
void PutContract(Fields& f, const Contract& c) {
  f.push_back(EncodeInt(c.con_id));
  f.push_back(c.symbol);
  f.push_back(c.sec_type);
  f.emplace_back();                // lastTradeDateOrContractMonth
  f.push_back(EncodeDouble(0.0));  // strike
  f.emplace_back();                // right
  f.emplace_back();                // multiplier
  f.push_back(c.exchange);
  f.push_back(c.primary_exchange);
  f.push_back(c.currency);
  f.emplace_back();  // localSymbol
  f.emplace_back();  // tradingClass
}

}  // namespace

Fields StartApi(int client_id, const std::string& optional_capabilities) {
  return {"71", "2", EncodeInt(client_id), optional_capabilities};
}
Fields ReqIds() {
  return {"8", "1", "1"};
}
Fields ReqCurrentTime() {
  return {"49", "1"};
}
Fields ReqMarketDataType(int type) {
  return {"59", "1", EncodeInt(type)};
}
Fields ReqAccountSummary(std::int64_t req_id, const std::string& tags) {
  return {"62", "1", EncodeInt(req_id), "All", tags};
}
Fields CancelAccountSummary(std::int64_t req_id) {
  return {"63", "1", EncodeInt(req_id)};
}
Fields ReqPositions() {
  return {"61", "1"};
}
Fields CancelPositions() {
  return {"64", "1"};
}

Fields ReqContractDetails(std::int64_t req_id, const Contract& c, int server_version) {
  Fields f{"9", "8", EncodeInt(req_id)};
  PutContract(f, c);
  f.push_back(EncodeBool(false));               // includeExpired
  f.emplace_back();                             // secIdType
  f.emplace_back();                             // secId
  if (server_version >= 176) f.emplace_back();  // issuerId
  return f;
}

Fields PlaceOrder(const Contract& c, const OrderTicket& o, int server_version) {
  // No version field at these servers. Every field after the order's own is its default for a
  // plain stock order (no combo legs, algo, conditions, scale, hedge or delta-neutral parts,
  // whose presence would add fields).
  const std::string unset;  // an unset int or double
  Fields f{"3", EncodeInt(o.order_id)};
  PutContract(f, c);
  f.emplace_back();  // secIdType
  f.emplace_back();  // secId
  f.push_back(o.action);
  f.push_back(EncodeDecimal(o.quantity));
  f.push_back(o.order_type);
  f.push_back(EncodeDouble(o.limit_price));
  f.push_back(unset);  // auxPrice
  f.push_back(o.tif);
  f.emplace_back();  // ocaGroup
  f.push_back(o.account);
  f.emplace_back("O");  // openClose
  f.emplace_back("0");  // origin: customer
  f.push_back(o.order_ref);
  f.push_back(EncodeBool(true));   // transmit
  f.emplace_back("0");             // parentId
  f.push_back(EncodeBool(false));  // blockOrder
  f.push_back(EncodeBool(false));  // sweepToFill
  f.emplace_back("0");             // displaySize
  f.emplace_back("0");             // triggerMethod
  f.push_back(EncodeBool(o.outside_rth));
  f.push_back(EncodeBool(false));  // hidden
  f.emplace_back();                // (deprecated sharesAllocation)
  f.push_back(EncodeDouble(0.0));  // discretionaryAmt
  for (int i = 0; i < 5; ++i)      // goodAfterTime, goodTillDate, faGroup, faMethod, faPercentage
    f.emplace_back();
  if (server_version < 177) f.emplace_back();  // faProfile
  f.emplace_back();                            // modelCode
  f.emplace_back("0");                         // shortSaleSlot
  f.emplace_back();                            // designatedLocation
  f.emplace_back("-1");                        // exemptCode
  f.emplace_back("0");                         // ocaType
  f.emplace_back();                            // rule80A
  f.emplace_back();                            // settlingFirm
  f.push_back(EncodeBool(false));              // allOrNone
  f.push_back(unset);                          // minQty
  f.push_back(unset);                          // percentOffset
  f.push_back(EncodeBool(false));              // eTradeOnly
  f.push_back(EncodeBool(false));              // firmQuoteOnly
  f.push_back(unset);                          // nbboPriceCap
  f.emplace_back("0");                         // auctionStrategy
  for (int i = 0; i < 5; ++i)  // startingPrice, stockRefPrice, delta, stockRangeLower/Upper
    f.push_back(unset);
  f.push_back(EncodeBool(false));  // overridePercentageConstraints
  f.push_back(unset);              // volatility
  f.push_back(unset);              // volatilityType
  f.emplace_back();                // deltaNeutralOrderType
  f.push_back(unset);              // deltaNeutralAuxPrice
  f.push_back(EncodeBool(false));  // continuousUpdate
  // referencePriceType, trailStopPrice, trailingPercent, scaleInitLevelSize, scaleSubsLevelSize,
  // scalePriceIncrement, scaleTable, activeStartTime, activeStopTime, hedgeType
  for (int i = 0; i < 10; ++i)
    f.emplace_back();
  f.push_back(EncodeBool(false));  // optOutSmartRouting
  f.emplace_back();                // clearingAccount
  f.emplace_back();                // clearingIntent
  f.push_back(EncodeBool(false));  // notHeld
  f.push_back(EncodeBool(false));  // deltaNeutralContract: none
  f.emplace_back();                // algoStrategy
  f.emplace_back();                // algoId
  f.push_back(EncodeBool(false));  // whatIf
  f.emplace_back();                // orderMiscOptions
  f.push_back(EncodeBool(false));  // solicited
  f.push_back(EncodeBool(false));  // randomizeSize
  f.push_back(EncodeBool(false));  // randomizePrice
  f.emplace_back("0");             // conditions: none
  // adjustedOrderType, triggerPrice, lmtPriceOffset, adjustedStopPrice, adjustedStopLimitPrice,
  // adjustedTrailingAmount
  for (int i = 0; i < 6; ++i)
    f.emplace_back();
  f.emplace_back("0");  // adjustableTrailingUnit
  // extOperator, softDollarTier name and value, cashQty, the four MiFID II fields
  for (int i = 0; i < 8; ++i)
    f.emplace_back();
  f.push_back(EncodeBool(false));  // dontUseAutoPriceForHedge
  f.push_back(EncodeBool(false));  // isOmsContainer
  f.push_back(EncodeBool(false));  // discretionaryUpToLimitPrice
  f.push_back(EncodeBool(false));  // usePriceMgmtAlgo (unset: the default)
  f.emplace_back();                // duration (>= 158)
  f.emplace_back();                // postToAts (>= 160)
  f.push_back(EncodeBool(false));  // autoCancelParent (>= 162)
  f.emplace_back();                // advancedErrorOverride (>= 166)
  f.emplace_back();                // manualOrderTime (>= 169)
  return f;
}

Fields CancelOrder(std::int64_t order_id, int server_version) {
  Fields f{"4", "1", EncodeInt(order_id)};
  if (server_version >= 169) f.emplace_back();  // manualOrderCancelTime
  return f;
}

Fields ReqOpenOrders() {
  return {"5", "1"};
}
Fields ReqAllOpenOrders() {
  return {"16", "1"};
}
Fields ReqCompletedOrders(bool api_only) {
  return {"99", EncodeBool(api_only)};
}

Fields ReqExecutions(std::int64_t req_id, const ExecutionFilter& x) {
  return {"7",    "3",      EncodeInt(req_id), EncodeInt(x.client_id), x.account,
          x.time, x.symbol, std::string(),     std::string(),          std::string()};
}

Fields ReqHistoricalData(std::int64_t req_id, const Contract& c, const std::string& end,
                         const std::string& bar_size, const std::string& duration, bool rth_only,
                         const std::string& what) {
  Fields f{"20", EncodeInt(req_id)};  // no version field
  PutContract(f, c);
  f.push_back(EncodeBool(false));  // includeExpired
  f.push_back(end);
  f.push_back(bar_size);
  f.push_back(duration);
  f.push_back(EncodeBool(rth_only));
  f.push_back(what);
  f.emplace_back("1");             // formatDate: yyyymmdd for daily bars
  f.push_back(EncodeBool(false));  // keepUpToDate
  f.emplace_back();                // chartOptions
  return f;
}

Fields ReqMktDataSnapshot(std::int64_t req_id, const Contract& c) {
  Fields f{"1", "11", EncodeInt(req_id)};
  PutContract(f, c);
  f.push_back(EncodeBool(false));  // deltaNeutralContract: none
  f.emplace_back();                // genericTickList
  f.push_back(EncodeBool(true));   // snapshot
  f.push_back(EncodeBool(false));  // regulatorySnapshot
  f.emplace_back();                // mktDataOptions
  return f;
}

}  // namespace ballast::ib
