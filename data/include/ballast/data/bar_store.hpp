#pragma once
/// The HDF5 bar store (layout in docs/data-format.md, format_version 2): plain HDF5 that h5dump
/// and h5py read. Writes go to a temporary file renamed into place, so a failed import leaves
/// nothing behind. This header does not include HDF5.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/data/series.hpp"

namespace ballast::data {

/// 2 added corporate actions; version 1 stores (none) still load.
inline constexpr int kStoreFormatVersion = 2;
inline constexpr const char* kStoreFormatName = "ballast.bars";

struct StoreSymbolInfo {
  std::string symbol;
  std::size_t rows = 0;
  Timestamp first = 0;
  Timestamp last = 0;
  std::string price_adjustment;
  std::string source;
  std::size_t repaired_rows = 0;
  std::size_t ohlc_warnings = 0;
  std::size_t splits = 0;  ///< corporate actions stored with the bars
  std::size_t dividends = 0;
};

struct StoreInfo {
  std::string path;
  int format_version = 0;
  std::string price_adjustment;  ///< "adjusted", "raw", "source" or "mixed"
  std::string created_by;
  std::vector<StoreSymbolInfo> symbols;  ///< sorted by symbol
  [[nodiscard]] const StoreSymbolInfo* Find(std::string_view symbol) const noexcept;
};

/// Longest symbol a store accepts.
inline constexpr std::size_t kMaxSymbolLength = 32;
/// Why `symbol` cannot name a series in a store ("" when it can): 1-32 letters, digits and
/// `. - _ ^ =`, with at least one letter or digit (so `.`, `..` and paths are refused).
[[nodiscard]] std::string SymbolProblem(std::string_view symbol);

/// Writes `series` (daily bars) to `path` atomically: checked first (symbols, at least one
/// series), built in memory, written to a temporary file beside `path`, flushed and renamed into
/// place; on any failure nothing is left, not even the parent directories it created. An existing
/// `path` is replaced only with `overwrite`, and only when it is a ballast store.
void WriteStore(const std::string& path, const std::vector<SymbolSeries>& series, bool overwrite);
/// Whether `path` is an HDF5 file with ballast's `format` attribute.
[[nodiscard]] bool IsBallastStore(const std::string& path);

/// Reads the store's metadata; a data error naming the file if it is not a ballast store.
[[nodiscard]] StoreInfo ReadStoreInfo(const std::string& path);

/// Symbols in the store (names only; cheap), sorted.
[[nodiscard]] std::vector<std::string> ListStoreSymbols(const std::string& path);

/// Which columns to read besides timestamp and close (each costs one dataset read per symbol).
struct LoadColumns {
  bool open = true;
  bool high = true;
  bool low = true;
  bool volume = true;
  static LoadColumns CloseOnly() { return {false, false, false, false}; }
};

/// Loads the bars of `symbols` with dates in [from, to] (inclusive; nullopt = unbounded), and
/// their corporate actions with ex-dates in that range, validating them (strictly increasing
/// dates, finite positive prices, non-negative volume; actions dated in increasing order with
/// finite positive values).
/// Columns not requested are left empty. Order of `symbols` kept.
[[nodiscard]] std::vector<SymbolSeries> LoadSeries(const std::string& path,
                                                   const std::vector<std::string>& symbols,
                                                   std::optional<Days> from, std::optional<Days> to,
                                                   LoadColumns columns = {});

}  // namespace ballast::data
