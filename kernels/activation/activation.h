// Activation functions on float32 arrays, forward and backward: GELU (tanh and erf forms), SiLU,
// SwiGLU, and bias + GELU fused, each a registry of variants (scalar, AVX2, AVX-512) with
// run-time dispatch.
//
//   gelu_tanh(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2)
//   gelu_erf(x)  = x/2 (1 + erf(x / sqrt(2))) = x Phi(x)
//   silu(x)      = x sigma(x) = x / (1 + e^-x)
//   swiglu(a, b) = silu(a) b                                        (Llama's MLP)
//
// Contract: arrays of n floats, any alignment; an output may equal an input of the same length
// (in place); no other overlap. Backward functions overwrite dx (they do not accumulate):
// dx[i] = dy[i] f'(x[i]). Row functions take row strides in elements (ld >= cols). Everything is
// noexcept and allocates nothing. NaN gives NaN; +inf gives +inf and -inf gives -0 forward.
//
// How: 0.5 (1 + tanh(u)) = sigma(2u), so gelu_tanh is x sigma(2u), and gelu_erf is x Phi(x) with
// Phi from erfc of |x|/sqrt(2) on the side where it is small. Neither subtracts nearly equal
// numbers, so both stay accurate in relative terms in the negative tail, where the textbook
// forms lose every digit (1 + tanh(u) for u << 0).
//
// Error bounds, against the double formulas of activation_reference.h on the same float input:
// |y - exact| <= kActivationMaxUlp ulp(exact) + kActivationAbsFloor. The absolute floor (2^-26, a
// quarter of an ulp of 1.0) matters only in the negative tail (|y| < 0.1), where the functions
// are ill-conditioned: their relative condition number grows like x^2, and rounding the argument
// u of the exponential alone moves the result by |u| 2^-24 relative (~10 ulp at x = -2.8).
// Measured by //kernels/testing:ulp_sweep over EVERY float in [-12, 12], ulp beyond the floor,
// AVX2 / AVX-512: gelu_tanh 3.006 / 3.193, gelu_erf 3.987 / 3.763, silu 1.915 / 1.979
// (lab/activation/README.md; sigma is vmath_impl.h's SigmoidAbove, 1 / (1 + exp(-v)) with the
// negative tail below x = -9 (gelu_tanh) and -80 (silu) returned as -0, under the floor);
// activation_test holds every variant to the bound over a strided sweep and at random points.
// Backward: relative 2^-19 of |dy| (|f'(x)| + |x f''(x)|) — the derivative's own condition —
// plus the same floor; see activation_test.cc.
#ifndef KLAB_KERNELS_ACTIVATION_ACTIVATION_H_
#define KLAB_KERNELS_ACTIVATION_ACTIVATION_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

inline constexpr double kActivationMaxUlp = 4.0;
inline constexpr double kActivationAbsFloor = 0x1p-26;

using ActivationFn = void (*)(size_t n, const float* x, float* y) noexcept;
using ActivationBinaryFn = void (*)(size_t n, const float* a, const float* b, float* y) noexcept;
using ActivationBackwardFn = void (*)(size_t n, const float* x, const float* dy,
                                      float* dx) noexcept;
// y[r][c] = gelu_tanh(x[r][c] + bias[c]) for a rows x cols matrix (row strides ldx, ldy).
using BiasActivationFn = void (*)(size_t rows, size_t cols, const float* x, size_t ldx,
                                  const float* bias, float* y, size_t ldy) noexcept;
// y = silu(a) b: da[i] = dy[i] b[i] silu'(a[i]), db[i] = dy[i] silu(a[i]).
using SwigluBackwardFn = void (*)(size_t n, const float* a, const float* b, const float* dy,
                                  float* da, float* db) noexcept;

struct ActivationKernels {
  std::string_view name;  // f32_activation__<isa>
  Isa isa;
  // gelu_tanh, gelu_erf, silu: one ActivationFn per line of activation_ops.inc.
#define KLAB_ACTIVATION_OP(field, Name) ActivationFn field;
#include "kernels/activation/activation_ops.inc"
#undef KLAB_ACTIVATION_OP
  ActivationBinaryFn swiglu;
  BiasActivationFn bias_gelu_tanh;
  ActivationBackwardFn gelu_tanh_backward;
  ActivationBackwardFn gelu_erf_backward;
  ActivationBackwardFn silu_backward;
  SwigluBackwardFn swiglu_backward;
};

// Scalar (std:: functions, the `std` row of the sweep), AVX2, AVX-512.
absl::Span<const ActivationKernels> ActivationVariants();
const ActivationKernels& BestActivation();

void GeluTanh(size_t n, const float* x, float* y) noexcept;
void GeluErf(size_t n, const float* x, float* y) noexcept;
void Silu(size_t n, const float* x, float* y) noexcept;
void Swiglu(size_t n, const float* a, const float* b, float* y) noexcept;
void BiasGeluTanh(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                  float* y, size_t ldy) noexcept;
void GeluTanhBackward(size_t n, const float* x, const float* dy, float* dx) noexcept;
void GeluErfBackward(size_t n, const float* x, const float* dy, float* dx) noexcept;
void SiluBackward(size_t n, const float* x, const float* dy, float* dx) noexcept;
void SwigluBackward(size_t n, const float* a, const float* b, const float* dy, float* da,
                    float* db) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_ACTIVATION_ACTIVATION_H_
