#include "kernels/linear/linear.h"

#include <algorithm>

#include "kernels/gemm/gemm_config.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/tuning/tuning.h"

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
      {.name = "f32_linear__scalar", .isa = Isa::kScalar, .linear_panels = LinearPanelsScalar},
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

namespace {

// How LinearThreaded shares a layer's panels: participants [0, parts), participant id taking
// panels [p0, p1) (contiguous whole groups); parts <= 1 means the calling thread does it all.
struct PanelShare {
  size_t panels, groups, parts;
  size_t begin(size_t id) const { return groups * id / parts * kLinearGroup; }
  size_t end(size_t id) const { return std::min(panels, groups * (id + 1) / parts * kLinearGroup); }
};

// A layer is shared over the pool from this m x n x k up: the tuning profile's threshold, measured
// on the machine (//perf:tune), else 2^16 (the default, measured on the Xeon the lab started on:
// below it a fork-join costs more than half the layer saves).
size_t ThreadsFromMnk() {
  const TuningProfile* t = ActiveTuning();
  return t != nullptr && t->linear_threads_from_mnk >= 0 ? static_cast<size_t>(t->linear_threads_from_mnk)
                                                         : size_t{1} << 16;
}

PanelShare ShareOf(size_t m, size_t n, size_t k) {
  const size_t panels = Panels(n);
  const size_t threads = std::min<size_t>(GemmThreadPool().threads(), panels);
  if (threads <= 1 || m * n * k < ThreadsFromMnk()) return {panels, 1, 1};
  const size_t groups = (panels + kLinearGroup - 1) / kLinearGroup;
  return {panels, groups, std::min(threads, groups)};
}

}  // namespace

void LinearThreaded(size_t m, size_t n, size_t k, const float* x, size_t ldx,
                    const float* packed, const float* bias, float* y, size_t ldy,
                    bool accumulate) noexcept {
  const PanelShare share = ShareOf(m, n, k);
  if (share.parts <= 1) {
    Linear(m, n, k, x, ldx, packed, bias, y, ldy, accumulate);
    return;
  }
  const LinearPanelsFn fn = BestLinear().linear_panels;
  // Contiguous shares of whole groups of panels, as even as the group count allows.
  GemmThreadPool().Run([&](int id) {
    if (static_cast<size_t>(id) >= share.parts) return;
    fn(m, n, k, x, ldx, packed, bias, y, ldy, accumulate, share.begin(id), share.end(id));
  });
}

float LinearReadThreaded(size_t m, size_t n, size_t k, const float* packed) noexcept {
  const PanelShare share = ShareOf(m, n, k);
  // Panel p's k rows of 16 floats follow panel p - 1's (groups of four panels are one stream).
  auto read = [&](size_t p0, size_t p1) {
    return ReadF32((p1 - p0) * k * kLinearPanel, packed + p0 * k * kLinearPanel);
  };
  if (share.parts <= 1) return read(0, share.panels);
  float sums[64] = {};
  GemmThreadPool().Run([&](int id) {
    if (static_cast<size_t>(id) >= share.parts || id >= 64) return;
    sums[id] = read(share.begin(id), share.end(id));
  });
  float total = 0;
  for (float s : sums) total += s;
  return total;
}

}  // namespace klab::kernels
