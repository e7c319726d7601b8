#pragma once
/// The project's error type. Thrown only at start-up and shut-down boundaries (config, data load,
/// output writing), never on the hot path. `main` maps the kind to an exit code.

#include <stdexcept>
#include <string>

#include "ballast/engine/redact.hpp"

namespace ballast {

enum class ErrorKind : unsigned char {
  kUsage,        ///< bad command line or config: exit 2
  kConfig,       ///< bad config: exit 2
  kData,         ///< bad or missing market data: exit 3
  kIo,           ///< file system or network: exit 1
  kInternal,     ///< a bug: exit 1
  kBroker,       ///< the broker refused us (auth failure, blocked account, unreachable): exit 4
  kInterrupted,  ///< stopped by SIGINT or SIGTERM before finishing: exit 130 (main: 128 + signal)
};

class Error : public std::runtime_error {
 public:
  /// The message passes through Redact: no error can carry a registered secret.
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(Redact(message)), kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[nodiscard]] inline int ExitCodeFor(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kConfig:
      return 2;
    case ErrorKind::kData:
      return 3;
    case ErrorKind::kIo:
    case ErrorKind::kInternal:
      return 1;
    case ErrorKind::kBroker:
      return 4;
    case ErrorKind::kInterrupted:
      return 130;
  }
  return 1;
}

}  // namespace ballast
