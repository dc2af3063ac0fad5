// A monotonic nanosecond clock for timing kernels.
//
// steady_clock is CLOCK_MONOTONIC on Linux/glibc: read through the vDSO (~20 ns), unaffected by
// NTP steps, and comparable across threads. Kernel timings here are >= microseconds, so its
// resolution (1 ns) and overhead are far below the noise we measure.
#ifndef KLAB_HARNESS_TIMER_H_
#define KLAB_HARNESS_TIMER_H_

#include <chrono>
#include <cstdint>

namespace klab::harness {

inline int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace klab::harness

#endif  // KLAB_HARNESS_TIMER_H_
