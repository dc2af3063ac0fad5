// The counters themselves, separate from the operator new replacement so that code which only
// reads them (the results writer) links without replacing the allocator.
#include <atomic>

#include "harness/alloc_counter.h"

namespace klab::harness {
namespace alloc_internal {
std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_count{0};
std::atomic<bool> g_active{false};
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak_live{0};
}  // namespace alloc_internal

int64_t LiveBytes() { return alloc_internal::g_live.load(std::memory_order_relaxed); }

int64_t PeakLiveBytes() { return alloc_internal::g_peak_live.load(std::memory_order_relaxed); }

void ResetPeakLiveBytes() {
  alloc_internal::g_peak_live.store(alloc_internal::g_live.load(std::memory_order_relaxed),
                                    std::memory_order_relaxed);
}

AllocStats AllocSnapshot() {
  return {alloc_internal::g_bytes.load(std::memory_order_relaxed),
          alloc_internal::g_count.load(std::memory_order_relaxed)};
}

bool AllocCounterActive() {
  // Linked in is not enough: under AddressSanitizer the runtime's operator new is found first and
  // ours never runs. So check once that an allocation really moves the counter.
  static const bool active = [] {
    if (!alloc_internal::g_active.load(std::memory_order_relaxed)) return false;
    const int64_t before = alloc_internal::g_count.load(std::memory_order_relaxed);
    void* volatile p = ::operator new(1);
    ::operator delete(p);
    return alloc_internal::g_count.load(std::memory_order_relaxed) != before;
  }();
  return active;
}

}  // namespace klab::harness
