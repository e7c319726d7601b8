// The market-data websocket session.
#include <fmt/format.h>

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ballast/adapters/alpaca/streams.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/run_record.hpp"

namespace ballast::alpaca {

struct DataStream::Timers {
  boost::asio::steady_timer reconnect;
  boost::asio::steady_timer watchdog;
  explicit Timers(boost::asio::io_context& io) : reconnect(io), watchdog(io) {}
};

std::string DataStream::Url(const Endpoints& e) {
  return e.data_stream_url.empty() ? "wss://stream.data.alpaca.markets/v2/" + e.feed
                                   : e.data_stream_url;
}

DataStream::DataStream(boost::asio::io_context& io, const Clock& clock, const Endpoints& endpoints,
                       Credentials credentials, std::vector<std::string> symbols, Handlers handlers,
                       StreamOptions options)
    : clock_(clock),
      url_(net::ParseUrl(Url(endpoints))),
      credentials_(std::move(credentials)),
      symbols_(std::move(symbols)),
      h_(std::move(handlers)),
      options_(options),
      ws_(io, endpoints.tls),
      timers_(std::make_unique<Timers>(io)),
      backoff_(options.backoff_base, options.backoff_cap, std::random_device{}()) {}

DataStream::~DataStream() {
  Stop();
}

void DataStream::Start() {
  stopped_ = false;
  Connect();
  Watchdog();
}

void DataStream::Stop() {
  stopped_ = true;
  ready_ = false;
  timers_->reconnect.cancel();
  timers_->watchdog.cancel();
  ws_.Close();
}

void DataStream::Connect() {
  if (stopped_) return;
  slow_ = false;
  ws_.Connect(url_, {},
              net::WsConnection::Handlers{
                  {},  // the server speaks first: [{"T":"success","msg":"connected"}]
                  [this](std::string_view frame) { OnMessage(frame); },
                  [this](const std::string& reason, int status) { OnClosed(reason, status); }},
              options_.connect_timeout);
}

void DataStream::OnMessage(std::string_view frame) {
  ++messages_;
  ParseError error;
  const bool ok = ParseDataFrame(frame, batch_, error);
  if (!ok) {
    ++malformed_;
    if (h_.on_event) {
      h_.on_event("malformed_message",
                  fmt::format("data stream: {} ({} bytes; {} valid messages before it kept)",
                              error.what, frame.size(), batch_.size()));
    }
  }
  for (const DataMessage& m : batch_) {
    switch (m.kind) {
      case DataMessage::Kind::kSuccess:
        if (m.msg == "connected") {
          ws_.Send(AuthFrame(credentials_));
        } else if (m.msg == "authenticated") {
          std::string list;
          for (const auto& s : symbols_) {
            if (!list.empty()) list += ",";
            AppendJsonString(list, s);
          }
          ws_.Send(fmt::format(
              R"({{"action":"subscribe","bars":[{0}],"dailyBars":[{0}],"updatedBars":[{0}]}})",
              list));
        }
        break;
      case DataMessage::Kind::kSubscription:
        if (!ready_) {
          ready_ = true;
          backoff_.Reset();
          last_data_ = clock_.Now();
          if (h_.on_ready) h_.on_ready();
        }
        break;
      case DataMessage::Kind::kError: {
        // 402 auth failed, 409 insufficient subscription, 410/411: fatal. 406 connection limit:
        // retry later (Alpaca keeps a dropped session ~90 s). Others: log and reconnect.
        const bool fatal = m.code == 401 || m.code == 402 || m.code == 409 || m.code == 410 ||
                           m.code == 411 || m.code == 408;
        if (fatal) {
          Stop();
          if (h_.on_fatal) {
            h_.on_fatal(fmt::format("Alpaca market data stream error {} ({}){}", m.code, m.msg,
                                    m.code == 402 ? ": check APCA_API_KEY_ID / APCA_API_SECRET_KEY"
                                    : m.code == 409
                                        ? ": the feed needs a subscription; try feed \"iex\""
                                        : ""));
          }
          return;
        }
        if (h_.on_event) {
          h_.on_event("stream_error", fmt::format("data stream error {}: {}", m.code, m.msg));
        }
        if (m.code == 406 || m.code == 407 || m.code == 500) {
          slow_ = m.code == 406;
          ws_.Close();
          OnClosed(fmt::format("error {} {}", m.code, m.msg), 0);
          return;
        }
        break;
      }
      case DataMessage::Kind::kBar:
      case DataMessage::Kind::kUpdatedBar:
      case DataMessage::Kind::kDailyBar:
      case DataMessage::Kind::kTrade:
        last_data_ = clock_.Now();
        if (h_.on_data) h_.on_data(m);
        break;
      case DataMessage::Kind::kOther:
        break;
    }
  }
}

void DataStream::OnClosed(const std::string& reason, int http_status) {
  ready_ = false;
  if (stopped_) return;
  if (http_status == 401 || http_status == 403) {
    Stop();
    if (h_.on_fatal) {
      h_.on_fatal(
          fmt::format("data stream upgrade refused with HTTP {}: check the API keys", http_status));
    }
    return;
  }
  ++reconnects_;
  const auto delay = backoff_.Next(slow_ || http_status == 429 || http_status == 406);
  if (h_.on_event) {
    h_.on_event("stream_disconnected",
                fmt::format("data stream: {}{}; reconnecting in {} ms (attempt {})", reason,
                            http_status ? fmt::format(" (HTTP {})", http_status) : "",
                            delay.count(), backoff_.Attempts()));
  }
  timers_->reconnect.expires_after(delay);
  timers_->reconnect.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Connect();
  });
}

void DataStream::Watchdog() {
  const auto period = std::max(std::chrono::milliseconds(100), options_.stale_after / 4);
  timers_->watchdog.expires_after(period);
  timers_->watchdog.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    const Timestamp now = clock_.Now();
    const auto stale_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.stale_after).count();
    if (ready_ && last_data_ != 0 && now - last_data_ > stale_ns && h_.market_open &&
        h_.market_open()) {
      if (h_.on_event) {
        h_.on_event("stale_data",
                    fmt::format("data stream: no data for {:.1f} s during market hours; "
                                "reconnecting",
                                static_cast<double>(now - last_data_) / 1e9));
      }
      ws_.Close();
      last_data_ = now;  // one reconnect per stale period
      OnClosed("stale", 0);
    }
    Watchdog();
  });
}

}  // namespace ballast::alpaca
