#include "ballast/live/fetch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>

#include "ballast/adapters/alpaca/rest.hpp"
#include "ballast/data/bar_store.hpp"
#include "ballast/data/csv_import.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/live/time_ny.hpp"
#include "fetch_ib.hpp"

namespace ballast::live {
namespace {

/// Adds Alpaca's splits and cash dividends to the series they name, dated by ex-date and kept
/// when the ex-date falls after the series' first bar and on or before its last (an action on
/// the first day changes nothing: nobody held the symbol the day before). Two of one kind on one
/// date (a regular and a special dividend) become one: dividends add, splits multiply. Kinds the
/// store does not model are named on stderr, never applied silently.
void AttachActions(const std::vector<alpaca::CorporateActionInfo>& actions,
                   std::vector<data::SymbolSeries>& series, bool quiet) {
  using Kind = alpaca::CorporateActionInfo::Kind;
  std::map<std::string, std::size_t> not_applied;  // "type symbol" -> count
  for (auto& s : series) {
    const Days first = TimestampToDay(s.time.front()), last = TimestampToDay(s.time.back());
    std::map<std::pair<Days, ActionKind>, double> merged;
    for (const auto& a : actions) {
      if (a.symbol != s.symbol) continue;
      if (a.kind == Kind::kOther) {
        ++not_applied[fmt::format("{} {}", a.type, a.symbol)];
        continue;
      }
      if (a.ex_date <= first || a.ex_date > last) continue;
      const ActionKind kind = a.kind == Kind::kSplit ? ActionKind::kSplit : ActionKind::kDividend;
      const auto it =
          merged.try_emplace({a.ex_date, kind}, kind == ActionKind::kSplit ? 1.0 : 0.0).first;
      it->second = kind == ActionKind::kSplit ? it->second * a.value : it->second + a.value;
    }
    for (const auto& [key, value] : merged) {
      // A zero-rate dividend or a stock dividend of 0 changes nothing.
      if ((key.second == ActionKind::kSplit && value == 1.0) ||
          (key.second == ActionKind::kDividend && value == 0.0)) {
        continue;
      }
      data::AddAction(s, CorporateAction{key.first, key.second, value},
                      "Alpaca /v1/corporate-actions", 0);
    }
  }
  if (!quiet) {
    for (const auto& [what, n] : not_applied) {
      std::cerr << fmt::format(
          "fetch: {} {} not applied (the store models splits and cash dividends; prices stay "
          "raw across it)\n",
          n, what);
    }
  }
}

// One Alpaca request, its failures as ballast errors: refused credentials are the broker's
// (exit 4), any other refusal the data's (exit 3), an unreachable server the broker's.
template <class F>
auto AskAlpaca(const std::string& url, F&& request) -> decltype(request()) {
  try {
    return request();
  } catch (const alpaca::RestError& err) {
    throw Error(err.status() == 401 || err.status() == 403 ? ErrorKind::kBroker : ErrorKind::kData,
                err.what());
  } catch (const net::TransportError& err) {
    throw Error(ErrorKind::kBroker, fmt::format("cannot reach {}: {}", url, err.what()));
  }
}

}  // namespace

int FetchBars(const FetchOptions& o) {
  std::vector<std::string> symbols;
  for (std::size_t pos = 0; pos <= o.symbols.size();) {
    const auto next = o.symbols.find(',', pos);
    std::string s =
        o.symbols.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    if (!s.empty()) {
      // Checked before any request: the symbol names a series in the store (and a URL path).
      if (const auto problem = data::SymbolProblem(s); !problem.empty()) {
        throw Error(ErrorKind::kUsage, fmt::format("--symbols: {}", problem));
      }
      symbols.push_back(s);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  if (symbols.empty()) throw Error(ErrorKind::kUsage, "--symbols: give at least one symbol");
  const auto start = ParseIsoDate(o.start);
  if (!start)
    throw Error(ErrorKind::kUsage, fmt::format("--start: '{}' is not YYYY-MM-DD", o.start));
  std::optional<Days> end;
  if (!o.end.empty()) {
    end = ParseIsoDate(o.end);
    if (!end || *end < *start) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--end: '{}' is not a date on or after --start", o.end));
    }
  }
  if (std::filesystem::exists(o.out)) {
    if (!o.force) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: already exists (use --force to replace it)", o.out));
    }
    if (!data::IsBallastStore(o.out)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: exists and is not a ballast bar store; --force replaces only "
                              "stores ballast wrote",
                              o.out));
    }
  }
  if (o.provider == "ib") {
    const auto got = detail::FetchFromIb(symbols, *start, end, o);
    data::WriteStore(o.out, got.series, o.force);
    if (!o.quiet) {
      std::cout << fmt::format(
          "wrote {}: {} symbol(s), {} bars from Interactive Brokers at {} ({} requests; {})\n",
          o.out, got.series.size(), got.bars, got.endpoint, got.requests,
          o.what == "TRADES" ? "split-adjusted" : "adjusted");
    }
    return 0;
  }
  if (o.provider != "alpaca") {
    throw Error(ErrorKind::kUsage, fmt::format("--provider: '{}' is not alpaca or ib", o.provider));
  }
  if (!o.ib_host.empty() || !o.ib_port.empty() || !o.ib_client_id.empty() ||
      o.what != "ADJUSTED_LAST") {
    throw Error(ErrorKind::kUsage,
                "--what, --ib-host, --ib-port and --ib-client-id are for "
                "--provider ib");
  }
  alpaca::Endpoints e;
  e.feed = o.feed;
  if (const char* v = std::getenv("APCA_API_DATA_URL"); v != nullptr && *v != '\0') e.data_url = v;
  if (const char* v = std::getenv("APCA_API_BASE_URL"); v != nullptr && *v != '\0') {
    e.trading_url = v;
  }
  try {
    (void)net::ParseUrl(e.data_url);
  } catch (const std::invalid_argument& ex) {
    throw Error(ErrorKind::kUsage, fmt::format("APCA_API_DATA_URL: {}", ex.what()));
  }
  boost::asio::io_context io;  // the clock's timers (none are set)
  WallClock clock(io);
  alpaca::Rest rest(clock, e, alpaca::LoadCredentials(o.env_file),
                    [](std::string_view kind, const std::string& detail) {
                      spdlog::warn("{}: {}", kind, detail);
                    });
  std::vector<alpaca::Bar> bars;
  try {
    bars = AskAlpaca(e.data_url, [&] {
      return rest.GetDailyBars(
          symbols, *start, end,
          [&](std::size_t n) {
            if (!o.quiet) std::cerr << fmt::format("\rfetch: {} bars", n) << std::flush;
          },
          o.actions ? "raw" : "all");
    });
  } catch (const Error&) {
    if (!o.quiet) std::cerr << "\n";  // after the progress line
    throw;
  }
  if (!o.quiet) std::cerr << "\n";
  std::map<std::string, std::map<Timestamp, alpaca::Bar>> by_symbol;
  for (auto& b : bars) {
    const Timestamp day = DayToTimestamp(NyDate(b.t));
    by_symbol[b.symbol][day] = std::move(b);  // a repeated day keeps the later bar
  }
  std::vector<data::SymbolSeries> series;
  for (const auto& s : symbols) {
    const auto it = by_symbol.find(s);
    if (it == by_symbol.end() || it->second.empty()) {
      throw Error(ErrorKind::kData,
                  fmt::format("Alpaca returned no daily bars for {} from {}{} (feed {})", s,
                              o.start, o.end.empty() ? "" : " to " + o.end, o.feed));
    }
    data::SymbolSeries ss;
    ss.symbol = s;
    ss.price_adjustment = o.actions ? "raw" : "adjusted";
    ss.source = "alpaca";
    for (const auto& [t, b] : it->second) {
      ss.time.push_back(t);
      ss.open.push_back(b.open);
      ss.high.push_back(b.high);
      ss.low.push_back(b.low);
      ss.close.push_back(b.close);
      ss.volume.push_back(b.volume);
    }
    series.push_back(std::move(ss));
  }
  std::size_t splits = 0, dividends = 0;
  if (o.actions) {
    Days last = *start;
    for (const auto& s : series)
      last = std::max(last, TimestampToDay(s.time.back()));
    // The endpoint filters by process date, which for a dividend is its payable date, up to
    // weeks after the ex-date: ask 90 days past the last bar, keep what is dated in the bars.
    const auto actions = AskAlpaca(e.data_url, [&] {
      return rest.GetCorporateActions(symbols, *start, end.value_or(last) + std::chrono::days{90});
    });
    AttachActions(actions, series, o.quiet);
    for (const auto& s : series) {
      for (const auto& a : s.actions)
        (a.kind == ActionKind::kSplit ? splits : dividends) += 1;
    }
  }
  data::WriteStore(o.out, series, o.force);
  if (!o.quiet) {
    std::cout << fmt::format("wrote {}: {} symbol(s), {} bars from Alpaca ({} requests)", o.out,
                             series.size(), bars.size(), rest.Requests());
    if (o.actions) {
      std::cout << fmt::format("; raw prices with {} split(s) and {} dividend(s)", splits,
                               dividends);
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace ballast::live
