// The service's faulted-in heap: a session's later allocations touch pages already mapped, so a
// tick does not pay for page faults. Counted in minor faults (getrusage), not timed.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstring>
#include <memory>

#include "prefault.hpp"

namespace ballast::live::detail {
namespace {

[[maybe_unused]] long MinorFaults() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

// Allocates and writes `bytes` in blocks of `block` (as a session's vectors and strings grow),
// frees them, and returns the minor faults that took.
[[maybe_unused]] long FaultsToUse(std::size_t bytes, std::size_t block) {
  const long before = MinorFaults();
  std::vector<std::unique_ptr<char[]>> blocks;
  for (std::size_t done = 0; done < bytes; done += block) {
    blocks.emplace_back(new char[block]);
    std::memset(blocks.back().get(), 1, block);
  }
  return MinorFaults() - before;
}

TEST(PrefaultHeap, LaterAllocationsReusePagesAlreadyFaulted) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "glibc's allocator only (a sanitizer brings its own)";
#else
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  // 24 MiB in 1 MiB blocks (6,144 pages): in a fresh process glibc maps each block afresh and
  // faults in every page; after the prefault the blocks come from the faulted heap.
  const long cold = FaultsToUse(24 * kMiB, kMiB);
  ASSERT_TRUE(PrefaultHeap(64 * kMiB));
  const long warm = FaultsToUse(24 * kMiB, kMiB);
  EXPECT_LT(warm, 200) << "cold " << cold << " faults, after the prefault " << warm;
  EXPECT_FALSE(PrefaultHeap(0));
#endif
}

}  // namespace
}  // namespace ballast::live::detail
