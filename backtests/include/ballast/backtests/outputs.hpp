#pragma once
/// Writes a run's files: config.json, equity.csv, trades.csv, weights.csv, events.jsonl and
/// summary.json (formats in docs/outputs.md). Files are written into a temporary directory that is
/// renamed into place, so an interrupted write leaves nothing half-written. Numbers are printed in
/// shortest round-trip form, so the same run gives byte-identical files.

#include <atomic>
#include <filesystem>
#include <string>

#include "ballast/backtests/backtest.hpp"

namespace ballast::backtests {

/// Writes all outputs into `dir`, which must exist (a staging directory: see OutputDir). Between
/// files, a set `stop` ends the writing with Error(kInterrupted).
void WriteRunFiles(const BacktestResult& result, const std::filesystem::path& dir, bool workbook,
                   const std::atomic<bool>* stop = nullptr);
/// Writes all outputs to `dir` through an OutputDir: it must not exist yet unless `overwrite`, and
/// then only a directory ballast wrote is replaced. `workbook`: also
/// tracking.xlsx (the slowest output by far: about 0.6 s for a 470-symbol, 5-year run).
void WriteRunOutputs(const BacktestResult& result, const std::string& dir, bool overwrite,
                     bool workbook = true);

/// Writes only summary.json into `dir` (created if needed): the output of summary-only sweeps.
void WriteRunSummary(const BacktestResult& result, const std::string& dir);

/// summary.json text.
[[nodiscard]] std::string SummaryJson(const BacktestResult& result);

/// The short table printed to the terminal.
[[nodiscard]] std::string SummaryTable(const BacktestResult& result);

/// `<name>` reduced to [a-z0-9-], for directory names.
[[nodiscard]] std::string Slug(std::string_view name);

}  // namespace ballast::backtests
