// Row softmax on float32 matrices: y[r][:] = exp(x[r][:] - max) / sum, forward (three-pass and
// single-pass online), with a causal mask for attention, and backward. A registry of variants
// (scalar, AVX2, AVX-512) with run-time dispatch.
//
// Contract: `rows` rows of `cols` floats with row strides ldx, ldy (elements, >= cols); any
// alignment; y may equal x (in place) when ldy == ldx. noexcept, no allocation.
// - Numerically stable: the row maximum is subtracted before exp, so no input overflows.
// - A row whose entries are all -inf (fully masked) gives all zeros, not NaN. A NaN (or +inf)
//   in a row makes that row NaN, unless all its other entries are -inf.
// - softmax: pass 1 the row max, pass 2 y = exp(x - max) and the sum, pass 3 y *= 1 / sum.
// - softmax_online: pass 1 keeps a running max and a sum rescaled whenever the max grows (per
//   lane, merged at the end), pass 2 writes exp(x - max) / sum: two reads of x instead of three,
//   for rows that do not stay in cache.
// - softmax_causal: row r uses its first min(cols, offset + r + 1) entries (the positions a
//   query at position offset + r may attend to) and writes 0 to the rest.
// - softmax_backward: dx = y (dy - sum(dy y)) per row, from the forward output y.
//
// Error bound (held by softmax_test against a double evaluation on the same float inputs):
//   |y_j - exact_j| <= exact_j (|x_j - m| + max_k |x_k - m| + cols/16 + 8) 2^-24 + 2^-140
// where m is the row max. The |x - m| terms are the conditioning of exp: rounding x - m to float
// alone moves exp(x - m) by |x - m| 2^-24 relative. cols/16 + 8 covers exp's ulp, the sum of
// cols/16 terms per lane plus the cross-lane reduction, and the final scaling. The online
// variant adds the rescales of its per-lane sums, counted in the same cols/16 term twice.
#ifndef KLAB_KERNELS_SOFTMAX_SOFTMAX_H_
#define KLAB_KERNELS_SOFTMAX_SOFTMAX_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

using SoftmaxFn = void (*)(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                           size_t ldy) noexcept;
using SoftmaxCausalFn = void (*)(size_t rows, size_t cols, size_t offset, const float* x,
                                 size_t ldx, float* y, size_t ldy) noexcept;
using SoftmaxBackwardFn = void (*)(size_t rows, size_t cols, const float* y, size_t ldy,
                                   const float* dy, size_t lddy, float* dx,
                                   size_t lddx) noexcept;

// The forward bound above for one entry: `exact` its double value, `x_minus_max` = m - x_j (0 for
// a masked -inf entry), `spread` = max_k (m - x_k) over the row's finite entries, `online` for
// softmax_online (its rescales count the cols/16 term twice).
inline double SoftmaxErrorBound(double exact, double x_minus_max, double spread, size_t cols,
                                bool online) {
  const double count = (online ? 2.0 : 1.0) * static_cast<double>(cols) / 16.0;
  return exact * (x_minus_max + spread + count + 8) * 0x1p-24 + 0x1p-140;
}

struct SoftmaxKernels {
  std::string_view name;  // f32_softmax__<isa>
  Isa isa;
  SoftmaxFn softmax;
  SoftmaxFn softmax_online;
  SoftmaxCausalFn softmax_causal;
  SoftmaxBackwardFn softmax_backward;
};

absl::Span<const SoftmaxKernels> SoftmaxVariants();
const SoftmaxKernels& BestSoftmax();

void Softmax(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) noexcept;
void SoftmaxOnline(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                   size_t ldy) noexcept;
void SoftmaxCausal(size_t rows, size_t cols, size_t offset, const float* x, size_t ldx, float* y,
                   size_t ldy) noexcept;
void SoftmaxBackward(size_t rows, size_t cols, const float* y, size_t ldy, const float* dy,
                     size_t lddy, float* dx, size_t lddx) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_SOFTMAX_SOFTMAX_H_
