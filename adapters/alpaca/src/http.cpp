#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "ballast/adapters/alpaca/net.hpp"
#include "loopback.hpp"
#include "tls.hpp"

namespace ballast::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

bool Url::Loopback() const noexcept {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(h, ec);
  if (!ec) return address.is_loopback();
  std::transform(h.begin(), h.end(), h.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The one name that always means loopback (RFC 6761); what it resolves to is checked again
  // when connecting.
  return h == "localhost";
}

std::string Url::Origin() const {
  return fmt::format("{}://{}:{}", scheme, host, port);
}

Url ParseUrl(std::string_view text) {
  Url u;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    throw std::invalid_argument(fmt::format("'{}' is not an absolute URL (scheme://host)", text));
  }
  u.scheme = std::string(text.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss") {
    throw std::invalid_argument(fmt::format("'{}': scheme must be http, https, ws or wss", text));
  }
  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  u.port = u.Tls() ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      throw std::invalid_argument(fmt::format("'{}': unclosed '[' in the host", text));
    u.host = std::string(authority.substr(0, close + 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        throw std::invalid_argument(fmt::format("'{}': expected ':port' after ']'", text));
      u.port = std::string(after.substr(1));
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty()) throw std::invalid_argument(fmt::format("'{}' has no host", text));
  int port = 0;
  const auto [ptr, ec] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
  if (ec != std::errc() || ptr != u.port.data() + u.port.size() || port < 1 || port > 65535) {
    throw std::invalid_argument(
        fmt::format("'{}': port '{}' is not a TCP port (1-65535)", text, u.port));
  }
  if (!u.Tls() && !u.Loopback()) {
    throw std::invalid_argument(
        fmt::format("'{}': plain {} is only allowed to loopback addresses; use {}s://", text,
                    u.scheme, u.scheme));
  }
  return u;
}

std::string_view HttpResponse::Header(std::string_view lower_name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

struct HttpClient::Impl {
  TlsOptions tls_options;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  ssl::context ssl{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  std::string connected;  // origin of the open connection, empty when none
  beast::flat_buffer buffer;

  Impl(TlsOptions t, std::chrono::milliseconds to) : tls_options(std::move(t)), timeout(to) {
    ssl.set_default_verify_paths();
    if (!tls_options.ca_file.empty()) ssl.load_verify_file(tls_options.ca_file);
    ssl.set_verify_mode(ssl::verify_peer);
  }

  /// Runs the posted operation to completion (or the stream's deadline).
  beast::error_code Run(beast::error_code& ec) {
    io.restart();
    io.run();
    return ec;
  }

  void Reset() {
    plain.reset();
    secure.reset();
    connected.clear();
    buffer.clear();
  }

  void Connect(const Url& url) {
    Reset();
    beast::error_code ec;
    asio::ip::tcp::resolver resolver(io);
    asio::ip::tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port, [&](beast::error_code e, auto results) {
      ec = e;
      endpoints = std::move(results);
    });
    if (Run(ec)) throw TransportError(fmt::format("resolve {}: {}", url.host, ec.message()));
    if (!url.Tls()) {
      if (const auto bad = detail::FirstNonLoopback(endpoints); !bad.empty()) {
        throw TransportError(
            fmt::format("plain {} to {}: it resolves to {}, not a loopback "
                        "address; use {}s://",
                        url.scheme, url.host, bad, url.scheme));
      }
    }
    beast::tcp_stream* tcp = nullptr;
    if (url.Tls()) {
      secure.emplace(io, ssl);
      tcp = &secure->next_layer();
      if (!ExpectPeer(secure->native_handle(), url.host)) {
        throw TransportError(fmt::format("TLS: cannot check the certificate for {}", url.host));
      }
    } else {
      plain.emplace(io);
      tcp = &*plain;
    }
    tcp->expires_after(timeout);
    tcp->async_connect(endpoints, [&](beast::error_code e, auto) { ec = e; });
    if (Run(ec)) {
      throw TransportError(fmt::format("connect {}:{}: {}", url.host, url.port, ec.message()));
    }
    if (secure) {
      tcp->expires_after(timeout);
      secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      if (Run(ec)) {
        throw TransportError(TlsHandshakeFailure(secure->native_handle(), url.host, ec));
      }
    }
    connected = url.Origin();
  }

  template <typename Stream>
  HttpResponse Exchange(Stream& stream, beast::tcp_stream& tcp,
                        http::request<http::string_body>& req, bool& sent) {
    beast::error_code ec;
    tcp.expires_after(timeout);
    http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    if (Run(ec)) throw TransportError(fmt::format("write: {}", ec.message()));
    sent = true;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    tcp.expires_after(timeout);
    http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    if (Run(ec)) throw TransportError(fmt::format("read: {}", ec.message()));
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (!res.keep_alive()) Reset();
    return out;
  }
};

HttpClient::HttpClient(TlsOptions tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(tls), timeout)) {}
HttpClient::~HttpClient() = default;

HttpResponse HttpClient::Request(std::string_view method, const Url& origin,
                                 std::string_view target, const Headers& headers,
                                 std::string_view body) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(beast::string_view(method.data(), method.size())));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, origin.host);
  req.set(http::field::user_agent, "ballast");
  req.keep_alive(true);
  for (const auto& [k, v] : headers)
    req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();
  // A kept-alive connection may have been closed by the server since the last call: retry once on
  // a fresh connection when nothing of this request was written.
  for (int attempt = 0;; ++attempt) {
    const bool reused = impl_->connected == origin.Origin();
    if (!reused) impl_->Connect(origin);
    bool sent = false;
    try {
      return impl_->secure ? impl_->Exchange(*impl_->secure, impl_->secure->next_layer(), req, sent)
                           : impl_->Exchange(*impl_->plain, *impl_->plain, req, sent);
    } catch (const TransportError&) {
      impl_->Reset();
      // A reused connection that the server closed fails on the read with nothing processed
      // only if the server had closed it before; for idempotent methods that is safe to retry.
      const bool idempotent = method == "GET" || method == "DELETE";
      if (attempt == 0 && reused && (!sent || idempotent)) continue;
      throw;
    }
  }
}

}  // namespace ballast::net
