#pragma once
/// A small HTTP server on 127.0.0.1 for whoever runs a live session: `/health`, `/ready` and
/// Prometheus `/metrics`, answered by the session's handler on its io_context (Beast in
/// ops_server.cpp only).

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

class OpsServer {
 public:
  using Handler = std::function<OpsReply(std::string_view path)>;
  /// Listens on 127.0.0.1:`port` (0 = any free port); throws Error(kIo) when it cannot bind.
  OpsServer(boost::asio::io_context& io, unsigned short port, Handler handler);
  ~OpsServer();
  [[nodiscard]] unsigned short Port() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ballast::live
