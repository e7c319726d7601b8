#pragma once
/// HTTP(S) requests and WebSocket connections for broker adapters. Beast and OpenSSL stay in
/// http.cpp and ws.cpp; this header is light. TLS verifies certificates against the system CA
/// store (or a CA file the user names) and the host name; plain http:// and ws:// are refused
/// unless the host is a loopback address, so keys never cross a network unencrypted.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ballast/engine/redact.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast::net {

struct Url {
  std::string scheme;  ///< http, https, ws, wss
  std::string host;
  std::string port;
  std::string target;  ///< path (and query), "/" when empty
  [[nodiscard]] bool Tls() const noexcept { return scheme == "https" || scheme == "wss"; }
  [[nodiscard]] bool Loopback() const noexcept;
  [[nodiscard]] std::string Origin() const;  ///< scheme://host:port
};

/// Parses an absolute URL; throws std::invalid_argument naming what is wrong. Plain schemes to a
/// host that is not loopback are refused here.
[[nodiscard]] Url ParseUrl(std::string_view text);

struct TlsOptions {
  std::string ca_file;  ///< extra CA bundle (PEM); empty = system store only
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string body;
  Headers headers;  ///< names lower-cased
  [[nodiscard]] std::string_view Header(std::string_view lower_name) const noexcept;
};

/// The request did not complete (connect, TLS, write or read failed or timed out): the server may
/// or may not have acted on it.
class TransportError : public std::runtime_error {
 public:
  explicit TransportError(const std::string& what) : std::runtime_error(Redact(what)) {}
};

/// Blocking HTTP/1.1 client with one kept-alive connection; each call runs its own private
/// io_context with a deadline, so it never blocks longer than `timeout`.
class HttpClient {
 public:
  HttpClient(TlsOptions tls, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// `target` is the path and query. Throws TransportError; any HTTP status is a response.
  HttpResponse Request(std::string_view method, const Url& origin, std::string_view target,
                       const Headers& headers, std::string_view body = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One WebSocket client connection on the caller's io_context. Handlers run on that context.
/// Text and binary frames are both delivered as text; permessage-deflate is offered.
class WsConnection {
 public:
  struct Handlers {
    std::function<void()> on_open;
    std::function<void(std::string_view)> on_message;
    /// The connection failed or closed. `http_status` is the upgrade's reply status when the
    /// handshake was refused (e.g. 429), else 0.
    std::function<void(const std::string& reason, int http_status)> on_close;
  };
  WsConnection(boost::asio::io_context& io, TlsOptions tls);
  ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  void Connect(const Url& url, Headers headers, Handlers handlers,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Send(std::string text);
  /// Closes without calling on_close.
  void Close();
  [[nodiscard]] bool IsOpen() const noexcept;

 private:
  struct Session;
  boost::asio::io_context& io_;
  TlsOptions tls_;
  std::shared_ptr<Session> session_;
};

}  // namespace ballast::net
