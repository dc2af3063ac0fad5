#include "kernels/elementwise/elementwise.h"

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_elementwise__avx2.cc and f32_elementwise__avx512.cc.
namespace internal {
extern const ElementwiseKernels kElementwiseAvx2;
extern const ElementwiseKernels kElementwiseAvx512;
}  // namespace internal

namespace {

// The scalar variant: plain loops (the `std` row of //perf:activation_sweep). The compiler may
// vectorise them for the baseline ISA (SSE2); that is what plain C++ gets.
void AddScalar(size_t n, const float* a, const float* b, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
void AddInPlaceScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] += x[i];
}
void ScaleScalar(size_t n, float alpha, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}
void BroadcastAddScalar(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                        float* y, size_t ldy) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) y[r * ldy + c] = x[r * ldx + c] + bias[c];
  }
}

}  // namespace

absl::Span<const ElementwiseKernels> ElementwiseVariants() {
  static const ElementwiseKernels variants[] = {
      {.name = "f32_elementwise__scalar",
       .isa = Isa::kScalar,
       .add = AddScalar,
       .add_inplace = AddInPlaceScalar,
       .scale = ScaleScalar,
       .broadcast_add = BroadcastAddScalar},
      internal::kElementwiseAvx2,
      internal::kElementwiseAvx512,
  };
  return variants;
}

const ElementwiseKernels& BestElementwise() {
  static const ElementwiseKernels& best = BestSupported(ElementwiseVariants());
  return best;
}

void Add(size_t n, const float* a, const float* b, float* y) noexcept {
  BestElementwise().add(n, a, b, y);
}
void AddInPlace(size_t n, const float* x, float* y) noexcept { BestElementwise().add_inplace(n, x, y); }
void Scale(size_t n, float alpha, const float* x, float* y) noexcept {
  BestElementwise().scale(n, alpha, x, y);
}
void BroadcastAdd(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                  float* y, size_t ldy) noexcept {
  BestElementwise().broadcast_add(rows, cols, x, ldx, bias, y, ldy);
}

}  // namespace klab::kernels
