#include "fetch_ib.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <iostream>

#include "ballast/adapters/ib/client.hpp"
#include "ballast/adapters/ib/history.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {
namespace {

// A flag's value, else the environment's (named in errors), else the default.
std::string Setting(const std::string& flag, const char* env, const char* fallback) {
  if (!flag.empty()) return flag;
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return v;
  return fallback;
}

long long Whole(const std::string& text, const char* name, long long lo, long long hi) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: '{}' is not a whole number from {} to {}", name, text, lo, hi));
  }
  return v;
}

Days IbDate(const std::string& s, const std::string& symbol) {
  if (const auto d = ib::BarDay(s)) return *d;
  throw Error(ErrorKind::kData,
              fmt::format("IB historical data for {}: bar date '{}' is not yyyymmdd", symbol, s));
}

}  // namespace

IbFetched FetchFromIb(const std::vector<std::string>& symbols, Days start, std::optional<Days> end,
                      const FetchOptions& o) {
  if (o.actions) {
    throw Error(ErrorKind::kUsage,
                "--actions: IB's TWS API serves no corporate actions; fetch adjusted bars (the "
                "default, --what ADJUSTED_LAST) or split-adjusted ones (--what TRADES)");
  }
  ib::ConnectOptions c;
  c.host = Setting(o.ib_host, "IB_HOST", "127.0.0.1");
  c.port =
      static_cast<unsigned short>(Whole(Setting(o.ib_port, "IB_PORT", "7497"),
                                        o.ib_port.empty() ? "IB_PORT" : "--ib-port", 1, 65535));
  c.client_id = static_cast<int>(Whole(Setting(o.ib_client_id, "IB_CLIENT_ID", "1"),
                                       o.ib_client_id.empty() ? "IB_CLIENT_ID" : "--ib-client-id",
                                       0, 2147483646));
  IbFetched out;
  out.endpoint = fmt::format("{}:{}", c.host, c.port);
  ib::TwsClient client(c);
  try {
    client.Connect();
  } catch (const ib::TwsError& e) {
    throw Error(ErrorKind::kBroker, e.what());
  }
  const std::string label = o.what == "TRADES" ? "split_adjusted" : "adjusted";
  try {
    const Days today = NyDate(client.CurrentTime() * 1'000'000'000LL);
    if (start > today) {
      throw Error(ErrorKind::kUsage, fmt::format("--start: {} is after today at IB ({})",
                                                 FormatDate(start), FormatDate(today)));
    }
    const std::string duration = ib::HistoryDuration(start, today);
    for (const auto& symbol : symbols) {
      ib::ContractDetails d;
      try {
        d = client.ResolveStock(symbol);
      } catch (const ib::TwsError& e) {
        if (e.code() == 200) throw Error(ErrorKind::kData, e.what());
        throw;
      }
      ib::Contract k;
      k.con_id = d.con_id;
      k.symbol = symbol;
      k.primary_exchange = d.primary_exchange;
      ib::HistoricalData h;
      ib::Pacing pacing;
      pacing.wait_s = o.pacing_wait_s;
      pacing.on_wait = [&](const std::string& sym, double wait) {
        if (!o.quiet)
          std::cerr << fmt::format("\nfetch: IB pacing violation for {}; waiting {} s\n", sym,
                                   wait);
      };
      try {
        h = ib::DailyBarsPaced(client, k, duration, o.what, pacing);
      } catch (const ib::TwsError& e) {
        if (e.code() == 162)
          throw Error(ErrorKind::kData,
                      fmt::format("IB historical data for {}: {}", symbol, e.what()));
        throw;
      }
      data::SymbolSeries s;
      s.symbol = symbol;
      s.price_adjustment = label;
      s.source = "ib";
      Days last{};
      for (const auto& b : h.bars) {
        const Days day = IbDate(b.date, symbol);
        if (day < start || (end && day > *end) || (!s.time.empty() && day <= last)) continue;
        last = day;
        s.time.push_back(DayToTimestamp(day));
        s.open.push_back(b.open);
        s.high.push_back(b.high);
        s.low.push_back(b.low);
        s.close.push_back(b.close);
        s.volume.push_back(b.volume);
      }
      if (s.time.empty()) {
        throw Error(ErrorKind::kData,
                    fmt::format("IB returned no daily bars for {} from {}{} ({})", symbol,
                                FormatDate(start), end ? " to " + FormatDate(*end) : "", o.what));
      }
      out.bars += s.time.size();
      if (!o.quiet) std::cerr << fmt::format("\rfetch: {} bars", out.bars) << std::flush;
      out.series.push_back(std::move(s));
    }
  } catch (const ib::TwsError& e) {
    if (!o.quiet) std::cerr << "\n";
    throw Error(ErrorKind::kBroker, e.what());
  } catch (const ib::WireError& e) {
    if (!o.quiet) std::cerr << "\n";
    throw Error(ErrorKind::kData, fmt::format("IB Gateway at {}: {}", out.endpoint, e.what));
  }
  if (!o.quiet) std::cerr << "\n";
  out.requests = client.Requests();
  return out;
}

}  // namespace ballast::live::detail
