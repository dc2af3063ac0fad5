// Vector traits for kernels written once over the vector width: a struct per ISA with the type,
// its lane count and the handful of operations the kernels use (load, store, broadcast, FMA, add,
// multiply). A template takes the traits as a parameter and is instantiated in each ISA's
// translation unit (compiled with that ISA's -m flags); only the traits the flags allow exist.
//
// Everything here has internal linkage (anonymous namespace): each ISA translation unit keeps its
// own copy, so the linker can never hand AVX-512 code to a caller compiled for the baseline.
#ifndef KLAB_KERNELS_SIMD_VEC_H_
#define KLAB_KERNELS_SIMD_VEC_H_

#include <immintrin.h>

namespace klab::kernels::simd {
namespace {

#if defined(__AVX512F__)
struct VecAvx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V Zero() { return _mm512_setzero_ps(); }
  static V Load(const float* p) { return _mm512_load_ps(p); }
  static V LoadU(const float* p) { return _mm512_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Set1(float x) { return _mm512_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct VecAvx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V Zero() { return _mm256_setzero_ps(); }
  static V Load(const float* p) { return _mm256_load_ps(p); }
  static V LoadU(const float* p) { return _mm256_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V Set1(float x) { return _mm256_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
};
#endif

}  // namespace
}  // namespace klab::kernels::simd

#endif  // KLAB_KERNELS_SIMD_VEC_H_
