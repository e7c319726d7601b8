// libFuzzer target: the CSV importer on arbitrary text. Any input is either imported into series
// that satisfy the store's invariants or refused with ballast::Error; nothing else.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ballast/data/bar_store.hpp"
#include "ballast/data/csv_import.hpp"
#include "ballast/engine/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ballast;
  if (size == 0) return 0;
  // The first byte picks the options and the file name (per-symbol or long format).
  const std::uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  data::ImportOptions options;
  options.price = (mode & 1) != 0 ? data::PriceMode::kRaw : data::PriceMode::kAdjusted;
  options.assume_adjusted = (mode & 2) != 0;
  options.on_invalid = (mode & 4) != 0 ? data::OnInvalidRow::kSkip : data::OnInvalidRow::kError;
  try {
    const auto result =
        data::ImportCsvText((mode & 8) != 0 ? "AAA.csv" : "long.csv", text, options);
    for (const auto& s : result.series) {
      if (s.Rows() == 0 || !data::SymbolProblem(s.symbol).empty()) std::abort();
      for (std::size_t i = 0; i < s.Rows(); ++i) {
        if (i > 0 && s.time[i] <= s.time[i - 1]) std::abort();
        for (const auto* col : {&s.open, &s.high, &s.low, &s.close}) {
          if (!std::isfinite((*col)[i]) || !((*col)[i] > 0.0)) std::abort();
        }
        if (!std::isfinite(s.volume[i]) || s.volume[i] < 0.0) std::abort();
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
