// Errors in units in the last place (ulp) of float results, against an exact (double) value.
//
// UlpError(y, exact) = |y - exact| / ulp(exact), where ulp(exact) is the spacing of floats at
// |exact| (2^-149 in the subnormal range). A correctly rounded result is within 0.5. Non-finite
// cases are exact or infinitely wrong: when `exact` rounds to +-inf in float, y must be that
// infinity; when `exact` is NaN, y must be NaN; a non-finite y for a finite float result is an
// infinite error.
#ifndef KLAB_KERNELS_TESTING_ULP_H_
#define KLAB_KERNELS_TESTING_ULP_H_

#include <cmath>
#include <limits>

namespace klab::kernels::testing {

inline double FloatUlp(double exact) {
  const double a = std::fabs(exact);
  if (a < 0x1p-126) return 0x1p-149;
  return std::ldexp(1.0, std::ilogb(a) - 23);
}

// With abs_floor > 0: the ulp beyond an absolute allowance, max(0, |y - exact| - abs_floor) /
// ulp(exact) — the smallest U with |y - exact| <= U ulp(exact) + abs_floor (see activation.h).
inline double UlpError(float y, double exact, double abs_floor = 0.0) {
  const double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(exact)) return std::isnan(y) ? 0.0 : inf;
  const float rounded = static_cast<float>(exact);
  if (std::isinf(rounded)) return y == rounded ? 0.0 : inf;
  if (!std::isfinite(y)) return inf;
  const double err = std::fabs(static_cast<double>(y) - exact) - abs_floor;
  return err > 0 ? err / FloatUlp(exact) : 0.0;
}

// The error of y as a fraction of the allowed error max_ulp ulp(exact) + abs_floor (docs/results-schema.md's
// max_err_ratio: <= 1 passes). Non-finite cases as UlpError: 0 when right, inf when wrong.
inline double ErrRatio(float y, double exact, double max_ulp, double abs_floor) {
  const double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(exact)) return std::isnan(y) ? 0.0 : inf;
  const float rounded = static_cast<float>(exact);
  if (std::isinf(rounded)) return y == rounded ? 0.0 : inf;
  if (!std::isfinite(y)) return inf;
  return std::fabs(static_cast<double>(y) - exact) / (max_ulp * FloatUlp(exact) + abs_floor);
}

}  // namespace klab::kernels::testing

#endif  // KLAB_KERNELS_TESTING_ULP_H_
