#pragma once
/// SIGINT and SIGTERM for every command: the first asks the command to stop at its next safe point
/// (a command that writes removes what it had not finished and exits 128 + the signal's number); a
/// second one of the same signal ends the process at once, and the next run into the same target
/// removes what it left.

#include <atomic>
#include <string_view>

namespace ballast::cli {

/// Installs the handlers (once, at start); also ignores SIGXFSZ so that a file size limit is an
/// error the command reports.
void InstallStopHandlers();
/// Set once SIGINT or SIGTERM arrived.
[[nodiscard]] const std::atomic<bool>& StopRequested() noexcept;
/// 128 + the signal that asked to stop (130 for SIGINT, 143 for SIGTERM); 130 when none did.
[[nodiscard]] int InterruptedExitCode() noexcept;
/// Throws Error(kInterrupted) mentioning `what` when a stop was requested.
void ThrowIfStopped(std::string_view what);

}  // namespace ballast::cli
