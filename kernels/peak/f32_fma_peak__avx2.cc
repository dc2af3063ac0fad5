#include <immintrin.h>

#include "kernels/peak/peak_internal.h"

namespace klab::kernels {

float f32_fma_peak__avx2(int64_t iterations) noexcept {
  __m256 acc[kPeakAccumulators];
  for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 c = _mm256_set1_ps(0.999999f);
  const __m256 d = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], c, d);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kPeakAccumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, sum);
  return out[0] + out[7];
}

}  // namespace klab::kernels
