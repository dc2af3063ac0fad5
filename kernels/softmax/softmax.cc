#include "kernels/softmax/softmax.h"

#include <cmath>

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_softmax__avx2.cc and f32_softmax__avx512.cc.
namespace internal {
extern const SoftmaxKernels kSoftmaxAvx2;
extern const SoftmaxKernels kSoftmaxAvx512;
}  // namespace internal

namespace {

// The scalar variant: the three passes with std::exp in float, one element at a time (the
// `std` row of //perf:activation_sweep). It serves as softmax_online too.
void SoftmaxRowScalar(size_t n, const float* x, float* y) {
  float max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  for (size_t i = 0; i < n; ++i) max = std::isnan(x[i]) ? x[i] : max;
  if (max == -INFINITY) {
    for (size_t i = 0; i < n; ++i) y[i] = 0.0f;
    return;
  }
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - max);
    sum += y[i];
  }
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) y[i] *= inv;
}

void SoftmaxScalar(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                   size_t ldy) noexcept {
  for (size_t r = 0; r < rows; ++r) SoftmaxRowScalar(cols, x + r * ldx, y + r * ldy);
}

void SoftmaxCausalScalar(size_t rows, size_t cols, size_t offset, const float* x, size_t ldx,
                         float* y, size_t ldy) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    const size_t valid = offset + r + 1 < cols ? offset + r + 1 : cols;
    SoftmaxRowScalar(valid, x + r * ldx, y + r * ldy);
    for (size_t c = valid; c < cols; ++c) y[r * ldy + c] = 0.0f;
  }
}

void SoftmaxBackwardScalar(size_t rows, size_t cols, const float* y, size_t ldy, const float* dy,
                           size_t lddy, float* dx, size_t lddx) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    float dot = 0.0f;
    for (size_t c = 0; c < cols; ++c) dot += y[r * ldy + c] * dy[r * lddy + c];
    for (size_t c = 0; c < cols; ++c) {
      dx[r * lddx + c] = y[r * ldy + c] * (dy[r * lddy + c] - dot);
    }
  }
}

}  // namespace

absl::Span<const SoftmaxKernels> SoftmaxVariants() {
  static const SoftmaxKernels variants[] = {
      {.name = "f32_softmax__scalar",
       .isa = Isa::kScalar,
       .softmax = SoftmaxScalar,
       .softmax_online = SoftmaxScalar,
       .softmax_causal = SoftmaxCausalScalar,
       .softmax_backward = SoftmaxBackwardScalar},
      internal::kSoftmaxAvx2,
      internal::kSoftmaxAvx512,
  };
  return variants;
}

const SoftmaxKernels& BestSoftmax() {
  static const SoftmaxKernels& best = BestSupported(SoftmaxVariants());
  return best;
}

void Softmax(size_t rows, size_t cols, const float* x, size_t ldx, float* y, size_t ldy) noexcept {
  BestSoftmax().softmax(rows, cols, x, ldx, y, ldy);
}
void SoftmaxOnline(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                   size_t ldy) noexcept {
  BestSoftmax().softmax_online(rows, cols, x, ldx, y, ldy);
}
void SoftmaxCausal(size_t rows, size_t cols, size_t offset, const float* x, size_t ldx, float* y,
                   size_t ldy) noexcept {
  BestSoftmax().softmax_causal(rows, cols, offset, x, ldx, y, ldy);
}
void SoftmaxBackward(size_t rows, size_t cols, const float* y, size_t ldy, const float* dy,
                     size_t lddy, float* dx, size_t lddx) noexcept {
  BestSoftmax().softmax_backward(rows, cols, y, ldy, dy, lddy, dx, lddx);
}

}  // namespace klab::kernels
