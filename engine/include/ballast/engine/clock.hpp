#pragma once
/// The clock seam. Nothing outside WallClock reads the system clock: backtests advance a SimClock
/// with the data, live runs use the wall clock, and timers fire as events in both.

#include <atomic>
#include <functional>
#include <memory>
#include <queue>
#include <vector>

#include "ballast/engine/time.hpp"

namespace boost::asio {
class io_context;
}

namespace ballast {

namespace detail {
/// A timer of a clock that fires them itself (SimClock, ReplayClock at full speed): in time
/// order, ties in scheduling order.
struct ClockTimer {
  Timestamp at;
  std::uint64_t seq;
  std::function<void()> fn;
};
struct ClockTimerLater {
  bool operator()(const ClockTimer& a, const ClockTimer& b) const noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};
using TimerQueue = std::priority_queue<ClockTimer, std::vector<ClockTimer>, ClockTimerLater>;
}  // namespace detail

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Timestamp Now() const = 0;
  /// Runs `fn` once when the clock reaches `at` (immediately on the next advance if already past).
  virtual void ScheduleAt(Timestamp at, std::function<void()> fn) = 0;
  /// Step 3 of a slice: fire the timers due at the slice's time. A simulated clock also moves to
  /// it; the wall clock fires its timers from the io_context and does nothing here.
  virtual void FireDue(Timestamp slice_time) = 0;
};

/// Advanced by the data: the kernel moves it to each slice's timestamp, firing due timers in time
/// order (ties in scheduling order).
class SimClock final : public Clock {
 public:
  [[nodiscard]] Timestamp Now() const override { return now_; }
  void ScheduleAt(Timestamp at, std::function<void()> fn) override;
  void FireDue(Timestamp slice_time) override { AdvanceTo(slice_time); }
  /// Moves time forward to `t` and fires every timer due at or before it.
  void AdvanceTo(Timestamp t);
  [[nodiscard]] std::size_t PendingTimers() const noexcept { return timers_.size(); }

 private:
  using Timer = detail::ClockTimer;
  Timestamp now_ = 0;
  std::uint64_t seq_ = 0;
  detail::TimerQueue timers_;
};

/// The system clock, with timers on the given io_context.
class WallClock final : public Clock {
 public:
  explicit WallClock(boost::asio::io_context& io);
  ~WallClock() override;
  /// The system time plus the offset.
  [[nodiscard]] Timestamp Now() const override;
  void ScheduleAt(Timestamp at, std::function<void()> fn) override;
  void FireDue(Timestamp) override {}
  /// Keep time by a reference clock (a live session: the broker's): Now() = system + offset.
  void SetOffset(Timestamp offset_ns) noexcept { offset_.store(offset_ns); }
  /// Reads a reference clock with `read` (a broker's clock, over the network) and keeps time by
  /// it: the offset is the reference minus the system time halfway through the read. Returns
  /// the offset.
  Timestamp SyncTo(const std::function<Timestamp()>& read);
  [[nodiscard]] Timestamp Offset() const noexcept { return offset_.load(); }
  /// The system time, for the few callers outside a run (naming an output directory).
  [[nodiscard]] static Timestamp SystemNow();

 private:
  boost::asio::io_context& io_;
  std::atomic<Timestamp> offset_{0};
};

/// Replayed time for paper trading on history: starts at `start` and runs `speed` times as fast
/// as the system clock, with timers on the io_context (a timer serviced late holds the replay at
/// its time: when the loop cannot keep the pace, replayed time slows down rather than skipping
/// work); or, with speed 0 ("as fast as possible"),
/// jumps to the next timer as soon as `idle()` says nothing is in flight (orders out, fills to
/// come), so a replay never skips ahead of its own work.
class ReplayClock final : public Clock {
 public:
  ReplayClock(boost::asio::io_context& io, Timestamp start, double speed,
              std::function<bool()> idle = {});
  ~ReplayClock() override;
  [[nodiscard]] Timestamp Now() const override;
  void ScheduleAt(Timestamp at, std::function<void()> fn) override;
  void FireDue(Timestamp) override {}
  [[nodiscard]] double Speed() const noexcept { return speed_; }
  /// Moves the replay forward to `t` (a resumed replay, before any timer is set).
  void JumpTo(Timestamp t);
  /// Paced: the time spent so far (start-up) does not count; the replay starts now.
  void Restart();

 private:
  using Timer = detail::ClockTimer;
  struct Wait;
  /// As fast as possible: fire the earliest timer once idle (re-checked every millisecond).
  void Pump();

  boost::asio::io_context& io_;
  Timestamp start_;
  double speed_;
  std::function<bool()> idle_;
  std::int64_t steady_start_ns_;
  Timestamp now_;  // speed 0
  std::uint64_t seq_ = 0;
  detail::TimerQueue timers_;
  std::unique_ptr<Wait> wait_;
  bool pumping_ = false;
};

}  // namespace ballast
