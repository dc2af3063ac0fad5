// Sweeps a vectorised float function over every float (or every stride-th float) of a range and
// reports its largest error in ulp against a double-precision reference (see ulp.h), optionally
// beyond an absolute allowance.
//
// The range is [-max_abs_neg, max_abs_pos] walked as bit patterns of the magnitudes, so a stride
// of 1 visits every float, including both zeros and the subnormals. Work is split over `threads`
// std::threads; each calls `fn` on chunks of 4096 inputs (the array API under test).
#ifndef KLAB_KERNELS_TESTING_ULP_SCAN_H_
#define KLAB_KERNELS_TESTING_ULP_SCAN_H_

#include <cstddef>
#include <cstdint>

namespace klab::kernels::testing {

using ArrayFn = void (*)(size_t n, const float* x, float* y) noexcept;
using ExactFn = double (*)(double x);

struct UlpScanResult {
  double max_ulp = 0;  // largest UlpError seen
  float worst_x = 0;   // an input where it was seen
  float worst_y = 0;
  double worst_exact = 0;
  uint64_t points = 0;  // inputs checked
};

struct UlpScanRange {
  float max_abs_neg;  // negative inputs down to -max_abs_neg (0: none)
  float max_abs_pos;  // positive inputs up to +max_abs_pos
};

// abs_floor: measure UlpError(y, exact, abs_floor), the ulp beyond an absolute allowance.
UlpScanResult UlpScan(ArrayFn fn, ExactFn exact, UlpScanRange range, uint32_t stride, int threads,
                      double abs_floor = 0.0);

}  // namespace klab::kernels::testing

#endif  // KLAB_KERNELS_TESTING_ULP_SCAN_H_
