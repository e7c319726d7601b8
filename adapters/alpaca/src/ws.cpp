// WebSocket client connections (Beast), plain to loopback or TLS with verification.
#include <fmt/format.h>

#include <deque>
#include <optional>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "ballast/adapters/alpaca/net.hpp"
#include "loopback.hpp"
#include "tls.hpp"

namespace ballast::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;

struct WsConnection::Session : std::enable_shared_from_this<WsConnection::Session> {
  using PlainWs = websocket::stream<beast::tcp_stream>;
  using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  asio::io_context& io;
  ssl::context ssl{ssl::context::tls_client};
  asio::ip::tcp::resolver resolver;
  std::optional<PlainWs> plain;
  std::optional<TlsWs> secure;
  Url url;
  Headers headers;
  Handlers handlers;
  std::chrono::milliseconds timeout;
  beast::flat_buffer buffer;
  websocket::response_type upgrade;
  std::deque<std::string> outbox;
  bool open = false;
  bool closed = false;  // Close() was called or on_close fired: no more callbacks

  Session(asio::io_context& i, const TlsOptions& tls) : io(i), resolver(i) {
    ssl.set_default_verify_paths();
    if (!tls.ca_file.empty()) ssl.load_verify_file(tls.ca_file);
    ssl.set_verify_mode(ssl::verify_peer);
  }

  beast::tcp_stream& Tcp() {
    return secure ? beast::get_lowest_layer(*secure) : beast::get_lowest_layer(*plain);
  }

  template <typename F>
  void WithWs(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  void Fail(const std::string& what, beast::error_code ec, int status = 0) {
    FailWith(fmt::format("{}: {}", what, ec.message()), status);
  }

  void FailWith(const std::string& message, int status = 0) {
    if (closed) return;
    closed = true;
    open = false;
    beast::error_code ignored;
    Tcp().socket().close(ignored);
    if (handlers.on_close) handlers.on_close(message, status);
  }

  void Start() {
    if (url.Tls()) {
      secure.emplace(io, ssl);
      if (!ExpectPeer(secure->next_layer().native_handle(), url.host)) {
        asio::post(io, [self = shared_from_this()] {
          self->FailWith("TLS: cannot check the certificate for " + self->url.host);
        });
        return;
      }
    } else {
      plain.emplace(io);
    }
    WithWs([](auto& ws) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws.set_option(pmd);
      ws.read_message_max(64u << 20);
    });
    auto self = shared_from_this();
    resolver.async_resolve(url.host, url.port, [self](beast::error_code ec, auto results) {
      if (ec) return self->Fail("resolve " + self->url.host, ec);
      if (!self->url.Tls()) {
        if (const auto bad = detail::FirstNonLoopback(results); !bad.empty()) {
          return self->FailWith(
              fmt::format("plain {} to {}: it resolves to {}, not a loopback "
                          "address",
                          self->url.scheme, self->url.host, bad));
        }
      }
      self->Tcp().expires_after(self->timeout);
      self->Tcp().async_connect(results, [self](beast::error_code e, auto) { self->OnConnect(e); });
    });
  }

  void OnConnect(beast::error_code ec) {
    if (closed) return;
    if (ec) return Fail(fmt::format("connect {}:{}", url.host, url.port), ec);
    auto self = shared_from_this();
    if (secure) {
      Tcp().expires_after(timeout);
      secure->next_layer().async_handshake(ssl::stream_base::client, [self](beast::error_code e) {
        if (e) {
          return self->FailWith(
              TlsHandshakeFailure(self->secure->next_layer().native_handle(), self->url.host, e));
        }
        self->Handshake();
      });
    } else {
      Handshake();
    }
  }

  void Handshake() {
    if (closed) return;
    Tcp().expires_never();
    auto self = shared_from_this();
    WithWs([&](auto& ws) {
      ws.set_option(websocket::stream_base::timeout{timeout, std::chrono::seconds(20), true});
      ws.set_option(websocket::stream_base::decorator([h = headers](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "ballast");
        for (const auto& [k, v] : h)
          req.set(k, v);
      }));
      const std::string host = url.host + ":" + url.port;
      ws.async_handshake(upgrade, host, url.target, [self](beast::error_code e) {
        if (e) {
          return self->Fail("websocket upgrade " + self->url.target, e,
                            static_cast<int>(self->upgrade.result_int()));
        }
        if (self->closed) return;
        self->open = true;
        if (self->handlers.on_open) self->handlers.on_open();
        self->Read();
      });
    });
  }

  void Read() {
    if (closed) return;
    auto self = shared_from_this();
    WithWs([&](auto& ws) {
      ws.async_read(buffer, [self](beast::error_code e, std::size_t) {
        if (self->closed) return;
        if (e) return self->Fail("websocket read", e);
        const auto data = self->buffer.cdata();
        const std::string_view text(static_cast<const char*>(data.data()), data.size());
        if (self->handlers.on_message) self->handlers.on_message(text);
        self->buffer.consume(self->buffer.size());
        self->Read();
      });
    });
  }

  void Write() {
    if (closed || outbox.empty()) return;
    auto self = shared_from_this();
    WithWs([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(outbox.front()), [self](beast::error_code e, std::size_t) {
        if (self->closed) return;
        if (e) return self->Fail("websocket write", e);
        self->outbox.pop_front();
        self->Write();
      });
    });
  }
};

WsConnection::WsConnection(asio::io_context& io, TlsOptions tls) : io_(io), tls_(std::move(tls)) {}

WsConnection::~WsConnection() {
  Close();
}

void WsConnection::Connect(const Url& url, Headers headers, Handlers handlers,
                           std::chrono::milliseconds timeout) {
  Close();
  session_ = std::make_shared<Session>(io_, tls_);
  session_->url = url;
  session_->headers = std::move(headers);
  session_->handlers = std::move(handlers);
  session_->timeout = timeout;
  session_->Start();
}

void WsConnection::Send(std::string text) {
  if (!session_ || !session_->open) return;
  const bool idle = session_->outbox.empty();
  session_->outbox.push_back(std::move(text));
  if (idle) session_->Write();
}

void WsConnection::Close() {
  if (!session_) return;
  auto s = std::move(session_);
  s->closed = true;
  s->open = false;
  beast::error_code ignored;
  s->resolver.cancel();
  s->Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  s->Tcp().socket().close(ignored);
}

bool WsConnection::IsOpen() const noexcept {
  return session_ && session_->open;
}

}  // namespace ballast::net
