// libFuzzer target: the TWS API's framing and every reply parser on arbitrary bytes (what a
// Gateway, or anything listening on its port, may send). They throw WireError for bad input and
// never crash, loop or allocate without bound.

#include <cstdint>
#include <string_view>

#include "ballast/adapters/ib/messages.hpp"
#include "ballast/adapters/ib/wire.hpp"

namespace {

template <class F>
void Try(F parse) {
  try {
    (void)parse();
  } catch (const ballast::ib::WireError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ballast::ib;
  FrameReader reader;
  // Two reads: the frame boundary falls anywhere.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  reader.Feed(bytes.substr(0, size / 2));
  std::optional<WireError> error;
  for (int pass = 0; pass < 2; ++pass) {
    while (auto f = reader.Next(error)) {
      const Fields& m = *f;
      (void)MessageId(m);
      for (int id : {1, 2, 3, 4, 5, 9, 10, 11, 15, 17, 49, 52, 53, 55, 57, 59, 61, 62, 63, 64})
        (void)ReplyReqId(id, m);
      Try([&] { return ParseServerHello(m); });
      Try([&] { return ParseError(m); });
      Try([&] { return ParseNextValidId(m); });
      Try([&] { return ParseManagedAccounts(m); });
      Try([&] { return ParseCurrentTime(m); });
      Try([&] { return ParseOrderStatus(m); });
      Try([&] { return ParseOpenOrder(m); });
      Try([&] { return ParseExecDetails(m, 176); });
      Try([&] { return ParseExecDetails(m, 178); });
      Try([&] { return ParseCommissionReport(m); });
      Try([&] { return ParsePosition(m); });
      Try([&] { return ParseAccountSummary(m); });
      Try([&] { return ParseContractDetails(m); });
      Try([&] { return ParseHistoricalData(m); });
    }
    if (error) break;
    reader.Feed(bytes.substr(size / 2));
  }
  return 0;
}
