// The FMA-throughput loop of peak.h and the triad of bandwidth.h, one source compiled once per
// ISA (see BUILD):
// KLAB_PEAK_ISA_SUFFIX names the symbol, and the widest vector traits (kernels/simd/vec.h) the
// flags allow are used.
#include <immintrin.h>

#include "kernels/peak/peak_internal.h"
#include "kernels/simd/vec.h"

#ifndef KLAB_PEAK_ISA_SUFFIX
#error "compile with -DKLAB_PEAK_ISA_SUFFIX=avx2|avx512"
#endif
#define KLAB_PEAK_CONCAT_INNER_(a, b) a##b
#define KLAB_PEAK_CONCAT_(a, b) KLAB_PEAK_CONCAT_INNER_(a, b)

namespace klab::kernels {
namespace {
#if defined(__AVX512F__)
using Vec = simd::VecAvx512;
#else
using Vec = simd::VecAvx2;
#endif
}  // namespace

float KLAB_PEAK_CONCAT_(f32_fma_peak__, KLAB_PEAK_ISA_SUFFIX)(int64_t iterations) noexcept {
  Vec::V acc[kPeakAccumulators];
  for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = Vec::Set1(static_cast<float>(i));
  const Vec::V c = Vec::Set1(0.999999f);
  const Vec::V d = Vec::Set1(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kPeakAccumulators; ++i) acc[i] = Vec::Fma(acc[i], c, d);
  }
  Vec::V sum = acc[0];
  for (int i = 1; i < kPeakAccumulators; ++i) sum = Vec::Add(sum, acc[i]);
  float out[Vec::kLanes];
  Vec::StoreU(out, sum);
  return out[0] + out[Vec::kLanes - 1];
}

// a = b + s c, four vectors per step (n is a multiple of 64, the arrays 64-byte aligned).
void KLAB_PEAK_CONCAT_(f32_triad__, KLAB_PEAK_ISA_SUFFIX)(size_t n, float s, const float* b,
                                                         const float* c, float* a) noexcept {
  const Vec::V vs = Vec::Set1(s);
  for (size_t i = 0; i < n; i += 4 * Vec::kLanes) {
    for (size_t j = i; j < i + 4 * Vec::kLanes; j += Vec::kLanes) {
      Vec::StoreU(a + j, Vec::Fma(vs, Vec::Load(c + j), Vec::Load(b + j)));
    }
  }
}

// y = x, four vectors per step (n a multiple of 64, the arrays 64-byte aligned): one read and one
// write stream, the traffic of a one-input elementwise op.
void KLAB_PEAK_CONCAT_(f32_copy__, KLAB_PEAK_ISA_SUFFIX)(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; i += 4 * Vec::kLanes) {
    for (size_t j = i; j < i + 4 * Vec::kLanes; j += Vec::kLanes) Vec::StoreU(y + j, Vec::Load(x + j));
  }
}

// The sum of a[0, n), sixteen vectors per step into eight accumulators while they last, then
// vectors, then floats (a 64-byte aligned): a pure read stream. Two loads per step feed one add
// each, so the eight add chains (latency 4) never limit two loads per cycle.
float KLAB_PEAK_CONCAT_(f32_read__, KLAB_PEAK_ISA_SUFFIX)(size_t n, const float* a) noexcept {
  Vec::V acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = Vec::Zero();
  size_t i = 0;
  for (; i + 16 * Vec::kLanes <= n; i += 16 * Vec::kLanes) {
    for (int j = 0; j < 8; ++j) {
      acc[j] = Vec::Add(acc[j], Vec::Add(Vec::Load(a + i + 2 * j * Vec::kLanes),
                                         Vec::Load(a + i + (2 * j + 1) * Vec::kLanes)));
    }
  }
  for (; i + Vec::kLanes <= n; i += Vec::kLanes) acc[0] = Vec::Add(acc[0], Vec::Load(a + i));
  for (int j = 1; j < 8; ++j) acc[0] = Vec::Add(acc[0], acc[j]);
  float out[Vec::kLanes];
  Vec::StoreU(out, acc[0]);
  float sum = 0;
  for (float v : out) sum += v;
  for (; i < n; ++i) sum += a[i];
  return sum;
}

}  // namespace klab::kernels
