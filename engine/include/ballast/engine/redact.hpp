#pragma once
/// The one redaction point: secret values (API keys) are registered when they are read, and
/// every text bound for a log line, an error message, an event or a file passes through Redact,
/// so a broker reply that echoes our request headers cannot put a key on a screen or a disk.
/// Thread-safe.

#include <string>
#include <string_view>

namespace ballast {

/// Registers `value` as a secret (values shorter than 4 characters are ignored: too common).
void RegisterSecret(std::string_view value);
/// `text` with every occurrence of a registered secret replaced by "[redacted]".
[[nodiscard]] std::string Redact(std::string_view text);

}  // namespace ballast
