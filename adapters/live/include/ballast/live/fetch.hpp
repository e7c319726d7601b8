#pragma once
/// `ballast data fetch --provider alpaca`: daily bars from Alpaca's REST API (all pages,
/// adjustment `all`, rate limits honoured) into the same HDF5 store `data import` writes.

#include <string>

namespace ballast::live {

struct FetchOptions {
  std::string symbols;  ///< comma-separated
  std::string start, end;
  std::string out;
  std::string env_file;
  std::string feed = "iex";
  bool force = false;
  bool quiet = false;
  /// Raw bars (adjustment=raw) and the splits and cash dividends of GET /v1/corporate-actions
  /// into the store, for `data.prices: "raw"`; otherwise bars with adjustment=all ("adjusted").
  bool actions = false;
};

/// Returns the exit status; throws ballast::Error on bad input or a refused request.
int FetchBars(const FetchOptions& options);

}  // namespace ballast::live
