#include "ballast/adapters/ib/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <thread>

namespace ballast::ib {

std::string HistoryDuration(Days from, Days today) {
  const long long days = std::max<long long>(1, (today - from).count() + 1);
  return days <= 365 ? fmt::format("{} D", days) : fmt::format("{} Y", (days + 364) / 365);
}

std::optional<Days> BarDay(std::string_view s) {
  if (s.size() < 8) return std::nullopt;
  const std::string iso = fmt::format("{}-{}-{}", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2));
  return ParseIsoDate(iso);
}

bool IsPacing(const TwsError& e) {
  if (e.code() != 162) return false;
  std::string text = e.what();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find("pacing violation") != std::string::npos;
}

HistoricalData DailyBarsPaced(TwsClient& client, const Contract& c, const std::string& duration,
                              const std::string& what, const Pacing& p) {
  for (int attempt = 0;; ++attempt) {
    try {
      return client.DailyBars(c, duration, what);
    } catch (const TwsError& e) {
      if (!IsPacing(e) || attempt >= p.retries) throw;
      const double wait = p.wait_s * std::pow(2.0, attempt);
      if (p.on_wait) p.on_wait(c.symbol, wait);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
  }
}

}  // namespace ballast::ib
