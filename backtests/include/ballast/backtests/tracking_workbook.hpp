#pragma once
/// tracking.xlsx: the run in a workbook people open in a spreadsheet (sheets Positions, Trades,
/// Performance, Metadata; layout in docs/outputs.md). Written with libxlsxwriter, deterministic
/// (the document's creation time is the run's last session, zip entries carry a fixed date).

#include <string>

#include "ballast/backtests/backtest.hpp"

namespace ballast::backtests {

/// Writes the workbook; needs a full-detail run (per-day weights recorded).
void WriteTrackingWorkbook(const BacktestResult& result, const std::string& path);

}  // namespace ballast::backtests
