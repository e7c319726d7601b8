#pragma once
// `--log-format json`: every log line as one JSON object on stderr, for log collectors
// (Loki, CloudWatch, journald's JSON export). Text stays the default.

namespace ballast::cli {

/// Replaces the default logger's sink with stderr and a formatter that writes
/// {"time":"2026-11-23T15:45:00.123Z","level":"info","msg":"..."} per line.
void UseJsonLogs();

}  // namespace ballast::cli
