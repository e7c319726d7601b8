#include "ballast/live/ops_server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ballast/engine/error.hpp"

namespace ballast::live {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Requests are small GETs: a request line, a few headers, no body.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 1024;

OpsReply Answer(const http::request<http::string_body>& req, const OpsServer::Handler& handler) {
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return OpsReply{405, "text/plain; charset=utf-8", "only GET\n"};
  return handler(target);
}

void Fill(http::response<http::string_body>& res, unsigned version, bool keep_alive, OpsReply r) {
  res = {};
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::server, "ballast");
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
}

}  // namespace

struct OpsServer::Impl : std::enable_shared_from_this<OpsServer::Impl> {
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  Handler handler;
  OpsLimits limits;
  std::size_t active = 0;
  std::chrono::milliseconds backoff{0};
  bool stopped = false;
  Impl(asio::io_context& io, Handler h, OpsLimits l)
      : acceptor(io), retry(io), handler(std::move(h)), limits(l) {}

  void Accept();
};

namespace {

struct Connection : std::enable_shared_from_this<Connection> {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
  http::response<http::string_body> res;
  std::shared_ptr<OpsServer::Impl> server;

  Connection(tcp::socket s, std::shared_ptr<OpsServer::Impl> srv)
      : stream(std::move(s)), server(std::move(srv)) {
    ++server->active;
  }
  ~Connection() { --server->active; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Read() {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(kBodyLimit);
    // An idle or slow client (keep-alive or not) holds a connection this long at most.
    stream.expires_after(server->limits.idle_timeout);
    http::async_read(
        stream, buffer, *parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          // Parse errors (the HTTP category) other than the client closing.
          const auto& http_errors = http::make_error_code(http::error::end_of_stream).category();
          if (ec && ec != http::error::end_of_stream && ec.category() == http_errors) {
            // A malformed or oversized request gets a 400 and the connection ends.
            return self->Write(11, false, {400, "text/plain; charset=utf-8", "bad request\n"});
          }
          if (ec) return;
          const auto& req = self->parser->get();
          self->Write(req.version(), req.keep_alive(), Answer(req, self->server->handler));
        });
  }

  void Write(unsigned version, bool keep_alive, OpsReply r) {
    Fill(res, version, keep_alive, std::move(r));
    stream.expires_after(server->limits.idle_timeout);
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

void OpsServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
    if (self->stopped) return;
    if (ec) {
      // Out of file descriptors (EMFILE) and the like: accepting again at once would spin at
      // 100 % CPU. Wait, doubling up to a second, then try again.
      self->backoff = std::clamp(self->backoff * 2, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
      self->retry.expires_after(self->backoff);
      self->retry.async_wait([self](beast::error_code e) {
        if (!e && !self->stopped) self->Accept();
      });
      return;
    }
    self->backoff = std::chrono::milliseconds(0);
    auto c = std::make_shared<Connection>(std::move(s), self);
    if (self->active > self->limits.max_connections) {
      c->Write(11, false, {503, "text/plain; charset=utf-8", "too many connections\n"});
    } else {
      c->Read();
    }
    self->Accept();
  });
}

OpsServer::OpsServer(asio::io_context& io, unsigned short port, Handler handler, OpsLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {
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
  impl_->retry.cancel();
}

unsigned short OpsServer::Port() const noexcept {
  return impl_->acceptor.local_endpoint().port();
}

std::string OpsServer::AnswerRaw(std::string_view request, const Handler& handler) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  beast::error_code ec;
  const std::size_t used = parser.put(asio::buffer(request.data(), request.size()), ec);
  (void)used;
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  http::response<http::string_body> res;
  if (ec || !parser.is_done()) {
    Fill(res, 11, false, {400, "text/plain; charset=utf-8", "bad request\n"});
  } else {
    const auto& req = parser.get();
    Fill(res, req.version(), req.keep_alive(), Answer(req, handler));
  }
  std::ostringstream out;
  out << res;
  return out.str();
}

}  // namespace ballast::live
