#pragma once
/// Where time slices come from: ReplaySource (HDF5 bars) in backtests, a broker's market-data
/// websocket live. Both append to / index into the same BarPanel and hand the kernel one slice
/// (all bars sharing a timestamp) per handler.

#include <cstddef>

namespace boost::asio {
class io_context;
}

namespace ballast {

class SliceSink {
 public:
  virtual ~SliceSink() = default;
  /// Row `row` of the panel is complete and ready.
  virtual void OnSlice(std::size_t row) = 0;
  /// No more slices will come.
  virtual void OnSourceEnd() = 0;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  /// Starts delivering slices to `sink` through handlers posted on `io`.
  virtual void Start(boost::asio::io_context& io, SliceSink& sink) = 0;
  /// Stops after the slice being handled; OnSourceEnd is still called.
  virtual void Stop() = 0;
};

}  // namespace ballast
