#include "ballast/data/csv_import.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include "ballast/data/bar_store.hpp"
#include "ballast/engine/error.hpp"
#include "csv_text.hpp"

namespace ballast::data {
namespace {

using namespace detail;  // NOLINT: the CSV text helpers

struct Columns {
  int date = -1, open = -1, high = -1, low = -1, close = -1, adj = -1, volume = -1, symbol = -1;
  int dividends = -1, splits = -1;  ///< yfinance's `actions=True` columns (0: none that day)
};

Columns FindColumns(const std::string& file, const std::vector<std::string_view>& header) {
  Columns c;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = Lower(header[i]);
    const int idx = static_cast<int>(i);
    auto set = [&](int& slot) {
      if (slot >= 0)
        DataError(file, 1, fmt::format("column '{}' appears twice in the header", header[i]));
      slot = idx;
    };
    if (h == "date" || h == "timestamp")
      set(c.date);
    else if (h == "open")
      set(c.open);
    else if (h == "high")
      set(c.high);
    else if (h == "low")
      set(c.low);
    else if (h == "close")
      set(c.close);
    else if (h == "adj close" || h == "adj_close" || h == "adjclose" || h == "adjusted close")
      set(c.adj);
    else if (h == "volume")
      set(c.volume);
    else if (h == "name" || h == "symbol" || h == "ticker")
      set(c.symbol);
    else if (h == "dividends")
      set(c.dividends);
    else if (h == "stock splits" || h == "stock_splits" || h == "splits")
      set(c.splits);
  }
  std::string found;
  for (auto h : header)
    found += fmt::format("{}{}", found.empty() ? "" : ",", h);
  if (c.date < 0)
    DataError(file, 1, fmt::format("missing required column 'Date' (header: {})", found));
  if (c.close < 0)
    DataError(file, 1, fmt::format("missing required column 'Close' (header: {})", found));
  return c;
}

std::string SymbolFromFileName(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  const std::string lower = Lower(name);
  if (lower.size() > 3 && lower.ends_with(".gz")) {
    name.resize(name.size() - 3);
  }
  if (Lower(name).ends_with(".csv")) name.resize(name.size() - 4);
  return name;
}

void CheckSymbol(const std::string& file, std::size_t line, std::string_view symbol) {
  if (const auto problem = SymbolProblem(symbol); !problem.empty()) DataError(file, line, problem);
}

struct Builder {
  SymbolSeries series;
  std::size_t last_line = 0;
};

}  // namespace

std::string ReadMaybeGzip(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(ErrorKind::kData, fmt::format("{}: no such file", path));
  }
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (f == nullptr) throw Error(ErrorKind::kIo, fmt::format("{}: cannot open", path));
  gzbuffer(f, 1 << 17);
  std::string out;
  std::string chunk(1 << 17, '\0');
  while (true) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw Error(ErrorKind::kData, fmt::format("{}: cannot decompress ({})", path, msg));
    }
    if (n == 0) break;
    out.append(chunk.data(), static_cast<std::size_t>(n));
  }
  // A gzip stream cut short (at a flush point, say) reads as a clean end of data: zlib only
  // reports the missing end through gzerror.
  int err = Z_OK;
  std::string msg = gzerror(f, &err);
  if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);  // zlib prefixes the path
  const bool gzipped = gzdirect(f) == 0;
  gzclose(f);
  if (err != Z_OK) {
    throw Error(ErrorKind::kData,
                fmt::format("{}: {} ({}); the file is truncated or damaged", path,
                            gzipped ? "the gzip stream ends early" : "cannot read", msg));
  }
  return out;
}

namespace {

/// One symbol's columns in a row.
struct Slot {
  std::string symbol;  ///< empty: the row's symbol column (long format) or the file's name
  Columns col;
};

/// The yfinance multi-ticker header: a `Price` row naming each column's field, a `Ticker` row
/// naming its symbol, then (usually) a `Date` row with nothing else. Returns one slot per ticker.
std::vector<Slot> WideSlots(const std::string& path, const std::vector<std::string_view>& price,
                            const std::vector<std::string_view>& ticker) {
  std::vector<Slot> slots;
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t j = 1; j < price.size(); ++j) {
    const std::string_view sym = j < ticker.size() ? ticker[j] : std::string_view{};
    if (sym.empty())
      DataError(path, 2, fmt::format("column {} has no ticker in the Ticker row", j + 1));
    CheckSymbol(path, 2, sym);
    auto [it, fresh] = index.try_emplace(std::string(sym), slots.size());
    if (fresh) slots.push_back({std::string(sym), Columns{}});
    Columns& c = slots[it->second].col;
    c.date = 0;
    const std::string h = Lower(price[j]);
    int* slot = h == "open"                                               ? &c.open
                : h == "high"                                             ? &c.high
                : h == "low"                                              ? &c.low
                : h == "close"                                            ? &c.close
                : h == "adj close" || h == "adj_close" || h == "adjclose" ? &c.adj
                : h == "volume"                                           ? &c.volume
                                                                          : nullptr;
    if (slot == nullptr) continue;  // Dividends, Stock Splits, Capital Gains: not prices
    if (*slot >= 0)
      DataError(path, 1,
                fmt::format("column '{}' for {} appears twice in the header", price[j], sym));
    *slot = static_cast<int>(j);
  }
  if (slots.empty()) DataError(path, 2, "no ticker columns in the yfinance header");
  for (const auto& t : slots) {
    if (t.col.close < 0)
      DataError(path, 1, fmt::format("missing required column 'Close' for {}", t.symbol));
  }
  return slots;
}

void ImportOne(const std::string& path, std::string_view text, const ImportOptions& opt,
               std::map<std::string, Builder>& out, std::map<std::string, std::string>& owner,
               std::vector<std::string>& warnings) {
  const std::string base = std::filesystem::path(path).filename().string();
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    while (pos < text.size()) {
      const auto nl = text.find('\n', pos);
      const auto end = nl == std::string::npos ? text.size() : nl;
      line = std::string_view(text).substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!Trim(line).empty()) return true;
    }
    return false;
  };
  std::string_view line;
  if (!next_line(line)) DataError(path, 0, "empty file (expected a CSV header)");
  if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF)
    line.remove_prefix(3);  // BOM
  Split(line, fields);
  const std::size_t width = fields.size();
  // Either one slot for the whole row (a per-symbol file, or a long file whose rows name their
  // symbol), or yfinance's wide layout: one slot per ticker.
  std::vector<Slot> slots;
  const bool wide = !fields.empty() && Lower(fields[0]) == "price";
  if (wide) {
    const std::vector<std::string_view> price = fields;
    if (!next_line(line))
      DataError(path, 1, "a 'Price' header row but no 'Ticker' row after it (yfinance layout)");
    Split(line, fields);
    if (fields.empty() || Lower(fields[0]) != "ticker") {
      DataError(path, line_no,
                "expected the 'Ticker' row of a yfinance header after its 'Price' row");
    }
    slots = WideSlots(path, price, fields);
    // The 'Date' row that names the index column (nothing else on it).
    const std::size_t pos_before = pos, line_before = line_no;
    if (next_line(line)) {
      Split(line, fields);
      const bool date_row = !fields.empty() && Lower(fields[0]) == "date" &&
                            std::all_of(fields.begin() + 1, fields.end(),
                                        [](std::string_view f) { return f.empty(); });
      if (!date_row) {
        pos = pos_before;
        line_no = line_before;
      }
    }
  } else {
    slots.push_back({{}, FindColumns(path, fields)});
  }
  const Columns& first = slots.front().col;
  const bool long_format = !wide && first.symbol >= 0;
  const bool use_adj = first.adj >= 0 && opt.price == PriceMode::kAdjusted;
  // Adj Close and Stock Splits are Yahoo's columns, and Yahoo's Close is split-adjusted.
  const std::string adjustment = use_adj                               ? "adjusted"
                                 : first.splits >= 0 || first.adj >= 0 ? "split_adjusted"
                                 : opt.assume_adjusted                 ? "adjusted"
                                                                       : "unknown";
  std::string file_symbol;
  if (!long_format && !wide) {
    file_symbol = SymbolFromFileName(path);
    CheckSymbol(path, 0, file_symbol);
  }
  Builder* current = nullptr;
  std::string current_symbol;

  auto builder_for = [&](std::string_view symbol) -> Builder& {
    if (current != nullptr && current_symbol == symbol) return *current;
    auto [it, inserted] = out.try_emplace(std::string(symbol));
    if (inserted) {
      it->second.series.symbol = std::string(symbol);
      it->second.series.source = base;
      it->second.series.price_adjustment = adjustment;
      owner[std::string(symbol)] = path;
    } else if (owner[std::string(symbol)] != path) {
      DataError(path, line_no,
                fmt::format("symbol '{}' was already imported from {}", symbol,
                            owner[std::string(symbol)]));
    }
    current = &it->second;
    current_symbol = std::string(symbol);
    return *current;
  };

  // A symbol counts from its first sight, so one whose rows are all invalid (or a header-only
  // file) is reported rather than silently missing from the store.
  if (wide) {
    for (const auto& t : slots)
      builder_for(t.symbol);
  } else if (!long_format) {
    builder_for(file_symbol);
  }
  std::optional<Days> day;
  std::string_view date_text;
  auto fail_or_skip = [&](const std::string& what) {
    if (opt.on_invalid == OnInvalidRow::kSkip) {
      warnings.push_back(fmt::format("{}:{}: skipped: {}", path, line_no, what));
      return;
    }
    DataError(path, line_no, what);
  };
  // One symbol's bar from this row's `fields`.
  auto add_bar = [&](std::string_view symbol, const Columns& col) {
    auto number = [&](int c, double& v) -> NumState {
      if (c < 0) return NumState::kMissing;
      const auto st = ParseNumber(fields[static_cast<std::size_t>(c)], v);
      if (st == NumState::kOk && !std::isfinite(v)) return NumState::kUnparsable;
      return st;
    };
    double close = 0.0;
    const auto close_state = number(col.close, close);
    if (close_state != NumState::kOk || !(close > 0.0)) {
      fail_or_skip(fmt::format("Close '{}'{} is not a positive finite number",
                               fields[static_cast<std::size_t>(col.close)],
                               wide ? fmt::format(" for {}", symbol) : std::string()));
      return;
    }
    double factor = 1.0;
    if (use_adj && col.adj >= 0) {
      double adj = 0.0;
      if (number(col.adj, adj) != NumState::kOk || !(adj > 0.0)) {
        fail_or_skip(fmt::format("Adj Close '{}' is not a positive finite number",
                                 fields[static_cast<std::size_t>(col.adj)]));
        return;
      }
      factor = adj / close;
      close = adj;
    }
    double o = 0.0, h = 0.0, l = 0.0, vol = 0.0;
    const auto so = number(col.open, o);
    const auto sh = number(col.high, h);
    const auto sl = number(col.low, l);
    const auto sv = number(col.volume, vol);
    for (auto [st, c, name] :
         {std::tuple{so, col.open, "Open"}, std::tuple{sh, col.high, "High"},
          std::tuple{sl, col.low, "Low"}, std::tuple{sv, col.volume, "Volume"}}) {
      if (st == NumState::kUnparsable) {
        fail_or_skip(
            fmt::format("{} '{}' is not a number", name, fields[static_cast<std::size_t>(c)]));
        return;
      }
    }
    Builder& b = builder_for(symbol);
    SymbolSeries& s = b.series;
    bool repaired = false;
    if (so == NumState::kMissing || sh == NumState::kMissing || sl == NumState::kMissing) {
      // The rule: a row with a valid close but a missing open/high/low is kept as a flat
      // bar.
      o = h = l = close;
      repaired = col.open >= 0 || col.high >= 0 || col.low >= 0;
    } else {
      if (!(o > 0.0) || !(h > 0.0) || !(l > 0.0)) {
        fail_or_skip(fmt::format("Open/High/Low must be positive (got {}, {}, {})",
                                 fields[static_cast<std::size_t>(col.open)],
                                 fields[static_cast<std::size_t>(col.high)],
                                 fields[static_cast<std::size_t>(col.low)]));
        return;
      }
      o *= factor;
      h *= factor;
      l *= factor;
    }
    if (sv == NumState::kMissing) {
      repaired = repaired || col.volume >= 0;
      vol = 0.0;
    } else if (vol < 0.0) {
      fail_or_skip(
          fmt::format("Volume '{}' is negative", fields[static_cast<std::size_t>(col.volume)]));
      return;
    }
    const Timestamp ts = DayToTimestamp(*day);
    if (!s.time.empty() && ts <= s.time.back()) {
      const std::string prev = FormatDate(TimestampToDay(s.time.back()));
      fail_or_skip(ts == s.time.back()
                       ? fmt::format("duplicate date {} for {} (first seen on line {})", date_text,
                                     s.symbol, b.last_line)
                       : fmt::format("date {} for {} is before the previous row's {} (line {}); "
                                     "dates must increase",
                                     date_text, s.symbol, prev, b.last_line));
      return;
    }
    if (repaired) ++s.repaired_rows;
    if (h < l || h < std::max(o, close) * (1 - 1e-12) || l > std::min(o, close) * (1 + 1e-12)) {
      ++s.ohlc_warnings;
    }
    s.time.push_back(ts);
    s.open.push_back(o);
    s.high.push_back(h);
    s.low.push_back(l);
    s.close.push_back(close);
    s.volume.push_back(vol);
    b.last_line = line_no;
    // yfinance's action columns: 0 (or empty) is no action that day.
    for (auto [c, kind] : {std::pair{col.splits, ActionKind::kSplit},
                           std::pair{col.dividends, ActionKind::kDividend}}) {
      double v = 0.0;
      const auto st = number(c, v);
      if (st == NumState::kMissing || (st == NumState::kOk && v == 0.0)) continue;
      if (st != NumState::kOk) {
        DataError(path, line_no,
                  fmt::format("{} '{}' is not a number",
                              kind == ActionKind::kSplit ? "Stock Splits" : "Dividends",
                              fields[static_cast<std::size_t>(c)]));
      }
      AddAction(s, {*day, kind, v}, path, line_no);
    }
  };

  while (next_line(line)) {
    Split(line, fields);
    if (fields.size() != width) {
      fail_or_skip(
          fmt::format("expected {} fields like the header, found {}", width, fields.size()));
      continue;
    }
    date_text = fields[static_cast<std::size_t>(first.date)];
    day = ParseBarDate(date_text);
    if (!day) {
      fail_or_skip(fmt::format(
          "Date '{}' is not a date YYYY-MM-DD from {}-01-01 to {}-12-31 (a time and zone "
          "after it, as yfinance writes, are fine)",
          date_text, kMinYear, kMaxYear));
      continue;
    }
    if (wide) {
      for (const auto& t : slots) {
        // A ticker with nothing on this row (not listed yet, or halted) has no bar that day.
        bool empty = true;
        for (const int c :
             {t.col.open, t.col.high, t.col.low, t.col.close, t.col.adj, t.col.volume})
          empty = empty && (c < 0 || IsMissing(fields[static_cast<std::size_t>(c)]));
        if (!empty) add_bar(t.symbol, t.col);
      }
      continue;
    }
    std::string_view symbol = long_format ? fields[static_cast<std::size_t>(first.symbol)]
                                          : std::string_view(file_symbol);
    if (long_format) {
      CheckSymbol(path, line_no, symbol);
      builder_for(symbol);
    }
    add_bar(symbol, first);
  }
}

// What is checked once every file is read: each symbol has rows, and some bars were found.
ImportResult Finish(std::map<std::string, Builder>& builders,
                    std::map<std::string, std::string>& owner, const ImportOptions& options,
                    ImportResult result) {
  for (auto& [symbol, b] : builders) {
    if (b.series.Rows() == 0) {
      throw Error(ErrorKind::kData, fmt::format("{}: no valid rows for {}{}", owner[symbol], symbol,
                                                options.on_invalid == OnInvalidRow::kSkip
                                                    ? " (every row was skipped as invalid)"
                                                    : ""));
    }
    if (b.series.repaired_rows > 0) {
      result.warnings.push_back(fmt::format(
          "{}: {} row(s) with missing open/high/low/volume kept with open=high=low=close", symbol,
          b.series.repaired_rows));
    }
    if (b.series.ohlc_warnings > 0) {
      result.warnings.push_back(
          fmt::format("{}: {} row(s) whose high/low do not bracket open/close (kept as given)",
                      symbol, b.series.ohlc_warnings));
    }
    result.series.push_back(std::move(b.series));
  }
  if (result.series.empty()) {
    throw Error(ErrorKind::kData, "no bars in the input files (header-only or empty?)");
  }
  return result;
}

}  // namespace

ImportResult ImportCsvText(const std::string& name, std::string_view text,
                           const ImportOptions& options) {
  std::map<std::string, Builder> builders;
  std::map<std::string, std::string> owner;
  ImportResult result;
  ImportOne(name, text, options, builders, owner, result.warnings);
  return Finish(builders, owner, options, std::move(result));
}

ImportResult ImportCsvFiles(const std::vector<std::string>& paths, const ImportOptions& options) {
  std::map<std::string, Builder> builders;
  std::map<std::string, std::string> owner;
  ImportResult result;
  for (const auto& p : paths) {
    if (options.stop != nullptr && options.stop->load())
      throw Error(ErrorKind::kInterrupted,
                  fmt::format("{}: import interrupted; nothing written", p));
    ImportOne(p, ReadMaybeGzip(p), options, builders, owner, result.warnings);
  }
  return Finish(builders, owner, options, std::move(result));
}

}  // namespace ballast::data
