#include "kernels/activation/activation.h"

#include <cmath>

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_activation__avx2.cc and f32_activation__avx512.cc.
namespace internal {
extern const ActivationKernels kActivationAvx2;
extern const ActivationKernels kActivationAvx512;
}  // namespace internal

namespace {

// The scalar variant: the formulas of activation.h with std:: functions in double, one element
// at a time. It is the plain C++ baseline of //perf:activation_sweep (`impl` = `std`), and exact
// to within the final rounding to float.
constexpr double kSqrt2OverPi = 0.79788456080286536;
constexpr double kCoeff = 0.044715;

// 0.5 x (1 + tanh u) = x / (1 + e^(-2u)), without the cancellation of 1 + tanh(u) for u << 0.
double GeluTanhStable(double x) {
  if (std::isinf(x)) return x > 0 ? x : -0.0;
  const double u2 = 2.0 * kSqrt2OverPi * (x + kCoeff * x * x * x);
  return x / (1.0 + std::exp(-u2));
}
double PhiD(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double GeluErfD(double x) { return std::isinf(x) ? (x > 0 ? x : -0.0) : x * PhiD(x); }
double SigmoidD(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double SiluD(double x) { return std::isinf(x) ? (x > 0 ? x : -0.0) : x * SigmoidD(x); }

// The gradients clamp x as the vector code does (every derivative is 0 or 1 beyond |x| = 20),
// which keeps inf * 0 out of them.
double Clamp(double x) { return std::isnan(x) ? x : std::fmax(-1e4, std::fmin(1e4, x)); }

double GeluTanhGradD(double x) {
  x = Clamp(x);
  const double u = kSqrt2OverPi * (x + kCoeff * x * x * x);
  const double t = std::tanh(u);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kCoeff * x * x);
}
double GeluErfGradD(double x) {
  x = Clamp(x);
  return PhiD(x) + x * std::exp(-0.5 * x * x) * 0.39894228040143268;
}
double SiluGradD(double x) {
  x = Clamp(x);
  const double s = SigmoidD(x);
  return s * (1.0 + x * (1.0 - s));
}

template <double (*F)(double)>
void MapScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(F(x[i]));
}

template <double (*G)(double)>
void BackwardScalar(size_t n, const float* x, const float* dy, float* dx) noexcept {
  for (size_t i = 0; i < n; ++i) dx[i] = static_cast<float>(dy[i] * G(x[i]));
}

void SwigluScalar(size_t n, const float* a, const float* b, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(SiluD(a[i]) * b[i]);
}

void BiasGeluTanhScalar(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                        float* y, size_t ldy) noexcept {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      y[r * ldy + c] = static_cast<float>(GeluTanhStable(x[r * ldx + c] + bias[c]));
    }
  }
}

void SwigluBackwardScalar(size_t n, const float* a, const float* b, const float* dy, float* da,
                          float* db) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const double g = dy[i];
    const double silu = SiluD(a[i]);
    da[i] = static_cast<float>(g * b[i] * SiluGradD(a[i]));
    db[i] = static_cast<float>(g * silu);
  }
}

}  // namespace

absl::Span<const ActivationKernels> ActivationVariants() {
  static const ActivationKernels variants[] = {
      {"f32_activation__scalar", Isa::kScalar, MapScalar<GeluTanhStable>, MapScalar<GeluErfD>,
       MapScalar<SiluD>, SwigluScalar, BiasGeluTanhScalar, BackwardScalar<GeluTanhGradD>,
       BackwardScalar<GeluErfGradD>, BackwardScalar<SiluGradD>, SwigluBackwardScalar},
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
