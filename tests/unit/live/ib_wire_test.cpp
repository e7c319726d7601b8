// The TWS API's wire layer: ballast's request builders against golden frames of ib_async's
// encoder, the framing, the encoders' rules, and the parsers on re-typed real replies
// (tests/data/ib/SOURCES.md).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <map>
#include <string>

#include "ballast/adapters/ib/messages.hpp"
#include "ballast/adapters/ib/requests.hpp"
#include "ballast/adapters/ib/wire.hpp"
#include "testkit.hpp"

namespace ballast::ib {
namespace {

// "a|b||" → {"a", "b", ""}: `|` stands for each field's NUL, as in the captures' notation.
Fields F(const std::string& piped) {
  std::string payload = piped;
  for (char& c : payload)
    if (c == '|') c = '\0';
  return SplitFields(payload);
}

// golden_requests.txt: a title line, then "  fields=['8', '1', '1']" (a Python list).
std::map<std::string, Fields> Golden() {
  std::ifstream in(testkit::SourceDir() / "tests/data/ib/golden_requests.txt");
  std::map<std::string, Fields> out;
  std::string line, title;
  while (std::getline(in, line)) {
    const auto at = line.find("fields=[");
    if (at == std::string::npos) {
      if (!line.empty() && line[0] != ' ') title = line;
      continue;
    }
    Fields f;
    bool quoted = false;
    std::string cur;
    for (std::size_t i = at + 8; i < line.size() && !(line[i] == ']' && !quoted); ++i) {
      if (line[i] == '\'') {
        if (quoted) f.push_back(cur);
        cur.clear();
        quoted = !quoted;
      } else if (quoted) {
        cur.push_back(line[i]);
      }
    }
    out[title] = f;
  }
  return out;
}

Contract Stock(std::int64_t con_id, const std::string& symbol) {
  Contract c;
  c.con_id = con_id;
  c.symbol = symbol;
  return c;
}

ExecutionFilter ByClient(std::int64_t client_id) {
  ExecutionFilter f;
  f.client_id = client_id;
  return f;
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes)
    out += fmt::format("{:02x}", c);
  return out;
}

TEST(IbWire, RequestsMatchTheGoldenFramesFieldForField) {
  const auto g = Golden();
  ASSERT_EQ(g.size(), 16u);
  const Contract spy = Stock(756733, "SPY");
  OrderTicket buy;
  buy.order_id = 101;
  buy.action = "BUY";
  buy.quantity = 10;
  buy.account = "DU1234567";
  buy.order_ref = "bl1a2b3c4d-20260714-7-SPY";
  OrderTicket sell = buy;
  sell.order_id = 102;
  sell.action = "SELL";
  sell.quantity = 5;
  sell.order_type = "LMT";
  sell.limit_price = 612.34;
  sell.order_ref = "bl1a2b3c4d-20260714-7-AGG";
  const std::map<std::string, Fields> ours{
      {"startApi(clientId=1)", StartApi(1)},
      {"reqIds(1)", ReqIds()},
      {"reqMarketDataType(3 = delayed)", ReqMarketDataType(3)},
      {"reqAccountSummary",
       ReqAccountSummary(9001,
                         "NetLiquidation,TotalCashValue,SettledCash,AvailableFunds,BuyingPower")},
      {"reqPositions", ReqPositions()},
      {"reqContractDetails(SPY STK SMART USD)", ReqContractDetails(9002, Stock(0, "SPY"), 178)},
      {"placeOrder MKT BUY 10 SPY (conId 756733) DAY orderRef", PlaceOrder(spy, buy, 178)},
      {"placeOrder LMT SELL 5 AGG @612.34 DAY orderRef",
       PlaceOrder(Stock(39622943, "AGG"), sell, 178)},
      {"cancelOrder(101)", CancelOrder(101, 178)},
      {"reqOpenOrders", ReqOpenOrders()},
      {"reqAllOpenOrders", ReqAllOpenOrders()},
      {"reqExecutions(filter clientId=1)", ReqExecutions(9003, ByClient(1))},
      {"reqHistoricalData(SPY, 2 Y, 1 day, ADJUSTED_LAST, RTH, formatDate=1)",
       ReqHistoricalData(9004, spy, "", "1 day", "2 Y", true, "ADJUSTED_LAST")},
      {"reqMktData snapshot", ReqMktDataSnapshot(9005, spy)},
      {"reqCurrentTime", ReqCurrentTime()},
  };
  for (const auto& [name, fields] : ours) {
    const auto it = g.find(name);
    ASSERT_NE(it, g.end()) << name;
    ASSERT_EQ(fields.size(), it->second.size()) << name;
    for (std::size_t i = 0; i < fields.size(); ++i)
      EXPECT_EQ(fields[i], it->second[i]) << name << ", field " << i;
  }
  // The three framed byte strings of the golden file.
  EXPECT_EQ(Hex(Frame(StartApi(1))), "000000083731003200310000");
  EXPECT_EQ(Hex(Frame(CancelOrder(101, 178))), "00000009340031003130310000");
  EXPECT_EQ(Hex(HandshakeBytes()), "4150490000000009763137362e2e313738");
}

TEST(IbWire, ServerVersionsChangeTheFieldsTheyShould) {
  const Contract spy = Stock(756733, "SPY");
  OrderTicket t;
  t.order_id = 1;
  t.action = "BUY";
  t.quantity = 1;
  EXPECT_EQ(PlaceOrder(spy, t, 178).size(), 114u);
  EXPECT_EQ(PlaceOrder(spy, t, 177).size(), 114u);
  EXPECT_EQ(PlaceOrder(spy, t, 176).size(), 115u);  // faProfile, dropped at 177
}

TEST(IbWire, EncodersFollowTheProtocolsRules) {
  EXPECT_EQ(EncodeDouble(0.0), "0.0");
  EXPECT_EQ(EncodeDouble(612.34), "612.34");
  EXPECT_EQ(EncodeDouble(kUnsetDouble), "");
  EXPECT_EQ(EncodeDouble(std::numeric_limits<double>::infinity()), "Infinite");
  EXPECT_EQ(EncodeInt(kUnsetInt), "");
  EXPECT_EQ(EncodeInt(-1), "-1");
  EXPECT_EQ(EncodeBool(true), "1");
  EXPECT_EQ(EncodeDecimal(10.0), "10");
  EXPECT_EQ(EncodeDecimal(0.125), "0.125");
  EXPECT_EQ(EncodeDecimal(7.000000004, 8), "7");
}

TEST(IbWire, FramesAreCutWhereverTheReadsEnd) {
  const std::string a = Frame({"9", "1", "117"});
  const std::string b = Frame({"15", "1", "DU1234567"});
  const std::string both = a + b;
  FrameReader r;
  std::optional<WireError> err;
  std::vector<Fields> got;
  for (char c : both) {  // one byte at a time
    r.Feed(std::string_view(&c, 1));
    while (auto f = r.Next(err))
      got.push_back(*f);
  }
  ASSERT_FALSE(err);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Fields{"9", "1", "117"}));
  EXPECT_EQ(got[1], (Fields{"15", "1", "DU1234567"}));
  EXPECT_EQ(r.Buffered(), 0u);
  // A length over the limit: the stream cannot be trusted.
  FrameReader bad;
  bad.Feed(std::string("\x01\x00\x00\x00", 4));
  EXPECT_FALSE(bad.Next(err));
  ASSERT_TRUE(err);
  EXPECT_NE(err->what.find("16777216 bytes"), std::string::npos) << err->what;
}

TEST(IbWire, ParsesTheGatewaysRealReplies) {
  const auto hello = ParseServerHello(F("176|20230228 17:24:14 EST|"));
  EXPECT_EQ(hello.server_version, 176);
  EXPECT_EQ(hello.connection_time, "20230228 17:24:14 EST");

  const auto e = ParseError(F("4|2|-1|2104|Market data farm connection is OK:usfarm||"));
  EXPECT_EQ(e.req_id, -1);
  EXPECT_EQ(e.code, 2104);
  EXPECT_EQ(e.text, "Market data farm connection is OK:usfarm");
  EXPECT_EQ(Classify(e.code), ErrorClass::kInfo);
  EXPECT_EQ(Classify(1100), ErrorClass::kLinkLost);
  EXPECT_EQ(Classify(1102), ErrorClass::kLinkRestored);
  EXPECT_EQ(Classify(326), ErrorClass::kFatal);
  EXPECT_EQ(Classify(162), ErrorClass::kPacing);
  EXPECT_EQ(Classify(201), ErrorClass::kRequest);
  EXPECT_EQ(Classify(399), ErrorClass::kWarning);
  EXPECT_EQ(Classify(2103), ErrorClass::kDataDegraded);

  EXPECT_EQ(ParseNextValidId(F("9|1|117|")).order_id, 117);
  EXPECT_EQ(ParseManagedAccounts(F("15|1|DU1234567,DU7654321|")).accounts,
            (std::vector<std::string>{"DU1234567", "DU7654321"}));

  const auto s = ParseOrderStatus(F("3|216|Filled|3000|0|1.08725|1351823369|0|1.08725|2||0|"));
  EXPECT_EQ(s.order_id, 216);
  EXPECT_EQ(s.status, "Filled");
  EXPECT_DOUBLE_EQ(s.filled, 3000);
  EXPECT_DOUBLE_EQ(s.remaining, 0);
  EXPECT_DOUBLE_EQ(s.avg_fill_price, 1.08725);
  EXPECT_EQ(s.perm_id, 1351823369);
  EXPECT_EQ(s.client_id, 2);

  const std::string exec =
      "11|-1|215|12087792|EUR|CASH||0.0|||IDEALPRO|USD|EUR.USD|EUR.USD|0000e215.656d0000.01.01|"
      "20231203 20:15:20 US/Eastern|DU5524716|IDEALPRO|BOT|1000|1.08735|1351823368|2|0|1000|"
      "1.08735|O-20231204-0115-001-000-3:215||||2|";
  const auto x = ParseExecDetails(F(exec), 176);  // captured at server 176
  EXPECT_EQ(x.req_id, -1);
  EXPECT_EQ(x.order_id, 215);
  EXPECT_EQ(x.con_id, 12087792);
  EXPECT_EQ(x.exec_id, "0000e215.656d0000.01.01");
  EXPECT_EQ(x.time, "20231203 20:15:20 US/Eastern");
  EXPECT_EQ(x.account, "DU5524716");
  EXPECT_EQ(x.side, "BOT");
  EXPECT_DOUBLE_EQ(x.shares, 1000);
  EXPECT_DOUBLE_EQ(x.price, 1.08735);
  EXPECT_DOUBLE_EQ(x.cum_qty, 1000);
  EXPECT_EQ(x.order_ref, "O-20231204-0115-001-000-3:215");
  // At 178 the message has pendingPriceRevision too: without it, the error names the field.
  try {
    (void)ParseExecDetails(F(exec), 178);
    FAIL() << "a field short at 178";
  } catch (const WireError& w) {
    EXPECT_NE(w.what.find("execDetails message, field 31"), std::string::npos) << w.what;
  }
  EXPECT_NO_THROW((void)ParseExecDetails(F(exec + "0|"), 178));

  // openOrder's first fields (NautilusTrader's open_order_1 capture, to permId).
  const auto oo = ParseOpenOrder(
      F("5|190|756733|SPY|STK||0|?||SMART|USD|SPY|SPY|BUY|1000|MKT|0.0|0.0|IOC||DU1234567||0|"
        "O-20231203-1921-001-000-2:190|2|1351823328|0|0|0||"));
  EXPECT_EQ(oo.order_id, 190);
  EXPECT_EQ(oo.con_id, 756733);
  EXPECT_EQ(oo.symbol, "SPY");
  EXPECT_EQ(oo.action, "BUY");
  EXPECT_DOUBLE_EQ(oo.quantity, 1000);
  EXPECT_EQ(oo.order_type, "MKT");
  EXPECT_EQ(oo.tif, "IOC");
  EXPECT_EQ(oo.account, "DU1234567");
  EXPECT_EQ(oo.order_ref, "O-20231203-1921-001-000-2:190");
  EXPECT_EQ(oo.client_id, 2);
  EXPECT_EQ(oo.perm_id, 1351823328);

  const auto c = ParseCommissionReport(
      F("59|1|0000e215.656d0002.01.01|2.5|USD|1.7976931348623157E308|1.7976931348623157E308||"));
  EXPECT_EQ(c.exec_id, "0000e215.656d0002.01.01");
  ASSERT_TRUE(c.commission);
  EXPECT_DOUBLE_EQ(*c.commission, 2.5);
  EXPECT_FALSE(c.realized_pnl);  // the sentinel: no value
  EXPECT_FALSE(ParseCommissionReport(F("59|1|x|1.7976931348623157E308|USD|||||")).commission);

  const auto p =
      ParsePosition(F("61|3|DU5524716|12087792|EUR|CASH||0.0||||USD|EUR.USD|EUR.USD|0|0.0|"));
  EXPECT_EQ(p.account, "DU5524716");
  EXPECT_EQ(p.con_id, 12087792);
  EXPECT_EQ(p.symbol, "EUR");
  EXPECT_EQ(p.currency, "USD");
  EXPECT_DOUBLE_EQ(p.position, 0);

  const auto v = ParseAccountSummary(F("63|1|10001|DU1234567|NetLiquidation|1057315.32|USD|"));
  EXPECT_EQ(v.req_id, 10001);
  EXPECT_EQ(v.tag, "NetLiquidation");
  EXPECT_EQ(v.value, "1057315.32");
  EXPECT_EQ(ReplyReqId(in::kAccountSummary, F("63|1|10001|DU1234567|NetLiquidation|1|USD|")),
            10001);

  const auto h = ParseHistoricalData(F("17|9000|20230315  09:30:00|20230315  10:30:00|0|"));
  EXPECT_EQ(h.req_id, 9000);
  EXPECT_TRUE(h.bars.empty());
  const auto h2 = ParseHistoricalData(
      F("17|9004|20260701|20260714|2|20260713|612.1|615|611|614.5|8547|613.2|66|20260714|614.5|616|"
        "613|615.25|9000|615|70|"));
  ASSERT_EQ(h2.bars.size(), 2u);
  EXPECT_EQ(h2.bars[1].date, "20260714");
  EXPECT_DOUBLE_EQ(h2.bars[1].close, 615.25);
}

TEST(IbWire, AMalformedReplyNamesTheMessageAndField) {
  try {
    (void)ParseOrderStatus(F("3|216|Filled|lots|0|1.08725|1351823369|0|1.08725|2||0|"));
    FAIL() << "a number that is not one";
  } catch (const WireError& w) {
    EXPECT_NE(w.what.find("orderStatus message, field 3: expected a number, got \"lots\""),
              std::string::npos)
        << w.what;
  }
  EXPECT_THROW((void)ParseHistoricalData(F("17|9000|a|b|5|")), WireError);  // 5 bars, none there
  EXPECT_EQ(MessageId(F("abc|1|")), std::nullopt);
}

}  // namespace
}  // namespace ballast::ib
