#pragma once
// A service's heap, faulted in before the market opens: the first touch of a fresh page costs a
// page fault (on a virtual machine, 10-20 µs: more than the whole tick-to-order path), and a
// session that only grows (orders, trades, events) touches fresh pages as it goes. After this,
// allocations up to 32 MiB come from the heap rather than fresh mappings, and what is freed stays
// mapped, so a tick reuses pages already faulted. glibc only (elsewhere, and under a sanitizer's
// allocator, it does nothing). Internal to live/.
#include <cstddef>

namespace ballast::live::detail {

/// Faults in `bytes` of heap and keeps it (0: nothing). Returns whether the allocator took it.
bool PrefaultHeap(std::size_t bytes);

}  // namespace ballast::live::detail
