#include "live_source.hpp"

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "ballast/live/time_ny.hpp"

namespace ballast::live::detail {

void LiveSource::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (sink_ != nullptr) sink_->OnSourceEnd();
}

void LiveSource::Deliver(std::size_t row, Trigger trigger) {
  current_ = trigger;
  sink_->OnSlice(row);
  current_ = Trigger::kCheck;
}

void LiveSource::Check(std::size_t row) {
  if (stopped_ || sink_ == nullptr) return;
  // A watch slice is not due again until an interval after the check.
  if (watch_ns_ > 0) next_watch_ = clock_.Now() + watch_ns_;
  Deliver(row, Trigger::kCheck);
}

bool LiveSource::ApplyStream(std::size_t row, Days day) {
  if (!panel_ || row >= panel_->Rows()) return false;
  bool changed = false;
  const auto& symbols = panel_->Symbols();
  for (std::size_t c = 0; c < symbols.size(); ++c) {
    std::optional<broker::DailyBar> base;
    if (panel_->HasBar(row, c)) {
      base = broker::DailyBar{
          symbols[c],          panel_->Time(row),     panel_->Open(row, c),  panel_->High(row, c),
          panel_->Low(row, c), panel_->Close(row, c), panel_->Volume(row, c)};
    }
    const auto b = today_.Day(symbols[c], day, base ? &*base : nullptr);
    if (!b) continue;
    changed =
        changed || !base || b->close != base->close || b->high != base->high || b->low != base->low;
    panel_->SetBar(row, c, b->open, b->high, b->low, b->close, b->volume);
  }
  return changed;
}

void LiveSource::OnStreamBar() {
  if (watch_ns_ <= 0 || stopped_ || sink_ == nullptr || !panel_ || watch_pending_) return;
  // One watch slice per interval, with the freshest prices: a bar inside the interval waits
  // for its end.
  watch_pending_ = true;
  auto slice = [this] {
    watch_pending_ = false;
    if (stopped_ || !panel_ || panel_->Rows() == 0) return;
    const Timestamp now = clock_.Now();
    if (!may_watch_()) return;
    const std::size_t row = panel_->Rows() - 1;
    const Days day = NyDate(now);
    if (panel_->Day(row) != day) return;  // today's row is made at today's check
    next_watch_ = now + watch_ns_;
    if (!ApplyStream(row, day)) return;  // nothing moved since the last slice
    ++watch_slices_;
    Deliver(row, Trigger::kWatch);
  };
  if (clock_.Now() >= next_watch_) {
    boost::asio::post(*io_, std::move(slice));
  } else {
    clock_.ScheduleAt(next_watch_, std::move(slice));
  }
}

}  // namespace ballast::live::detail
