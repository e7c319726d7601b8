// The trade-updates websocket session.
#include <fmt/format.h>

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/engine/run_record.hpp"

namespace ballast::alpaca {

std::string AuthFrame(const Credentials& c) {
  std::string auth = R"({"action":"auth","key":)";
  AppendJsonString(auth, c.key_id);
  auth += R"(,"secret":)";
  AppendJsonString(auth, c.secret);
  auth += "}";
  return auth;
}

std::chrono::milliseconds Backoff::Next(bool slow) {
  ++attempt_;
  const auto base = slow ? std::max(base_, std::chrono::milliseconds(5000)) : base_;
  const int shift = std::min(attempt_ - 1, 16);
  const std::chrono::milliseconds raw =
      std::min<std::chrono::milliseconds>(cap_, base * (std::int64_t{1} << shift));
  const double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(raw.count()) * jitter));
}

struct TradeStream::Timer {
  boost::asio::steady_timer timer;
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
};

TradeStream::TradeStream(boost::asio::io_context& io, const Endpoints& endpoints,
                         Credentials credentials, Handlers handlers, StreamOptions options)
    : url_(net::ParseUrl(endpoints.trading_stream_url)),
      credentials_(std::move(credentials)),
      h_(std::move(handlers)),
      options_(options),
      ws_(io, endpoints.tls),
      timer_(std::make_unique<Timer>(io)),
      backoff_(options.backoff_base, options.backoff_cap, std::random_device{}()) {}

TradeStream::~TradeStream() {
  Stop();
}

void TradeStream::Start() {
  stopped_ = false;
  Connect();
}

void TradeStream::Stop() {
  stopped_ = true;
  ready_ = false;
  timer_->timer.cancel();
  ws_.Close();
}

void TradeStream::Connect() {
  if (stopped_) return;
  ws_.Connect(url_, {},
              net::WsConnection::Handlers{
                  [this] { ws_.Send(AuthFrame(credentials_)); },
                  [this](std::string_view frame) { OnMessage(frame); },
                  [this](const std::string& reason, int status) { OnClosed(reason, status); }},
              options_.connect_timeout);
}

void TradeStream::OnMessage(std::string_view frame) {
  ++messages_;
  ParseError error;
  if (!ParseTradeFrame(frame, msg_, error)) {
    ++malformed_;
    if (h_.on_event) {
      h_.on_event("malformed_message",
                  fmt::format("trade stream: {} ({} bytes dropped)", error.what, frame.size()));
    }
    return;
  }
  switch (msg_.kind) {
    case TradeMessage::Kind::kAuthorization:
      if (msg_.status != "authorized") {
        const std::string why = fmt::format(
            "Alpaca refused the trade stream's authentication ({}{}): check APCA_API_KEY_ID / "
            "APCA_API_SECRET_KEY and that paper keys go to the paper endpoint",
            msg_.status, msg_.auth_message.empty() ? "" : ": " + msg_.auth_message);
        Stop();
        if (h_.on_fatal) h_.on_fatal(why);
        return;
      }
      if (!msg_.auth_message.empty() && h_.on_event) {
        h_.on_event("broker_notice", "trade stream authorization: " + msg_.auth_message);
      }
      ws_.Send(R"({"action":"listen","data":{"streams":["trade_updates"]}})");
      return;
    case TradeMessage::Kind::kListening: {
      const bool again = ever_ready_;
      ready_ = true;
      ever_ready_ = true;
      backoff_.Reset();
      if (h_.on_ready) h_.on_ready(again);
      return;
    }
    case TradeMessage::Kind::kTradeUpdate: {
      // Dedupe: event_id (newer payloads), else the execution id, else event + order + status.
      std::string key = !msg_.event_id.empty() ? msg_.event_id
                        : !msg_.execution_id.empty()
                            ? msg_.execution_id
                            : fmt::format("{}|{}|{}|{}", msg_.event, msg_.order.id,
                                          msg_.order.filled_qty, msg_.timestamp);
      if (!seen_.insert(std::move(key)).second) {
        ++duplicates_;
        return;
      }
      if (h_.on_update) h_.on_update(msg_);
      return;
    }
    case TradeMessage::Kind::kOther:
      return;
  }
}

void TradeStream::OnClosed(const std::string& reason, int http_status) {
  const bool was_ready = ready_;
  ready_ = false;
  if (was_ready && h_.on_down) h_.on_down();
  if (stopped_) return;
  if (http_status == 401 || http_status == 403) {
    Stop();
    if (h_.on_fatal) {
      h_.on_fatal(fmt::format("trade stream upgrade refused with HTTP {}: check the API keys",
                              http_status));
    }
    return;
  }
  ++reconnects_;
  const auto delay = backoff_.Next(http_status == 429 || http_status == 406);
  if (h_.on_event) {
    h_.on_event("stream_disconnected",
                fmt::format("trade stream: {}{}; reconnecting in {} ms (attempt {})", reason,
                            http_status ? fmt::format(" (HTTP {})", http_status) : "",
                            delay.count(), backoff_.Attempts()));
  }
  timer_->timer.expires_after(delay);
  timer_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Connect();
  });
}

}  // namespace ballast::alpaca
