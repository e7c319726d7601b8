#pragma once
// Small helpers the CSV readers share (bars and corporate actions). Internal to data/.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ballast/engine/time.hpp"

namespace ballast::data::detail {

/// Error(kData) "FILE:LINE: what" (no line when `line` is 0).
[[noreturn]] void DataError(const std::string& file, std::size_t line, const std::string& what);
[[nodiscard]] std::string Lower(std::string_view s);
/// Without surrounding spaces, tabs, quotes and carriage returns.
[[nodiscard]] std::string_view Trim(std::string_view s);
/// The comma-separated fields of `line`, trimmed.
void Split(std::string_view line, std::vector<std::string_view>& out);
/// Empty, `null`, `NaN`, `NA`, `N/A` or `None`.
[[nodiscard]] bool IsMissing(std::string_view s);
enum class NumState { kOk, kMissing, kUnparsable };
[[nodiscard]] NumState ParseNumber(std::string_view s, double& out);
/// A bar's date: `YYYY-MM-DD`, or with a time and zone after it as yfinance writes them
/// (`2020-01-02 00:00:00-05:00`, `2020-01-02T00:00:00Z`): daily bars, so the date part is the
/// session and the rest must only look like a time.
[[nodiscard]] std::optional<Days> ParseBarDate(std::string_view s);

}  // namespace ballast::data::detail
