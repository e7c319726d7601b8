#pragma once
/// `ballast data fetch`: daily bars from Alpaca's REST API (all pages, adjustment `all`, rate
/// limits honoured) or from IB Gateway / TWS (reqHistoricalData, pacing honoured) into the same
/// HDF5 store `data import` writes.

#include <string>

namespace ballast::live {

struct FetchOptions {
  std::string symbols;  ///< comma-separated
  std::string start, end;
  std::string out;
  std::string env_file;
  std::string provider = "alpaca";  ///< alpaca | ib
  std::string feed = "iex";
  // IB: the flags win over IB_HOST / IB_PORT / IB_CLIENT_ID ("" to use those or the defaults).
  std::string ib_host, ib_port, ib_client_id;
  std::string what = "ADJUSTED_LAST";  ///< IB: ADJUSTED_LAST (adjusted) or TRADES (split-adjusted)
  double pacing_wait_s = 15.0;         ///< IB: the first wait after a pacing violation (doubles)
  bool force = false;
  bool quiet = false;
  /// Raw bars (adjustment=raw) and the splits and cash dividends of GET /v1/corporate-actions
  /// into the store, for `data.prices: "raw"`; otherwise bars with adjustment=all ("adjusted").
  bool actions = false;
};

/// Returns the exit status; throws ballast::Error on bad input or a refused request.
int FetchBars(const FetchOptions& options);

}  // namespace ballast::live
