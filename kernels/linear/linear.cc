#include "kernels/linear/linear.h"

#include <algorithm>

#include "kernels/gemm/gemm_config.h"

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_linear__avx2.cc and f32_linear__avx512.cc.
namespace internal {
extern const LinearKernels kLinearAvx2;
extern const LinearKernels kLinearAvx512;
}  // namespace internal

namespace {

size_t Panels(size_t n) { return (n + kLinearPanel - 1) / kLinearPanel; }

// Where W[j][l] lives in the packed form (linear.h): group g = p / 4 of panels is k rows of
// (panels in the group) x 16 floats.
size_t PackedIndex(size_t n, size_t k, size_t j, size_t l) {
  const size_t p = j / kLinearPanel, g = p / kLinearGroup;
  const size_t in_group = std::min(kLinearGroup, Panels(n) - g * kLinearGroup);
  return g * kLinearGroup * kLinearPanel * k + l * in_group * kLinearPanel +
         (p - g * kLinearGroup) * kLinearPanel + j % kLinearPanel;
}

// The scalar variant: the same packed layout, one output at a time.
void LinearPanelsScalar(size_t m, size_t n, size_t k, const float* x, size_t ldx,
                        const float* packed, const float* bias, float* y, size_t ldy,
                        bool accumulate, size_t p0, size_t p1) noexcept {
  for (size_t r = 0; r < m; ++r) {
    for (size_t p = p0; p < p1; ++p) {
      for (size_t c = 0; c < kLinearPanel && p * kLinearPanel + c < n; ++c) {
        float s = 0.0f;
        for (size_t l = 0; l < k; ++l) {
          s += x[r * ldx + l] * packed[PackedIndex(n, k, p * kLinearPanel + c, l)];
        }
        const size_t j = p * kLinearPanel + c;
        const float c0 = (accumulate ? y[r * ldy + j] : 0.0f) + (bias != nullptr ? bias[j] : 0.0f);
        y[r * ldy + j] = s + c0;  // dot + (y + bias), as the vector variants
      }
    }
  }
}

}  // namespace

void PackLinearWeights(size_t n, size_t k, const float* w, size_t ldw, float* packed) noexcept {
  const size_t padded = Panels(n) * kLinearPanel;
  for (size_t j = 0; j < padded; ++j) {
    for (size_t l = 0; l < k; ++l) packed[PackedIndex(n, k, j, l)] = j < n ? w[j * ldw + l] : 0.0f;
  }
}

absl::Span<const LinearKernels> LinearVariants() {
  static const LinearKernels variants[] = {
      {"f32_linear__scalar", Isa::kScalar, LinearPanelsScalar},
      internal::kLinearAvx2,
      internal::kLinearAvx512,
  };
  return variants;
}

const LinearKernels& BestLinear() {
  static const LinearKernels& best = BestSupported(LinearVariants());
  return best;
}

void Linear(size_t m, size_t n, size_t k, const float* x, size_t ldx, const float* packed,
            const float* bias, float* y, size_t ldy, bool accumulate) noexcept {
  BestLinear().linear_panels(m, n, k, x, ldx, packed, bias, y, ldy, accumulate, 0, Panels(n));
}

void LinearThreaded(size_t m, size_t n, size_t k, const float* x, size_t ldx,
                    const float* packed, const float* bias, float* y, size_t ldy,
                    bool accumulate) noexcept {
  ThreadPool& pool = GemmThreadPool();
  const size_t panels = Panels(n);
  const size_t threads = std::min<size_t>(pool.threads(), panels);
  if (threads <= 1 || m * n * k < (size_t{1} << 16)) {
    Linear(m, n, k, x, ldx, packed, bias, y, ldy, accumulate);
    return;
  }
  const LinearPanelsFn fn = BestLinear().linear_panels;
  // Contiguous shares of whole groups of panels, as even as the group count allows.
  const size_t groups = (panels + kLinearGroup - 1) / kLinearGroup;
  const size_t parts = std::min(threads, groups);
  pool.Run([&](int id) {
    if (static_cast<size_t>(id) >= parts) return;
    const size_t p0 = groups * id / parts * kLinearGroup;
    const size_t p1 = std::min(panels, groups * (id + 1) / parts * kLinearGroup);
    fn(m, n, k, x, ldx, packed, bias, y, ldy, accumulate, p0, p1);
  });
}

}  // namespace klab::kernels
