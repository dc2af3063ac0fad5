// Vector math for float32 arrays: exp, tanh and erf, y[i] = f(x[i]) for i < n.
//
// Contract: x and y hold n floats, any alignment; y may equal x (in place); other overlap is not
// allowed. The functions are noexcept leaves and allocate nothing. Special values: NaN gives
// NaN; exp(-inf) = +0, exp(+inf) = +inf, results past 88.72 overflow to +inf and below -103.97
// round to +0, through the subnormal range with one rounding; tanh(+-inf) = +-1, erf(+-inf) =
// +-1; signs of zero are kept by tanh and erf.
//
// Error bounds, in units in the last place of the correctly rounded float result, measured by
// //kernels/testing:ulp_sweep against the double-precision libm on EVERY float of the range
// (exp: all finite floats; tanh and erf: all floats in [-10, 10]) for both vector ISAs, and held
// by vmath_test on a strided subset. The constants below are those measurements (rounded up to
// the next tenth of an ulp); the sweep's output is quoted in lab/activation/README.md.
//
// Variants (a registry, docs/style.md rule 4): `f32_vmath__scalar` calls std::exp/tanh/erf on floats
// (the plain C++ a user would write, and the `std` row of //perf:activation_sweep), then AVX2 and
// AVX-512 implementations of one template (vmath_impl.h). The free functions dispatch to the
// best ISA the CPU has.
#ifndef KLAB_KERNELS_VMATH_VMATH_H_
#define KLAB_KERNELS_VMATH_VMATH_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

using UnaryArrayFn = void (*)(size_t n, const float* x, float* y) noexcept;

struct VmathKernels {
  std::string_view name;  // f32_vmath__<isa>
  Isa isa;
  UnaryArrayFn exp;
  UnaryArrayFn tanh;
  UnaryArrayFn erf;
};

// Measured maximum errors of the vector variants, in ulp (see above).
inline constexpr double kExpMaxUlp = 1.1;
inline constexpr double kTanhMaxUlp = 2.0;
inline constexpr double kErfMaxUlp = 2.8;

// Scalar, AVX2, AVX-512; a caller filters by CpuSupports(isa).
absl::Span<const VmathKernels> VmathVariants();

// The variant of the best ISA this CPU supports (chosen once).
const VmathKernels& BestVmath();

void Exp(size_t n, const float* x, float* y) noexcept;
void Tanh(size_t n, const float* x, float* y) noexcept;
void Erf(size_t n, const float* x, float* y) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_VMATH_VMATH_H_
