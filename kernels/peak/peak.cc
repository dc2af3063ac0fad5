#include "kernels/peak/peak.h"

#include <iterator>

#include "kernels/peak/peak_internal.h"

namespace klab::kernels {
namespace {
constexpr FmaPeakKernel kKernels[] = {
    {"f32_fma_peak__avx2", Isa::kAvx2, &f32_fma_peak__avx2, kPeakAccumulators * 8 * 2},
    {"f32_fma_peak__avx512", Isa::kAvx512, &f32_fma_peak__avx512, kPeakAccumulators * 16 * 2},
};
}  // namespace

absl::Span<const FmaPeakKernel> FmaPeakKernels() {
  return absl::MakeConstSpan(kKernels, std::size(kKernels));
}

const FmaPeakKernel* WidestFmaPeakKernel() {
  const FmaPeakKernel* widest = nullptr;
  for (const FmaPeakKernel& k : FmaPeakKernels()) {
    if (CpuSupports(k.isa)) widest = &k;
  }
  return widest;
}

}  // namespace klab::kernels
