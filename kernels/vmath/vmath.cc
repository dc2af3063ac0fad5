#include "kernels/vmath/vmath.h"

#include <cmath>

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_vmath__avx2.cc and f32_vmath__avx512.cc.
namespace internal {
extern const VmathKernels kVmathAvx2;
extern const VmathKernels kVmathAvx512;
}  // namespace internal

namespace {

void ExpScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void TanhScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void ErfScalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}

}  // namespace

absl::Span<const VmathKernels> VmathVariants() {
  // Function-local: the per-ISA tables live in other translation units.
  static const VmathKernels variants[] = {
      {.name = "f32_vmath__scalar",
       .isa = Isa::kScalar,
       .exp = ExpScalar,
       .tanh = TanhScalar,
       .erf = ErfScalar},
      internal::kVmathAvx2,
      internal::kVmathAvx512,
  };
  return variants;
}

const VmathKernels& BestVmath() {
  static const VmathKernels& best = BestSupported(VmathVariants());
  return best;
}

void Exp(size_t n, const float* x, float* y) noexcept { BestVmath().exp(n, x, y); }
void Tanh(size_t n, const float* x, float* y) noexcept { BestVmath().tanh(n, x, y); }
void Erf(size_t n, const float* x, float* y) noexcept { BestVmath().erf(n, x, y); }

}  // namespace klab::kernels
