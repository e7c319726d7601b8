#pragma once
/// Backtest event source: replays rows [first, end) of a loaded BarPanel, one time slice per
/// handler posted on the io_context (dispatch cost is paid per slice, not per bar).

#include <cstddef>

#include "ballast/engine/event_source.hpp"

namespace ballast::data {

class ReplaySource final : public EventSource {
 public:
  ReplaySource(std::size_t first_row, std::size_t end_row) : row_(first_row), end_(end_row) {}
  void Start(boost::asio::io_context& io, SliceSink& sink) override;
  void Stop() override { stopped_ = true; }
  [[nodiscard]] std::size_t NextRow() const noexcept { return row_; }

 private:
  void PostNext();

  boost::asio::io_context* io_ = nullptr;
  SliceSink* sink_ = nullptr;
  std::size_t row_;
  std::size_t end_;
  bool stopped_ = false;
};

}  // namespace ballast::data
