#pragma once
/// CSV importers: Yahoo-style per-symbol files (`SYMBOL.csv[.gz]` with Date, Close and optionally
/// Open, High, Low, Volume, Adj Close, Dividends, Stock Splits) and long files with a symbol column
/// (Name, symbol or ticker). Headers are case-insensitive. Every error names the file and line.

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/data/series.hpp"

namespace ballast::data {

enum class PriceMode : unsigned char { kAdjusted, kRaw };
enum class OnInvalidRow : unsigned char { kError, kSkip };

struct ImportOptions {
  PriceMode price = PriceMode::kAdjusted;
  /// Label series from files without an Adj Close column as adjusted (e.g. yfinance auto_adjust
  /// downloads whose Close already is the adjusted close).
  bool assume_adjusted = false;
  OnInvalidRow on_invalid = OnInvalidRow::kError;
  /// Checked between files: once set, the import ends with Error(kInterrupted).
  const std::atomic<bool>* stop = nullptr;
};

struct ImportResult {
  std::vector<SymbolSeries> series;   ///< sorted by symbol
  std::vector<std::string> warnings;  ///< skipped rows and similar, one line each
};

/// Reads and validates all `paths` (plain or gzip). Throws ballast::Error(kData) on the first
/// invalid row (unless skipping), a missing required column, or a symbol found in two files.
[[nodiscard]] ImportResult ImportCsvFiles(const std::vector<std::string>& paths,
                                          const ImportOptions& options);
/// The same for one file's text already in memory (`name` stands for the file in messages and,
/// for per-symbol files, gives the symbol).
[[nodiscard]] ImportResult ImportCsvText(const std::string& name, std::string_view text,
                                         const ImportOptions& options);

/// Reads a whole file, gunzipping it when it is gzip-compressed.
[[nodiscard]] std::string ReadMaybeGzip(const std::string& path);

/// Adds `action` to `series`'s sorted actions: Error(kData) naming `file` and `line` when its
/// value is not finite and positive, a split is 1, or the symbol has that kind on that date.
void AddAction(SymbolSeries& series, const CorporateAction& action, const std::string& file,
               std::size_t line);

/// Reads an actions CSV (header `symbol,date,type,value`; `type` `split` with the new shares per
/// old share, 2 for a 2:1 split, or `dividend` with the cash per share, dated by the ex-date)
/// into the series of the symbols it names. Every error names the file and line: a symbol not
/// in `series`, a bad date, type or value, a second action of one kind on one date.
void MergeActionsCsv(const std::string& path, std::string_view text,
                     std::vector<SymbolSeries>& series);
/// The same for a file (plain or gzip).
void MergeActionsFile(const std::string& path, std::vector<SymbolSeries>& series);

}  // namespace ballast::data
