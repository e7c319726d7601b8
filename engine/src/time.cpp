#include "ballast/engine/time.hpp"

#include <charconv>

namespace ballast {

std::optional<Days> ParseIsoDate(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  auto parse = [&](std::string_view part, auto& value) {
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    return ec == std::errc() && ptr == part.data() + part.size();
  };
  if (!parse(text.substr(0, 4), y) || !parse(text.substr(5, 2), m) ||
      !parse(text.substr(8, 2), d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok() || y < kMinYear || y > kMaxYear) return std::nullopt;
  return Days{ymd};
}

void FormatDateTo(Days day, char* out) noexcept {
  const std::chrono::year_month_day ymd{day};
  int y = static_cast<int>(ymd.year());
  const unsigned m = static_cast<unsigned>(ymd.month());
  const unsigned d = static_cast<unsigned>(ymd.day());
  if (y < 0) y = 0;
  out[0] = static_cast<char>('0' + (y / 1000) % 10);
  out[1] = static_cast<char>('0' + (y / 100) % 10);
  out[2] = static_cast<char>('0' + (y / 10) % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = '-';
  out[5] = static_cast<char>('0' + m / 10);
  out[6] = static_cast<char>('0' + m % 10);
  out[7] = '-';
  out[8] = static_cast<char>('0' + d / 10);
  out[9] = static_cast<char>('0' + d % 10);
}

std::string FormatDate(Days day) {
  std::string out(10, '0');
  FormatDateTo(day, out.data());
  return out;
}

int IsoWeekKey(Days day) noexcept {
  using namespace std::chrono;
  // ISO weeks start on Monday; the ISO year is the year of the week's Thursday.
  const weekday wd{day};
  const int iso_wd = static_cast<int>(wd.iso_encoding());  // 1 = Monday .. 7 = Sunday
  const Days thursday = day + days{4 - iso_wd};
  const year_month_day thu{thursday};
  const Days jan1 = sys_days{thu.year() / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  return static_cast<int>(thu.year()) * 100 + week;
}

}  // namespace ballast
