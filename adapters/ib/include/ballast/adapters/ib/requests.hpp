#pragma once
/// Client → server messages of the TWS API, as fields (wire.hpp frames them), at the server
/// version the connection agreed (176-178). The layouts are checked byte for byte against golden
/// frames of ib_async's encoder (tests/data/ib/golden_requests.txt).

#include <cstdint>
#include <string>
#include <vector>

#include "ballast/adapters/ib/wire.hpp"

namespace ballast::ib {

/// A US stock routed SMART: what ballast trades. `con_id` 0 until contract details resolve it.
struct Contract {
  std::int64_t con_id = 0;
  std::string symbol;
  std::string sec_type = "STK";
  std::string exchange = "SMART";
  std::string primary_exchange;
  std::string currency = "USD";
};

struct OrderTicket {
  std::int64_t order_id = 0;
  std::string action;  ///< "BUY" or "SELL"
  double quantity = 0.0;
  std::string order_type = "MKT";  ///< "MKT" or "LMT"
  double limit_price = kUnsetDouble;
  std::string tif = "DAY";
  std::string account;
  std::string order_ref;  ///< ballast's client order id
  bool outside_rth = false;
};

struct ExecutionFilter {
  std::int64_t client_id = 0;
  std::string account;
  std::string time;  ///< "yyyymmdd hh:mm:ss" (the server's zone) or "yyyymmdd-hh:mm:ss" UTC
  std::string symbol;
};

[[nodiscard]] Fields StartApi(int client_id, const std::string& optional_capabilities = "");
[[nodiscard]] Fields ReqIds();
[[nodiscard]] Fields ReqCurrentTime();
[[nodiscard]] Fields ReqMarketDataType(int type);
[[nodiscard]] Fields ReqAccountSummary(std::int64_t req_id, const std::string& tags);
[[nodiscard]] Fields CancelAccountSummary(std::int64_t req_id);
[[nodiscard]] Fields ReqPositions();
[[nodiscard]] Fields CancelPositions();
[[nodiscard]] Fields ReqContractDetails(std::int64_t req_id, const Contract& c, int server_version);
[[nodiscard]] Fields PlaceOrder(const Contract& c, const OrderTicket& o, int server_version);
[[nodiscard]] Fields CancelOrder(std::int64_t order_id, int server_version);
[[nodiscard]] Fields ReqOpenOrders();
[[nodiscard]] Fields ReqAllOpenOrders();
[[nodiscard]] Fields ReqCompletedOrders(bool api_only);
[[nodiscard]] Fields ReqExecutions(std::int64_t req_id, const ExecutionFilter& f);
/// Daily bars: `duration` like "2 Y", `what` "ADJUSTED_LAST" (end must be empty) or "TRADES".
[[nodiscard]] Fields ReqHistoricalData(std::int64_t req_id, const Contract& c,
                                       const std::string& end, const std::string& bar_size,
                                       const std::string& duration, bool rth_only,
                                       const std::string& what);
[[nodiscard]] Fields ReqMktDataSnapshot(std::int64_t req_id, const Contract& c);

}  // namespace ballast::ib
