#pragma once
// Log formats: text lines (`level: message`, the default) or, with `--log-format json`, one JSON
// object per line on stderr for log collectors (Loki, CloudWatch, journald's JSON export). Both
// pass every line through Redact, so no registered secret reaches a log.

namespace ballast::cli {

/// Text lines `level: message` on the default logger (stdout), redacted.
void UseTextLogs();
/// Replaces the default logger's sink with stderr and a formatter that writes
/// {"time":"2026-11-23T15:45:00.123Z","level":"info","msg":"..."} per line.
void UseJsonLogs();

}  // namespace ballast::cli
