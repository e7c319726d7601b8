#include "prefault.hpp"

#include <cstdlib>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ballast::live::detail {

bool PrefaultHeap(std::size_t bytes) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  if (bytes == 0) return false;
  constexpr std::size_t kMmapThreshold = std::size_t{32} << 20;  // glibc's largest
  constexpr std::size_t kChunk = std::size_t{16} << 20;          // below it: from the heap
  constexpr std::size_t kPage = 4096;
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold)) == 0) return false;
  // Never give back the faulted heap (nor what grows past it).
  const std::size_t keep = bytes + kMmapThreshold;
  if (mallopt(M_TRIM_THRESHOLD,
              static_cast<int>(keep > (std::size_t{1} << 30) ? std::size_t{1} << 30 : keep)) == 0)
    return false;
  std::vector<void*> chunks;
  for (std::size_t done = 0; done < bytes; done += kChunk) {
    void* p = std::malloc(kChunk);
    if (p == nullptr) break;
    auto* bytes_of = static_cast<volatile unsigned char*>(p);
    for (std::size_t i = 0; i < kChunk; i += kPage)
      bytes_of[i] = 0;  // volatile: the writes (and so the faults) happen
    chunks.push_back(p);
  }
  for (void* p : chunks)
    std::free(p);  // back to the heap's top, which the trim threshold keeps
  return !chunks.empty();
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace ballast::live::detail
