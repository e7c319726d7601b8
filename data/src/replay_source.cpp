#include "ballast/data/replay_source.hpp"

#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ballast::data {

void ReplaySource::Start(boost::asio::io_context& io, SliceSink& sink) {
  io_ = &io;
  sink_ = &sink;
  PostNext();
}

void ReplaySource::PostNext() {
  boost::asio::post(*io_, [this] {
    if (stopped_ || row_ >= end_) {
      sink_->OnSourceEnd();
      return;
    }
    sink_->OnSlice(row_++);
    PostNext();
  });
}

}  // namespace ballast::data
