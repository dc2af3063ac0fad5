// Internal to //kernels/gemm: the variant functions the registry lists, and the small helpers
// they share.
//
// Per-ISA translation units (compiled with -mavx2 / -mavx512f ...) must not define or instantiate
// anything with external linkage besides their variant function: the linker keeps one copy of an
// inline function, and if it kept the AVX-512 one, baseline code would run AVX-512 instructions.
// So the helpers below are `static inline`, one private copy per translation unit.
#ifndef KLAB_KERNELS_GEMM_GEMM_INTERNAL_H_
#define KLAB_KERNELS_GEMM_GEMM_INTERNAL_H_

#include <cstdint>

#include "kernels/gemm/gemm.h"

#define KLAB_GEMM_CONCAT_INNER_(a, b) a##b
#define KLAB_GEMM_CONCAT_(a, b) KLAB_GEMM_CONCAT_INNER_(a, b)

namespace klab::kernels {

// --- the variants (one file each; see gemm_registry.cc) ---
void f32_gemm_naive_ijk(const SgemmArgs& args) noexcept;
void f32_gemm_loop_ikj__scalar(const SgemmArgs& args) noexcept;
void f32_gemm_loop_ikj__avx2(const SgemmArgs& args) noexcept;
void f32_gemm_loop_ikj__avx512(const SgemmArgs& args) noexcept;
void f32_gemm_tiled__avx2(const SgemmArgs& args) noexcept;
void f32_gemm_tiled__avx512(const SgemmArgs& args) noexcept;
void f32_gemm_regblock_6x16__avx2(const SgemmArgs& args) noexcept;
void f32_gemm_regblock_8x32__avx512(const SgemmArgs& args) noexcept;
void f32_gemm_regblock_mt_8x32__avx512(const SgemmArgs& args) noexcept;
void f32_gemm_packed_6x16__avx2(const SgemmArgs& args) noexcept;
void f32_gemm_smallm__avx512(const SgemmArgs& args) noexcept;
void f32_gemm_smallm_mt__avx512(const SgemmArgs& args) noexcept;
#define KLAB_DECLARE_PACKED(MR, NR, ISA)                                       \
  void f32_gemm_packed_##MR##x##NR##__##ISA(const SgemmArgs& args) noexcept; \
  void f32_gemm_packed_mt_##MR##x##NR##__##ISA(const SgemmArgs& args) noexcept;
#define KLAB_PACKED_AVX512_SHAPE(MR, NR) KLAB_DECLARE_PACKED(MR, NR, avx512)
#include "kernels/gemm/f32_gemm_packed_avx512.inc"
#undef KLAB_PACKED_AVX512_SHAPE
#undef KLAB_DECLARE_PACKED

namespace gemm_internal {

// op(A)(i, l) and op(B)(l, j) for the row-major layouts of gemm.h.
static inline float OpA(const SgemmArgs& p, int64_t i, int64_t l) {
  return p.trans_a == Trans::kNo ? p.a[i * p.lda + l] : p.a[l * p.lda + i];
}
static inline float OpB(const SgemmArgs& p, int64_t l, int64_t j) {
  return p.trans_b == Trans::kNo ? p.b[l * p.ldb + j] : p.b[j * p.ldb + l];
}

// C := beta * C, where beta == 0 writes zeros without reading C (BLAS semantics: NaN in C must
// not survive) and beta == 1 leaves C untouched.
static inline void ScaleC(const SgemmArgs& p) {
  if (p.beta == 1.0f) return;
  for (int64_t i = 0; i < p.m; ++i) {
    float* c = p.c + i * p.ldc;
    if (p.beta == 0.0f) {
      for (int64_t j = 0; j < p.n; ++j) c[j] = 0.0f;
    } else {
      for (int64_t j = 0; j < p.n; ++j) c[j] *= p.beta;
    }
  }
}

}  // namespace gemm_internal
}  // namespace klab::kernels

#endif  // KLAB_KERNELS_GEMM_GEMM_INTERNAL_H_
