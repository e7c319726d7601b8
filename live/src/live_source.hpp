#pragma once
// The live session's EventSource: where a live (or replayed) session's slices come from. The
// kernel gets a slice of today's panel row at each scheduled check (the session has just loaded
// the row from the broker's daily bars and the stream: Check), and between checks whenever the
// market-data stream moved today's prices (Watch), at most once per `watch_seconds`, so rules
// that watch prices (drift bands) see them. The panel has one row per session day: a watch slice
// is a further slice of that day's row, so strategies recheck rather than decide again (see
// Strategy::Recheck). Internal to live/.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "ballast/engine/bar_panel.hpp"
#include "ballast/engine/clock.hpp"
#include "ballast/engine/event_source.hpp"
#include "today_bars.hpp"

namespace ballast::live::detail {

class LiveSource final : public EventSource {
 public:
  enum class Trigger : unsigned char { kCheck, kWatch };
  /// `watch_s` <= 0: no watch slices. `may_watch` says, when a watch slice is due, whether the
  /// session can take one now (market hours, today decided, nothing in flight).
  LiveSource(Clock& clock, double watch_s, std::function<bool()> may_watch)
      : clock_(clock),
        watch_ns_(static_cast<Timestamp>(watch_s * 1e9)),
        may_watch_(std::move(may_watch)) {}

  void Start(boost::asio::io_context& io, SliceSink& sink) override {
    io_ = &io;
    sink_ = &sink;
  }
  void Stop() override;

  /// The panel the slices index (set once the session has loaded it).
  void SetPanel(std::shared_ptr<BarPanel> panel) { panel_ = std::move(panel); }
  /// The stream's view of today (the session adds each message to it).
  [[nodiscard]] TodayBars& Today() noexcept { return today_; }

  /// A scheduled check: the slice of `row`, delivered now (the check runs in a handler on io).
  void Check(std::size_t row);
  /// A stream message was added to Today(): a watch slice is posted when one is due.
  void OnStreamBar();
  /// Writes what the stream knows of `day` over `row` of the panel (the row's bar is the base:
  /// the day's open and volume stay, the range widens, the close is the freshest price).
  /// Returns whether any symbol changed.
  bool ApplyStream(std::size_t row, Days day);

  /// Which kind of slice is being delivered (valid inside SliceSink::OnSlice).
  [[nodiscard]] Trigger Current() const noexcept { return current_; }
  [[nodiscard]] std::uint64_t WatchSlices() const noexcept { return watch_slices_; }

 private:
  void Deliver(std::size_t row, Trigger trigger);

  Clock& clock_;
  Timestamp watch_ns_;
  std::function<bool()> may_watch_;
  boost::asio::io_context* io_ = nullptr;
  SliceSink* sink_ = nullptr;
  std::shared_ptr<BarPanel> panel_;
  TodayBars today_;
  Trigger current_ = Trigger::kCheck;
  Timestamp next_watch_ = 0;    // no watch slice before this time
  bool watch_pending_ = false;  // a watch slice is posted or scheduled
  bool stopped_ = false;
  std::uint64_t watch_slices_ = 0;
};

}  // namespace ballast::live::detail
