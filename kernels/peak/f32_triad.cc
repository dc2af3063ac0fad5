// TriadF32 and ReadF32 (bandwidth.h): the per-ISA loops are in f32_fma_peak.cc; these pick one
// at run time.
#include "kernels/cpu/cpu.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/peak/peak_internal.h"

namespace klab::kernels {

void TriadF32(size_t n, float s, const float* b, const float* c, float* a) noexcept {
  static const bool avx512 = CpuSupports(Isa::kAvx512);
  if (avx512) {
    f32_triad__avx512(n, s, b, c, a);
  } else {
    f32_triad__avx2(n, s, b, c, a);
  }
}

void CopyF32(size_t n, const float* x, float* y) noexcept {
  static const bool avx512 = CpuSupports(Isa::kAvx512);
  if (avx512) {
    f32_copy__avx512(n, x, y);
  } else {
    f32_copy__avx2(n, x, y);
  }
}

float ReadF32(size_t n, const float* a) noexcept {
  static const bool avx512 = CpuSupports(Isa::kAvx512);
  return avx512 ? f32_read__avx512(n, a) : f32_read__avx2(n, a);
}

}  // namespace klab::kernels
