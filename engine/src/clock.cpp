#include "ballast/engine/clock.hpp"

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
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

}  // namespace ballast
