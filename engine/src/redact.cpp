#include "ballast/engine/redact.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace ballast {
namespace {

std::mutex g_mutex;
std::vector<std::string> g_secrets;  // longest first, so a secret containing another goes whole
std::atomic<bool> g_any{false};

}  // namespace

void RegisterSecret(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lock(g_mutex);
  if (std::find(g_secrets.begin(), g_secrets.end(), value) != g_secrets.end()) return;
  g_secrets.emplace_back(value);
  std::sort(g_secrets.begin(), g_secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  g_any = true;
}

std::string Redact(std::string_view text) {
  std::string out(text);
  if (!g_any.load(std::memory_order_acquire)) return out;
  std::lock_guard lock(g_mutex);
  for (const auto& secret : g_secrets) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 10)) {
      out.replace(pos, secret.size(), "[redacted]");
    }
  }
  return out;
}

}  // namespace ballast
