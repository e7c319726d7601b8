#include "csv_text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "ballast/engine/error.hpp"

namespace ballast::data::detail {

[[noreturn]] void DataError(const std::string& file, std::size_t line, const std::string& what) {
  if (line == 0) throw Error(ErrorKind::kData, fmt::format("{}: {}", file, what));
  throw Error(ErrorKind::kData, fmt::format("{}:{}: {}", file, line, what));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '"' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

void Split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(Trim(line.substr(start)));
      return;
    }
    out.push_back(Trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

bool IsMissing(std::string_view s) {
  if (s.empty()) return true;
  const std::string l = Lower(s);
  return l == "null" || l == "nan" || l == "na" || l == "n/a" || l == "none";
}

NumState ParseNumber(std::string_view s, double& out) {
  if (IsMissing(s)) return NumState::kMissing;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, out);
  if (ec != std::errc() || ptr != e) return NumState::kUnparsable;
  return NumState::kOk;
}

// A bar's date: `YYYY-MM-DD`, or with a time and zone after it as yfinance writes them
// (`2020-01-02 00:00:00-05:00`, `2020-01-02T00:00:00Z`): daily bars, so the date part is the
// session and the rest must only look like a time.
std::optional<Days> ParseBarDate(std::string_view s) {
  if (s.size() > 10 && (s[10] == ' ' || s[10] == 'T')) {
    const std::string_view rest = s.substr(11);
    if (rest.size() < 5 || rest[2] != ':') return std::nullopt;
    for (const char c : rest) {
      if (!(std::isdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.' || c == '+' ||
            c == '-' || c == 'Z')) {
        return std::nullopt;
      }
    }
    s = s.substr(0, 10);
  }
  return ParseIsoDate(s);
}

}  // namespace ballast::data::detail
