// libFuzzer target: every Alpaca REST and stream parser on arbitrary bytes. They return errors
// for bad input and never crash (simdjson bounds depth and size itself).

#include <cstdint>
#include <string_view>
#include <vector>

#include "ballast/adapters/alpaca/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ballast::alpaca;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ParseError e;
  (void)ParseAccount(body, e);
  (void)ParsePositions(body, e);
  (void)ParseOrder(body, e);
  (void)ParseOrders(body, e);
  (void)ParseClock(body, e);
  (void)ParseCalendar(body, e);
  (void)ParseBarsPage(body, e);
  (void)ParseApiError(body);
  (void)ParseRfc3339(body);
  std::vector<DataMessage> messages;
  (void)ParseDataFrame(body, messages, e);
  TradeMessage trade;
  (void)ParseTradeFrame(body, trade, e);
  return 0;
}
