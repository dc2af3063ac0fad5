// AVX-512: the packed (Goto/BLIS) variants on the f32_gemm_<MR>x<NR>__avx512 micro-kernels of
// gemm_ukernel.h, single-threaded and threaded, plus fast full-panel packing for MR = 8.
#include <immintrin.h>

#include "kernels/gemm/gemm_packed_driver.h"
#include "kernels/gemm/gemm_regblock_driver.h"
#include "kernels/gemm/gemm_ukernel.h"

namespace klab::kernels {
namespace {

// dst[c * ldd + r] = alpha * src[r * lds + c] for an 8 x 8 block: unpack pairs, 64-bit
// shuffles, then 128-bit lane swaps (24 shuffles per 64 elements instead of 64 scalar moves).
inline void Transpose8x8(const float* src, int64_t lds, float* dst, int64_t ldd, __m256 alpha) {
  const __m256 r0 = _mm256_loadu_ps(src + 0 * lds), r1 = _mm256_loadu_ps(src + 1 * lds);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
  const __m256 r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u0, u4, 0x20)));
  _mm256_storeu_ps(dst + 1 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u1, u5, 0x20)));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u2, u6, 0x20)));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u3, u7, 0x20)));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u0, u4, 0x31)));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u1, u5, 0x31)));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u2, u6, 0x31)));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_mul_ps(alpha, _mm256_permute2f128_ps(u3, u7, 0x31)));
}

template <int MR, int NR>
struct Avx512Ukr : gemm_internal::SimdUkr<gemm_internal::VecAvx512, MR, NR> {
  using Base = gemm_internal::SimdUkr<gemm_internal::VecAvx512, MR, NR>;
  using Base::kNv;

  // Full panel of op(A) * alpha, MR == 8, A not transposed: 8 rows x 8 l at a time through an
  // in-register 8x8 transpose (the generic loop's strided scalar stores cost ~12% at n = 256).
  static bool PackPanelA(const SgemmArgs& p, int64_t row0, int64_t pc, int64_t kc,
                         float* __restrict panel) noexcept {
    if constexpr (MR != 8) {
      return false;
    } else {
      const __m256 alpha = _mm256_set1_ps(p.alpha);
      if (p.trans_a == Trans::kYes) {
        // A stored k x m: the 8 values of one l are contiguous.
        for (int64_t l = 0; l < kc; ++l) {
          _mm256_store_ps(panel + l * 8,
                          _mm256_mul_ps(alpha, _mm256_loadu_ps(p.a + (pc + l) * p.lda + row0)));
        }
        return true;
      }
      const float* src = p.a + row0 * p.lda + pc;
      const int64_t lda = p.lda;
      int64_t l = 0;
      for (; l + 8 <= kc; l += 8) Transpose8x8(src + l, lda, panel + l * 8, 8, alpha);
      for (; l < kc; ++l) {
        for (int i = 0; i < 8; ++i) panel[l * 8 + i] = p.alpha * src[i * lda + l];
      }
      return true;
    }
  }

  // Full panel of op(B). Not transposed: each packed row is NR/16 vector copies. Transposed (a
  // linear layer's W stored (N, K)): 8 x 8 transposes of W's rows into the panel's columns.
  static bool PackPanelB(const SgemmArgs& p, int64_t pc, int64_t kc, int64_t col0,
                         float* __restrict panel) noexcept {
    if (p.trans_b == Trans::kYes) {
      const __m256 one = _mm256_set1_ps(1.0f);
      const float* w = p.b + col0 * p.ldb + pc;  // row j of W = column j of op(B)
      int64_t l = 0;
      for (; l + 8 <= kc; l += 8) {
        for (int j = 0; j < NR; j += 8) Transpose8x8(w + j * p.ldb + l, p.ldb, panel + l * NR + j, NR, one);
      }
      for (; l < kc; ++l) {
        for (int j = 0; j < NR; ++j) panel[l * NR + j] = w[j * p.ldb + l];
      }
      return true;
    }
    const float* src = p.b + pc * p.ldb + col0;
    for (int64_t l = 0; l < kc; ++l) {
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) {
        _mm512_store_ps(panel + l * NR + v * 16, _mm512_loadu_ps(src + l * p.ldb + v * 16));
      }
    }
    return true;
  }
};

}  // namespace

#define KLAB_PACKED_AVX512_SHAPE(MR, NR)                                                   \
  void f32_gemm_packed_##MR##x##NR##__avx512(const SgemmArgs& p) noexcept {                \
    gemm_internal::PackedGemm<Avx512Ukr<MR, NR>>(p, 1);                                    \
  }                                                                                        \
  void f32_gemm_packed_mt_##MR##x##NR##__avx512(const SgemmArgs& p) noexcept {             \
    gemm_internal::PackedGemm<Avx512Ukr<MR, NR>>(p, GemmThreadPool().threads());           \
  }

void f32_gemm_regblock_8x32__avx512(const SgemmArgs& p) noexcept {
  gemm_internal::RegblockGemm<Avx512Ukr<8, 32>>(p);
}

// Threaded: NR-aligned column ranges of C over the GEMM pool, each the serial variant on its
// share (a transposed B is transposed per share), so every element of C sees the same operations
// as on one thread. The threaded member of regblock's family: a shape class that runs regblock
// on one thread (A transposed: training's dW = dY^T X) can split without changing its bits.
void f32_gemm_regblock_mt_8x32__avx512(const SgemmArgs& p) noexcept {
  using Ukr = Avx512Ukr<8, 32>;
  gemm_internal::SplitColumns(p, GemmThreadPool().threads(), Ukr::kNr,
                              [](const SgemmArgs& sub) { gemm_internal::RegblockGemm<Ukr>(sub); });
}

#include "kernels/gemm/f32_gemm_packed_avx512.inc"
#undef KLAB_PACKED_AVX512_SHAPE

}  // namespace klab::kernels
