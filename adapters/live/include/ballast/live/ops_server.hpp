#pragma once
/// A small HTTP server on 127.0.0.1 for whoever runs a live session: `/health`, `/ready` and
/// Prometheus `/metrics`, answered by the session's handler on its io_context (Beast in
/// ops_server.cpp only).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace ballast::live {

struct OpsReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// What one client may hold: past `max_connections` open connections a new one gets 503 and is
/// closed; a connection idle (or sending slowly) for `idle_timeout` is closed.
struct OpsLimits {
  std::size_t max_connections = 64;
  std::chrono::milliseconds idle_timeout{10'000};
};

class OpsServer {
 public:
  using Handler = std::function<OpsReply(std::string_view path)>;
  /// Listens on 127.0.0.1:`port` (0 = any free port); throws Error(kIo) when it cannot bind.
  /// Accept errors (out of file descriptors) are retried after a growing pause, never in a loop.
  OpsServer(boost::asio::io_context& io, unsigned short port, Handler handler,
            OpsLimits limits = {});
  ~OpsServer();
  [[nodiscard]] unsigned short Port() const noexcept;
  /// The whole reply (status line, headers, body) the server sends to the bytes `request`: the
  /// same parser limits and answers as on a socket, for tests and the fuzzer.
  [[nodiscard]] static std::string AnswerRaw(std::string_view request, const Handler& handler);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ballast::live
