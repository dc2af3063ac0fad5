#include <immintrin.h>

#include "kernels/peak/peak_internal.h"

namespace klab::kernels {

float f32_fma_peak__avx512(int64_t iterations) noexcept {
  __m512 acc[kPeakAccumulators];
  for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 c = _mm512_set1_ps(0.999999f);
  const __m512 d = _mm512_set1_ps(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], c, d);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kPeakAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, sum);
  return out[0] + out[15];
}

}  // namespace klab::kernels
