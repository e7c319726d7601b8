#include "ballast/engine/clock.hpp"

#include <algorithm>
#include <chrono>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

namespace ballast {

void SimClock::ScheduleAt(Timestamp at, std::function<void()> fn) {
  timers_.push(Timer{at, seq_++, std::move(fn)});
}

void SimClock::AdvanceTo(Timestamp t) {
  if (t > now_) now_ = t;
  while (!timers_.empty() && timers_.top().at <= now_) {
    auto fn = timers_.top().fn;
    timers_.pop();
    fn();
  }
}

WallClock::WallClock(boost::asio::io_context& io) : io_(io) {}
WallClock::~WallClock() = default;

Timestamp WallClock::SyncTo(const std::function<Timestamp()>& read) {
  const Timestamp before = SystemNow();
  const Timestamp reference = read();
  const Timestamp after = SystemNow();
  const Timestamp offset = reference - before - (after - before) / 2;
  SetOffset(offset);
  return offset;
}

Timestamp WallClock::SystemNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Timestamp WallClock::Now() const {
  return SystemNow() + offset_.load();
}

void WallClock::ScheduleAt(Timestamp at, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::system_timer>(io_);
  timer->expires_at(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(at - offset_.load()))));
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ReplayClock::Wait {
  explicit Wait(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

ReplayClock::ReplayClock(boost::asio::io_context& io, Timestamp start, double speed,
                         std::function<bool()> idle)
    : io_(io),
      start_(start),
      speed_(speed),
      idle_(std::move(idle)),
      steady_start_ns_(SteadyNs()),
      now_(start),
      wait_(std::make_unique<Wait>(io)) {}

ReplayClock::~ReplayClock() = default;

Timestamp ReplayClock::Now() const {
  if (speed_ <= 0.0) return now_;
  return start_ +
         static_cast<Timestamp>(static_cast<double>(SteadyNs() - steady_start_ns_) * speed_);
}

void ReplayClock::JumpTo(Timestamp t) {
  start_ = t;
  steady_start_ns_ = SteadyNs();
  if (t > now_) now_ = t;
}

void ReplayClock::Restart() {
  steady_start_ns_ = SteadyNs();
}

void ReplayClock::ScheduleAt(Timestamp at, std::function<void()> fn) {
  if (speed_ > 0.0) {
    const double delay_ns = std::max(0.0, static_cast<double>(at - Now()) / speed_);
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    timer->expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(delay_ns)));
    timer->async_wait([this, at, timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (ec) return;
      // A timer serviced late (the loop slower than the pace) holds the replay at its time:
      // replayed time slows down rather than running past work not done yet.
      if (Now() > at) {
        start_ = at;
        steady_start_ns_ = SteadyNs();
      }
      fn();
    });
    return;
  }
  timers_.push(Timer{at, seq_++, std::move(fn)});
  if (!pumping_) {
    pumping_ = true;
    boost::asio::post(io_, [this] { Pump(); });
  }
}

void ReplayClock::Pump() {
  if (timers_.empty()) {
    pumping_ = false;
    return;
  }
  if (idle_ && !idle_()) {
    wait_->timer.expires_after(std::chrono::milliseconds(1));
    wait_->timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Pump();
    });
    return;
  }
  Timer t = timers_.top();
  timers_.pop();
  if (t.at > now_) now_ = t.at;
  t.fn();
  boost::asio::post(io_, [this] { Pump(); });
}

}  // namespace ballast
