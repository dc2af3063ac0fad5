// The FMA-throughput loop of peak.h, one source compiled once per ISA (see BUILD):
// KLAB_PEAK_ISA_SUFFIX names the symbol, and the widest vector the flags allow is used.
#include <immintrin.h>

#include "kernels/peak/peak_internal.h"

#ifndef KLAB_PEAK_ISA_SUFFIX
#error "compile with -DKLAB_PEAK_ISA_SUFFIX=avx2|avx512"
#endif
#define KLAB_PEAK_CONCAT_INNER_(a, b) a##b
#define KLAB_PEAK_CONCAT_(a, b) KLAB_PEAK_CONCAT_INNER_(a, b)

namespace klab::kernels {
namespace {
#if defined(__AVX512F__)
using V = __m512;
constexpr int kLanes = 16;
inline V Set1(float x) { return _mm512_set1_ps(x); }
inline V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V Add(V a, V b) { return _mm512_add_ps(a, b); }
inline void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
#else
using V = __m256;
constexpr int kLanes = 8;
inline V Set1(float x) { return _mm256_set1_ps(x); }
inline V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V Add(V a, V b) { return _mm256_add_ps(a, b); }
inline void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
#endif
}  // namespace

float KLAB_PEAK_CONCAT_(f32_fma_peak__, KLAB_PEAK_ISA_SUFFIX)(int64_t iterations) noexcept {
  V acc[kPeakAccumulators];
  for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = Set1(static_cast<float>(i));
  const V c = Set1(0.999999f);
  const V d = Set1(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = Fma(acc[i], c, d);
  }
  V sum = acc[0];
  for (int i = 1; i < kPeakAccumulators; ++i) sum = Add(sum, acc[i]);
  float out[kLanes];
  Store(out, sum);
  return out[0] + out[kLanes - 1];
}

}  // namespace klab::kernels
