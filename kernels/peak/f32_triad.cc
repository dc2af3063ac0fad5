// TriadF32 (bandwidth.h) per ISA: one function per translation unit, picked at run time.
#include <immintrin.h>

#include <cstddef>

#include "kernels/cpu/cpu.h"
#include "kernels/peak/bandwidth.h"

namespace klab::kernels {
namespace {

__attribute__((target("avx512f"))) void TriadAvx512(size_t n, float s, const float* b,
                                                    const float* c, float* a) {
  const __m512 vs = _mm512_set1_ps(s);
  for (size_t i = 0; i < n; i += 64) {
    for (size_t j = 0; j < 64; j += 16) {
      _mm512_store_ps(a + i + j, _mm512_fmadd_ps(vs, _mm512_load_ps(c + i + j), _mm512_load_ps(b + i + j)));
    }
  }
}

__attribute__((target("avx2,fma"))) void TriadAvx2(size_t n, float s, const float* b,
                                                   const float* c, float* a) {
  const __m256 vs = _mm256_set1_ps(s);
  for (size_t i = 0; i < n; i += 64) {
    for (size_t j = 0; j < 64; j += 8) {
      _mm256_store_ps(a + i + j, _mm256_fmadd_ps(vs, _mm256_load_ps(c + i + j), _mm256_load_ps(b + i + j)));
    }
  }
}

}  // namespace

void TriadF32(size_t n, float s, const float* b, const float* c, float* a) noexcept {
  static const bool avx512 = CpuSupports(Isa::kAvx512);
  if (avx512) {
    TriadAvx512(n, s, b, c, a);
  } else {
    TriadAvx2(n, s, b, c, a);
  }
}

}  // namespace klab::kernels
