#include "ballast/live/ops_server.hpp"

#include <fmt/format.h>

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ballast/engine/error.hpp"

namespace ballast::live {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Connection : std::enable_shared_from_this<Connection> {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
  OpsServer::Handler handler;

  Connection(tcp::socket s, const OpsServer::Handler& h) : stream(std::move(s)), handler(h) {}

  void Read() {
    req = {};
    stream.expires_after(std::chrono::seconds(30));
    http::async_read(stream, buffer, req,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       self->Reply();
                     });
  }

  void Reply() {
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    OpsReply r;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      r = OpsReply{405, "text/plain; charset=utf-8", "only GET\n"};
    } else {
      r = handler(target);
    }
    res = {};
    res.version(req.version());
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::server, "ballast");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    http::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!self->res.keep_alive()) {
        beast::error_code ignored;
        self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->Read();
    });
  }
};

}  // namespace

struct OpsServer::Impl : std::enable_shared_from_this<OpsServer::Impl> {
  tcp::acceptor acceptor;
  Handler handler;
  bool stopped = false;
  Impl(asio::io_context& io, Handler h) : acceptor(io), handler(std::move(h)) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (self->stopped) return;
      if (!ec) std::make_shared<Connection>(std::move(s), self->handler)->Read();
      self->Accept();
    });
  }
};

OpsServer::OpsServer(asio::io_context& io, unsigned short port, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(handler))) {
  beast::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, fmt::format("metrics server: cannot listen on 127.0.0.1:{}: {}",
                                            port, ec.message()));
  }
  impl_->Accept();
}

OpsServer::~OpsServer() {
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

unsigned short OpsServer::Port() const noexcept {
  return impl_->acceptor.local_endpoint().port();
}

}  // namespace ballast::live
