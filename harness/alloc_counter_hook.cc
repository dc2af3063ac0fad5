// Replaces the global operator new family with counting versions (see alloc_counter.h).
// Linked with alwayslink so the replacement takes effect in any binary that depends on it.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "harness/alloc_counter.h"

namespace klab::harness::alloc_internal {
extern std::atomic<int64_t> g_bytes;
extern std::atomic<int64_t> g_count;
extern std::atomic<bool> g_active;
extern std::atomic<int64_t> g_live;
extern std::atomic<int64_t> g_peak_live;

namespace {
struct MarkActive {
  MarkActive() { g_active.store(true, std::memory_order_relaxed); }
} mark_active;

inline void Count(size_t n) {
  g_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  g_count.fetch_add(1, std::memory_order_relaxed);
}

// Live bytes move by the size malloc really reserved (malloc_usable_size), known at both ends,
// so a delete without a size is accounted as exactly as a sized one.
inline void Live(void* p, int sign) {
  const int64_t size = sign * static_cast<int64_t>(malloc_usable_size(p));
  const int64_t live = g_live.fetch_add(size, std::memory_order_relaxed) + size;
  int64_t peak = g_peak_live.load(std::memory_order_relaxed);
  while (live > peak && !g_peak_live.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
}

void* Allocate(size_t n) {
  Count(n);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  Live(p, 1);
  return p;
}

void* AllocateAligned(size_t n, std::align_val_t al) {
  Count(n);
  const size_t align = std::max(static_cast<size_t>(al), sizeof(void*));
  void* p = nullptr;
  if (posix_memalign(&p, align, n == 0 ? 1 : n) != 0) throw std::bad_alloc();
  Live(p, 1);
  return p;
}

void Release(void* p) {
  if (p == nullptr) return;
  Live(p, -1);
  std::free(p);
}
}  // namespace
}  // namespace klab::harness::alloc_internal

using klab::harness::alloc_internal::Allocate;
using klab::harness::alloc_internal::AllocateAligned;
using klab::harness::alloc_internal::Release;

void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, std::align_val_t al) { return AllocateAligned(n, al); }
void* operator new[](size_t n, std::align_val_t al) { return AllocateAligned(n, al); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { Release(p); }
