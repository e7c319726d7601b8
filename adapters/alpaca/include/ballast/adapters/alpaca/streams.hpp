#pragma once
/// Alpaca's two websockets, each on the io_context it is given (an IoThread's in a session):
/// trade updates (orders are only sent while it is up) and market data. Both reconnect on their own
/// with capped exponential backoff plus jitter (longer after a 406 or 429), re-authenticate and
/// resubscribe, and report every fault as an event through `on_event`; an authentication failure is
/// fatal (`on_fatal`).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ballast/adapters/alpaca/messages.hpp"
#include "ballast/adapters/alpaca/net.hpp"
#include "ballast/adapters/alpaca/rest.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast::alpaca {

/// Delay before reconnect attempt n (1-based): min(cap, base * 2^(n-1)), scaled by a uniform
/// jitter in [0.5, 1]; `slow` (406 / 429) starts at 5 s, since Alpaca keeps a dead session ~90 s.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
      : base_(base), cap_(cap), rng_(seed) {}
  std::chrono::milliseconds Next(bool slow);
  void Reset() noexcept { attempt_ = 0; }
  [[nodiscard]] int Attempts() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds base_, cap_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

/// {"action":"auth","key":...,"secret":...}: the data stream's auth, and the trade stream's
/// current form (the old `authenticate` form is deprecated in 2026).
[[nodiscard]] std::string AuthFrame(const Credentials& credentials);

struct StreamOptions {
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  /// Data stream: reconnect when no data message arrived for this long while `market_open()`.
  std::chrono::milliseconds stale_after{120'000};
};

using StreamEventFn = std::function<void(std::string_view kind, const std::string& detail)>;

class TradeStream {
 public:
  struct Handlers {
    /// Authenticated and listening. `reconnected` after a drop: reconcile orders since the last
    /// event, as updates sent while disconnected are not replayed.
    std::function<void(bool reconnected)> on_ready;
    std::function<void(const TradeMessage&)> on_update;  ///< deduplicated
    std::function<void()> on_down;
    StreamEventFn on_event;
    std::function<void(const std::string&)> on_fatal;
  };
  TradeStream(boost::asio::io_context& io, const Endpoints& endpoints, Credentials credentials,
              Handlers handlers, StreamOptions options = {});
  ~TradeStream();
  void Start();
  void Stop();
  [[nodiscard]] bool Ready() const noexcept { return ready_; }
  [[nodiscard]] std::uint64_t Reconnects() const noexcept { return reconnects_; }
  [[nodiscard]] std::uint64_t Malformed() const noexcept { return malformed_; }
  [[nodiscard]] std::uint64_t Messages() const noexcept { return messages_; }
  [[nodiscard]] std::uint64_t Duplicates() const noexcept { return duplicates_; }

 private:
  void Connect();
  void OnMessage(std::string_view frame);
  void OnClosed(const std::string& reason, int http_status);

  struct Timer;
  net::Url url_;
  Credentials credentials_;
  Handlers h_;
  StreamOptions options_;
  net::WsConnection ws_;
  std::unique_ptr<Timer> timer_;
  Backoff backoff_;
  TradeMessage msg_;
  std::unordered_set<std::string> seen_;
  // Read from other threads (the session's, when the stream runs on an IoThread).
  std::atomic<bool> ready_ = false;
  bool stopped_ = true;
  bool ever_ready_ = false;
  std::atomic<std::uint64_t> reconnects_ = 0, malformed_ = 0, messages_ = 0, duplicates_ = 0;
};

class DataStream {
 public:
  struct Handlers {
    std::function<void()> on_ready;                   ///< authenticated and subscribed
    std::function<void(const DataMessage&)> on_data;  ///< bars, updated bars, daily bars, trades
    StreamEventFn on_event;
    std::function<void(const std::string&)> on_fatal;
    /// True during regular trading hours (the stale-data watchdog only runs then).
    std::function<bool()> market_open;
  };
  /// `clock` stamps each data message's arrival and drives the stale-data watchdog (a
  /// session's WallClock; read on the stream's thread, so it must be safe there).
  DataStream(boost::asio::io_context& io, const Clock& clock, const Endpoints& endpoints,
             Credentials credentials, std::vector<std::string> symbols, Handlers handlers,
             StreamOptions options = {});
  ~DataStream();
  void Start();
  void Stop();
  [[nodiscard]] bool Ready() const noexcept { return ready_; }
  [[nodiscard]] std::uint64_t Reconnects() const noexcept { return reconnects_; }
  [[nodiscard]] std::uint64_t Malformed() const noexcept { return malformed_; }
  [[nodiscard]] std::uint64_t Messages() const noexcept { return messages_; }
  /// The clock's time at the last data message (0 before any).
  [[nodiscard]] Timestamp LastData() const noexcept { return last_data_; }
  /// The URL the stream connects to (endpoint or default per feed).
  [[nodiscard]] static std::string Url(const Endpoints& endpoints);

 private:
  void Connect();
  void OnMessage(std::string_view frame);
  void OnClosed(const std::string& reason, int http_status);
  void Watchdog();

  struct Timers;
  const Clock& clock_;
  net::Url url_;
  Credentials credentials_;
  std::vector<std::string> symbols_;
  Handlers h_;
  StreamOptions options_;
  net::WsConnection ws_;
  std::unique_ptr<Timers> timers_;
  Backoff backoff_;
  std::vector<DataMessage> batch_;
  // Read from other threads (the session's, when the stream runs on an IoThread).
  std::atomic<bool> ready_ = false;
  bool stopped_ = true;
  bool slow_ = false;
  std::atomic<std::uint64_t> reconnects_ = 0, malformed_ = 0, messages_ = 0;
  std::atomic<Timestamp> last_data_ = 0;
};

}  // namespace ballast::alpaca
