// ReplaySource: rows [first, end) one slice per handler on the io_context, then the end; a stop
// ends after the slice being handled.

#include "ballast/data/replay_source.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <vector>

namespace ballast::data {
namespace {

struct Sink final : SliceSink {
  std::vector<std::string> seen;
  ReplaySource* stop_at_3 = nullptr;
  void OnSlice(std::size_t row) override {
    seen.push_back(std::to_string(row));
    if (stop_at_3 != nullptr && row == 3) stop_at_3->Stop();
  }
  void OnSourceEnd() override { seen.push_back("end"); }
};

TEST(ReplaySourceTest, DeliversEachRowInOrderThenTheEnd) {
  boost::asio::io_context io;
  Sink sink;
  ReplaySource source(2, 5);
  source.Start(io, sink);
  EXPECT_TRUE(sink.seen.empty());  // nothing before the loop runs
  io.run();
  EXPECT_EQ(sink.seen, (std::vector<std::string>{"2", "3", "4", "end"}));
  EXPECT_EQ(source.NextRow(), 5u);
}

TEST(ReplaySourceTest, OneSlicePerHandlerSoOtherWorkInterleaves) {
  boost::asio::io_context io;
  Sink sink;
  ReplaySource source(0, 3);
  source.Start(io, sink);
  // Work posted after Start runs after the first slice and before the second: the source
  // posts the next slice only once the current one is handled.
  boost::asio::post(io, [&] { sink.seen.push_back("other"); });
  io.run();
  EXPECT_EQ(sink.seen, (std::vector<std::string>{"0", "other", "1", "2", "end"}));
}

TEST(ReplaySourceTest, StopEndsAfterTheCurrentSlice) {
  boost::asio::io_context io;
  Sink sink;
  ReplaySource source(0, 10);
  sink.stop_at_3 = &source;
  source.Start(io, sink);
  io.run();
  EXPECT_EQ(sink.seen, (std::vector<std::string>{"0", "1", "2", "3", "end"}));
}

}  // namespace
}  // namespace ballast::data
