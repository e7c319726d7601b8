#pragma once
// `data fetch --provider ib`: daily bars through IB Gateway / TWS (reqHistoricalData), one symbol
// at a time, pacing violations (error 162) waited out. Internal to adapters/live.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ballast/data/series.hpp"
#include "ballast/engine/time.hpp"
#include "ballast/live/fetch.hpp"

namespace ballast::live::detail {

struct IbFetched {
  std::vector<data::SymbolSeries> series;
  std::size_t bars = 0;
  std::uint64_t requests = 0;
  std::string endpoint;  ///< host:port, for the summary
};

IbFetched FetchFromIb(const std::vector<std::string>& symbols, Days start, std::optional<Days> end,
                      const FetchOptions& o);

}  // namespace ballast::live::detail
