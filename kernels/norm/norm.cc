#include "kernels/norm/norm.h"

#include <cmath>

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_norm__avx2.cc and f32_norm__avx512.cc.
namespace internal {
extern const NormKernels kNormAvx2;
extern const NormKernels kNormAvx512;
}  // namespace internal

namespace {

// The scalar variant: the textbook two passes (mean, then variance of x - mean), accumulated in
// double so that a large mean costs nothing, one element at a time — the `std` row of
// //perf:activation_sweep.
void LayerNormScalar(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
                     const float* b, float eps, float* y, size_t ldy, float* mean_out,
                     float* rstd_out) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    double sum = 0.0;
    for (size_t i = 0; i < cols; ++i) sum += xr[i];
    const double mean = sum / static_cast<double>(cols);
    double sq = 0.0;
    for (size_t i = 0; i < cols; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
    if (mean_out != nullptr) mean_out[r] = static_cast<float>(mean);
    if (rstd_out != nullptr) rstd_out[r] = static_cast<float>(rstd);
    for (size_t i = 0; i < cols; ++i) {
      y[r * ldy + i] = static_cast<float>((xr[i] - mean) * rstd * w[i] + b[i]);
    }
  }
}

void RmsNormScalar(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
                   float eps, float* y, size_t ldy, float* rstd_out) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    double sq = 0.0;
    for (size_t i = 0; i < cols; ++i) sq += double{xr[i]} * xr[i];
    const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
    if (rstd_out != nullptr) rstd_out[r] = rstd;
    for (size_t i = 0; i < cols; ++i) y[r * ldy + i] = xr[i] * rstd * w[i];
  }
}

void LayerNormBackwardScalar(size_t rows, size_t cols, const float* dy, size_t lddy,
                             const float* x, size_t ldx, const float* w, const float* mean,
                             const float* rstd, float* dx, size_t lddx, float* dw,
                             float* db) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    float g_sum = 0.0f, gn_sum = 0.0f;
    for (size_t i = 0; i < cols; ++i) {
      const float n = (x[r * ldx + i] - mean[r]) * rstd[r];
      const float g = w[i] * dy[r * lddy + i];
      g_sum += g;
      gn_sum += g * n;
    }
    const float g_mean = g_sum / static_cast<float>(cols);
    const float gn_mean = gn_sum / static_cast<float>(cols);
    for (size_t i = 0; i < cols; ++i) {
      const float n = (x[r * ldx + i] - mean[r]) * rstd[r];
      const float d = dy[r * lddy + i];
      dx[r * lddx + i] = (w[i] * d - g_mean - n * gn_mean) * rstd[r];
      dw[i] += d * n;
      db[i] += d;
    }
  }
}

void RmsNormBackwardScalar(size_t rows, size_t cols, const float* dy, size_t lddy, const float* x,
                           size_t ldx, const float* w, const float* rstd, float* dx, size_t lddx,
                           float* dw) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    float gn_sum = 0.0f;
    for (size_t i = 0; i < cols; ++i) gn_sum += w[i] * dy[r * lddy + i] * x[r * ldx + i] * rstd[r];
    const float gn_mean = gn_sum / static_cast<float>(cols);
    for (size_t i = 0; i < cols; ++i) {
      const float n = x[r * ldx + i] * rstd[r];
      const float d = dy[r * lddy + i];
      dx[r * lddx + i] = (w[i] * d - n * gn_mean) * rstd[r];
      dw[i] += d * n;
    }
  }
}

}  // namespace

absl::Span<const NormKernels> NormVariants() {
  static const NormKernels variants[] = {
      {.name = "f32_norm__scalar",
       .isa = Isa::kScalar,
       .layernorm = LayerNormScalar,
       .rmsnorm = RmsNormScalar,
       .layernorm_backward = LayerNormBackwardScalar,
       .rmsnorm_backward = RmsNormBackwardScalar},
      internal::kNormAvx2,
      internal::kNormAvx512,
  };
  return variants;
}

const NormKernels& BestNorm() {
  static const NormKernels& best = BestSupported(NormVariants());
  return best;
}

void LayerNorm(size_t rows, size_t cols, const float* x, size_t ldx, const float* w,
               const float* b, float eps, float* y, size_t ldy, float* mean,
               float* rstd) noexcept {
  BestNorm().layernorm(rows, cols, x, ldx, w, b, eps, y, ldy, mean, rstd);
}
void RmsNorm(size_t rows, size_t cols, const float* x, size_t ldx, const float* w, float eps,
             float* y, size_t ldy, float* rstd) noexcept {
  BestNorm().rmsnorm(rows, cols, x, ldx, w, eps, y, ldy, rstd);
}
void LayerNormBackward(size_t rows, size_t cols, const float* dy, size_t lddy, const float* x,
                       size_t ldx, const float* w, const float* mean, const float* rstd,
                       float* dx, size_t lddx, float* dw, float* db) noexcept {
  BestNorm().layernorm_backward(rows, cols, dy, lddy, x, ldx, w, mean, rstd, dx, lddx, dw, db);
}
void RmsNormBackward(size_t rows, size_t cols, const float* dy, size_t lddy, const float* x,
                     size_t ldx, const float* w, const float* rstd, float* dx, size_t lddx,
                     float* dw) noexcept {
  BestNorm().rmsnorm_backward(rows, cols, dy, lddy, x, ldx, w, rstd, dx, lddx, dw);
}

}  // namespace klab::kernels
