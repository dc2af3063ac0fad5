// LayerNorm and RMSNorm over the rows of a float32 matrix, forward and backward; a registry of
// variants (scalar, AVX2, AVX-512) with run-time dispatch.
//
//   layernorm: y = (x - mean) rstd w + b,  rstd = 1 / sqrt(var + eps), var the biased variance
//   rmsnorm:   y = x rstd w,               rstd = 1 / sqrt(mean(x^2) + eps)
//
// Contract: `rows` rows of `cols` (>= 1) floats, row strides in elements; w and b hold cols
// floats; y may equal x when the strides match. mean and rstd (rows floats each) are written
// when not null, for the backward pass. Backward overwrites dx and ACCUMULATES into dw and db
// (they sum over the rows, and over batches by the caller). noexcept, no allocation.
//
// Numerics: one fused pass for the statistics sums d = x - s and d^2 with a shift s (the mean of
// the row's first vector of values), then var = E[d^2] - E[d]^2. Without the shift, a row of
// 1e4 + noise would lose every digit of the variance to cancellation (E[x^2] and E[x]^2 agree to
// 8 digits); with it, the terms are of the size of the noise. The output pass forms
// (x - s) rstd - E[d] rstd rather than (x - mean) rstd, so the mean is never rounded to the
// magnitude of x.
//
// Error bound (held by norm_test against double on the same float inputs, per element):
//   |y - exact| <= (|w| (|xhat| + 1) + |b|) (cols/16 + 8) 2^-24
// with xhat the exact normalised value: cols/16 terms summed per lane plus the reduction for
// the statistics, a few roundings for the output.
#ifndef KLAB_KERNELS_NORM_NORM_H_
#define KLAB_KERNELS_NORM_NORM_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

// The forward bound above for one output: w and b its weight and bias (b = 0 for RMSNorm), xhat
// the exact normalised value.
inline double NormErrorBound(double w, double xhat, double b, size_t cols) {
  const double scale = (w < 0 ? -w : w) * ((xhat < 0 ? -xhat : xhat) + 1) + (b < 0 ? -b : b);
  return scale * (static_cast<double>(cols) / 16.0 + 8) * 0x1p-24;
}

using LayerNormFn = void (*)(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
                             const float* b, float eps, float* y, size_t ldy, float* mean,
                             float* rstd) noexcept;
using RmsNormFn = void (*)(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
                           float eps, float* y, size_t ldy, float* rstd) noexcept;
// dx = d(loss)/dx from dy, given the forward's x, w, mean and rstd; dw += ..., db += ...
using LayerNormBackwardFn = void (*)(size_t rows, size_t cols, const float* dy, size_t lddy,
                                     const float* x, size_t ldx, const float* w,
                                     const float* mean, const float* rstd, float* dx, size_t lddx,
                                     float* dw, float* db) noexcept;
using RmsNormBackwardFn = void (*)(size_t rows, size_t cols, const float* dy, size_t lddy,
                                   const float* x, size_t ldx, const float* w, const float* rstd,
                                   float* dx, size_t lddx, float* dw) noexcept;

struct NormKernels {
  std::string_view name;  // f32_norm__<isa>
  Isa isa;
  LayerNormFn layernorm;
  RmsNormFn rmsnorm;
  LayerNormBackwardFn layernorm_backward;
  RmsNormBackwardFn rmsnorm_backward;
};

absl::Span<const NormKernels> NormVariants();
const NormKernels& BestNorm();

void LayerNorm(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
               const float* b, float eps, float* y, size_t ldy, float* mean = nullptr,
               float* rstd = nullptr) noexcept;
void RmsNorm(size_t rows, size_t cols, const float* x, size_t ldx, const float* w, float eps,
             float* y, size_t ldy, float* rstd = nullptr) noexcept;
void LayerNormBackward(size_t rows, size_t cols, const float* dy, size_t lddy, const float* x,
                       size_t ldx, const float* w, const float* mean, const float* rstd,
                       float* dx, size_t lddx, float* dw, float* db) noexcept;
void RmsNormBackward(size_t rows, size_t cols, const float* dy, size_t lddy, const float* x,
                     size_t ldx, const float* w, const float* rstd, float* dx, size_t lddx,
                     float* dw) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_NORM_NORM_H_
