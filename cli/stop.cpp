#include "stop.hpp"

#include <fmt/format.h>

#include <csignal>

#include "ballast/engine/error.hpp"

namespace ballast::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void OnStopSignal(int sig) {
  g_signal = sig;
  g_stop = true;
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // the second signal takes the default action: the process ends
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A file size limit (ulimit -f) then fails a write with EFBIG, which is reported like a full
  // disk, instead of killing the process halfway through a file.
  std::signal(SIGXFSZ, SIG_IGN);
}

const std::atomic<bool>& StopRequested() noexcept {
  return g_stop;
}

int InterruptedExitCode() noexcept {
  const int sig = g_signal.load();
  return 128 + (sig > 0 ? sig : SIGINT);
}

void ThrowIfStopped(std::string_view what) {
  if (g_stop.load()) {
    throw Error(
        ErrorKind::kInterrupted,
        fmt::format("{} (stopped by {})", what, g_signal.load() == SIGTERM ? "SIGTERM" : "SIGINT"));
  }
}

}  // namespace ballast::cli
