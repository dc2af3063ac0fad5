#include "kernels/activation/activation.h"

#include "kernels/activation/activation_reference.h"

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_activation__avx2.cc and f32_activation__avx512.cc.
namespace internal {
extern const ActivationKernels kActivationAvx2;
extern const ActivationKernels kActivationAvx512;
}  // namespace internal

namespace {

// The scalar variant: the double formulas of activation_reference.h, one element at a time,
// rounded to float. It is the plain C++ baseline of //perf:activation_sweep (`impl` = `std`).
template <double (*F)(double)>
void MapScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(F(x[i]));
}

template <double (*G)(double)>
void BackwardScalar(size_t n, const float* x, const float* dy, float* dx) noexcept {
  for (size_t i = 0; i < n; ++i) dx[i] = static_cast<float>(dy[i] * G(x[i]));
}

void SwigluScalar(size_t n, const float* a, const float* b, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(reference::Silu(a[i]) * b[i]);
}

void BiasGeluTanhScalar(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                        float* y, size_t ldy) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      y[r * ldy + c] = static_cast<float>(reference::GeluTanh(x[r * ldx + c] + bias[c]));
    }
  }
}

void SwigluBackwardScalar(size_t n, const float* a, const float* b, const float* dy, float* da,
                          float* db) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const double g = dy[i];
    const double silu = reference::Silu(a[i]);
    da[i] = static_cast<float>(g * b[i] * reference::SiluGrad(a[i]));
    db[i] = static_cast<float>(g * silu);
  }
}

}  // namespace

absl::Span<const ActivationKernels> ActivationVariants() {
  static const ActivationKernels variants[] = {
      {.name = "f32_activation__scalar",
       .isa = Isa::kScalar,
#define KLAB_ACTIVATION_OP(field, Name) .field = MapScalar<reference::Name>,
#include "kernels/activation/activation_ops.inc"
#undef KLAB_ACTIVATION_OP
       .swiglu = SwigluScalar,
       .bias_gelu_tanh = BiasGeluTanhScalar,
       .gelu_tanh_backward = BackwardScalar<reference::GeluTanhGrad>,
       .gelu_erf_backward = BackwardScalar<reference::GeluErfGrad>,
       .silu_backward = BackwardScalar<reference::SiluGrad>,
       .swiglu_backward = SwigluBackwardScalar},
      internal::kActivationAvx2,
      internal::kActivationAvx512,
  };
  return variants;
}

const ActivationKernels& BestActivation() {
  static const ActivationKernels& best = BestSupported(ActivationVariants());
  return best;
}

void GeluTanh(size_t n, const float* x, float* y) noexcept { BestActivation().gelu_tanh(n, x, y); }
void GeluErf(size_t n, const float* x, float* y) noexcept { BestActivation().gelu_erf(n, x, y); }
void Silu(size_t n, const float* x, float* y) noexcept { BestActivation().silu(n, x, y); }
void Swiglu(size_t n, const float* a, const float* b, float* y) noexcept {
  BestActivation().swiglu(n, a, b, y);
}
void BiasGeluTanh(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                  float* y, size_t ldy) noexcept {
  BestActivation().bias_gelu_tanh(rows, cols, x, ldx, bias, y, ldy);
}
void GeluTanhBackward(size_t n, const float* x, const float* dy, float* dx) noexcept {
  BestActivation().gelu_tanh_backward(n, x, dy, dx);
}
void GeluErfBackward(size_t n, const float* x, const float* dy, float* dx) noexcept {
  BestActivation().gelu_erf_backward(n, x, dy, dx);
}
void SiluBackward(size_t n, const float* x, const float* dy, float* dx) noexcept {
  BestActivation().silu_backward(n, x, dy, dx);
}
void SwigluBackward(size_t n, const float* a, const float* b, const float* dy, float* da,
                    float* db) noexcept {
  BestActivation().swiglu_backward(n, a, b, dy, da, db);
}

}  // namespace klab::kernels
