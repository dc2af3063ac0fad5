// Step 7 of the ladder, the small-M path (M <= 16: decode steps, GEMV at M = 1): no packing at
// all, because with few rows of A nothing is reused enough to pay for it; the cost is streaming
// op(B) (the weights) once, and the kernels are shaped to keep enough independent loads and FMAs
// in flight for that.
//
//  * B row-major (trans_b = N), the "axpy" form: C[r rows, NR cols] += A[r, l] * B[l, NR cols]
//    for each l, with r <= 8 rows of A per pass and NR = 128 / 64 / 32 columns for r <= 2 / 4 / 8
//    (r * NR/16 <= 16 accumulators, >= 8 of them so FMA latency is hidden even at M = 1).
//  * B transposed (trans_b = T, a linear layer's W stored (out, in)), the "dot" form:
//    C[i, j] = A[i, :] . W[j, :], both contiguous along k, 16 accumulators along k, masked loads
//    for the k tail, one transposing add tree for 16 horizontal sums. For k <= 512 one row of A
//    meets 16 rows of W at a time and the 16 sums are stored as one vector, the rows of A looping
//    inside the block of W (which stays in L1); for longer k, up to 8 rows of A meet 16 / r rows
//    of W per pass, so W is still streamed once. Rows 2 KiB-multiples apart alias in L1 and
//    are streamed fewer at a time (SmallM).
// A transposed (rare here) is first copied to row-major scratch (m <= 16 rows, cheap).
// Correct for any m (rows are processed in chunks of 8). Sgemm also takes its axpy form for
// row-major B while B fits in L2 (max(m, n, k) <= 512): there it is the regblock
// step with proper edge tiles, and skipping packing beats packing (see gemm.cc).
#include <immintrin.h>

#include <cstring>

#include "kernels/gemm/gemm_packed_driver.h"
#include "kernels/gemm/gemm_regblock_driver.h"
#include "kernels/gemm/gemm_ukernel.h"

namespace klab::kernels {
namespace {

using gemm_internal::EdgeBlock;
using gemm_internal::MinI;
using gemm_internal::PackBuffer;
using gemm_internal::SimdUkr;
using gemm_internal::VecAvx512;

// Axpy form over rows [i0, i0 + R) and all columns; A row-major with leading dimension lda.
template <int R, int NR>
void AxpyRows(const SgemmArgs& p, const float* a, int64_t lda, int64_t i0) {
  using Wide = SimdUkr<VecAvx512, R, NR>;
  using Narrow = SimdUkr<VecAvx512, R, 16>;
  int64_t j = 0;
  for (; j + NR <= p.n; j += NR) {
    Wide::TileStrided(p.k, a + i0 * lda, lda, 1, p.b + j, p.ldb, p.c + i0 * p.ldc + j, p.ldc,
                      p.alpha, p.beta);
  }
  for (; j + 16 <= p.n; j += 16) {
    Narrow::TileStrided(p.k, a + i0 * lda, lda, 1, p.b + j, p.ldb, p.c + i0 * p.ldc + j, p.ldc,
                        p.alpha, p.beta);
  }
  if (j < p.n) {
    SgemmArgs q = p;
    q.a = a;
    q.lda = lda;
    q.trans_a = Trans::kNo;
    EdgeBlock(q, p.b, p.ldb, i0, i0 + R, j, p.n);
  }
}

void AxpyChunk(const SgemmArgs& p, const float* a, int64_t lda, int64_t i0, int64_t rows) {
  switch (rows) {
    case 1: return AxpyRows<1, 128>(p, a, lda, i0);
    case 2: return AxpyRows<2, 128>(p, a, lda, i0);
    case 3: return AxpyRows<3, 64>(p, a, lda, i0);
    case 4: return AxpyRows<4, 64>(p, a, lda, i0);
    case 5: return AxpyRows<5, 32>(p, a, lda, i0);
    case 6: return AxpyRows<6, 32>(p, a, lda, i0);
    case 7: return AxpyRows<7, 32>(p, a, lda, i0);
    default: return AxpyRows<8, 32>(p, a, lda, i0);
  }
}

// Lane t of the result = the sum of the 16 lanes of a[t]: a transposing add tree (45 shuffles
// and adds for 16 sums instead of ~130 for 16 separate horizontal reductions), which matters when
// k is short and the reductions would cost as much as the dot products themselves.
inline __m512 Reduce16(const __m512 (&a)[16]) {
  __m512 b[8], c[4];
  for (int p = 0; p < 8; ++p) {  // per 128-bit lane: [x0+x2, y0+y2, x1+x3, y1+y3]
    b[p] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * p], a[2 * p + 1]),
                         _mm512_unpackhi_ps(a[2 * p], a[2 * p + 1]));
  }
  for (int q = 0; q < 4; ++q) {  // per 128-bit lane: partial sums of a[4q .. 4q+3]
    const __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(b[2 * q]), _mm512_castps_pd(b[2 * q + 1]));
    const __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(b[2 * q]), _mm512_castps_pd(b[2 * q + 1]));
    c[q] = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
  }
  // 4 x 4 transpose of 128-bit lanes with adds: lane q of the result sums the lanes of c[q].
  const __m512 e01 = _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88),
                                   _mm512_shuffle_f32x4(c[0], c[1], 0xDD));
  const __m512 e23 = _mm512_add_ps(_mm512_shuffle_f32x4(c[2], c[3], 0x88),
                                   _mm512_shuffle_f32x4(c[2], c[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(e01, e23, 0x88), _mm512_shuffle_f32x4(e01, e23, 0xDD));
}

// Dot form: C[i0 .. i0+R) x [j0 .. j0+JB) with W = B stored n x k (row j of W = column j of
// op(B)); R * JB <= 16 accumulators, reduced together by Reduce16.
template <int R, int JB>
inline void DotTile(const SgemmArgs& p, const float* a, int64_t lda, int64_t i0, int64_t j0) {
  static_assert(R * JB <= 16, "16 accumulators at most");
  __m512 acc[16];
#pragma GCC unroll 16
  for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
  const float* arow[R];
  const float* wrow[JB];
  for (int i = 0; i < R; ++i) arow[i] = a + (i0 + i) * lda;
  for (int j = 0; j < JB; ++j) wrow[j] = p.b + (j0 + j) * p.ldb;
  int64_t l = 0;
  for (; l + 16 <= p.k; l += 16) {
    __m512 av[R], wv[JB];
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) av[i] = _mm512_loadu_ps(arow[i] + l);
#pragma GCC unroll 16
    for (int j = 0; j < JB; ++j) wv[j] = _mm512_loadu_ps(wrow[j] + l);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 16
      for (int j = 0; j < JB; ++j) acc[i * JB + j] = _mm512_fmadd_ps(av[i], wv[j], acc[i * JB + j]);
    }
  }
  if (l < p.k) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (p.k - l)) - 1);
    __m512 av[R], wv[JB];
    for (int i = 0; i < R; ++i) av[i] = _mm512_maskz_loadu_ps(mask, arow[i] + l);
    for (int j = 0; j < JB; ++j) wv[j] = _mm512_maskz_loadu_ps(mask, wrow[j] + l);
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < JB; ++j) acc[i * JB + j] = _mm512_fmadd_ps(av[i], wv[j], acc[i * JB + j]);
    }
  }
  alignas(64) float dots[16];
  _mm512_store_ps(dots, _mm512_mul_ps(_mm512_set1_ps(p.alpha), Reduce16(acc)));
  for (int i = 0; i < R; ++i) {
    float* c = p.c + (i0 + i) * p.ldc + j0;
    for (int j = 0; j < JB; ++j) {
      c[j] = p.beta == 0.0f ? dots[i * JB + j] : dots[i * JB + j] + p.beta * c[j];
    }
  }
}

// c[0, 16) = alpha * dots + beta * c (beta == 0: c not read): the 16 outputs of one DotRow16.
inline void StoreDots16(const SgemmArgs& p, __m512 dots, float* c) {
  dots = _mm512_mul_ps(_mm512_set1_ps(p.alpha), dots);
  if (p.beta == 0.0f) {
    _mm512_storeu_ps(c, dots);
  } else {
    _mm512_storeu_ps(c, _mm512_fmadd_ps(_mm512_set1_ps(p.beta), _mm512_loadu_ps(c), dots));
  }
}

// 16 W rows of k floats must stay in L1 (48 KiB here) across the rows of A: 16 * 512 * 4 = 32 KiB.
constexpr int64_t kDotRow16MaxK = 512;

// One row of C times 16 consecutive rows of W: the 16 dot products come out of Reduce16 as one
// vector, stored with alpha and beta in one go. Looping over the rows of A inside a block of 16 W
// rows keeps that block (16 x k floats) in L1, so W is still read from L2 only once.
inline void DotRow16(const SgemmArgs& p, const float* a, int64_t lda, int64_t i, int64_t j0) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
  const float* arow = a + i * lda;
  const float* w = p.b + j0 * p.ldb;
  const int64_t ldw = p.ldb;
  int64_t l = 0;
  for (; l + 16 <= p.k; l += 16) {
    const __m512 av = _mm512_loadu_ps(arow + l);
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) {
      acc[t] = _mm512_fmadd_ps(av, _mm512_loadu_ps(w + t * ldw + l), acc[t]);
    }
  }
  if (l < p.k) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (p.k - l)) - 1);
    const __m512 av = _mm512_maskz_loadu_ps(mask, arow + l);
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) {
      acc[t] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mask, w + t * ldw + l), acc[t]);
    }
  }
  StoreDots16(p, Reduce16(acc), p.c + i * p.ldc + j0);
}

// DotRow16 for W rows whose addresses alias in L1: four rows at a time over the whole of k, four
// accumulators each (16 FMA chains, as in DotRow16), the four added per row before the same
// Reduce16. With 16 rows streamed at once and a row stride that is a multiple of 2 KiB, all 16
// streams (and the lines the L1 prefetcher brings for them) fall into one or two sets of the
// 8-way L1 and evict each other; four streams do not.
inline void DotRow16By4(const SgemmArgs& p, const float* a, int64_t lda, int64_t i, int64_t j0) {
  __m512 rows[16];
  const float* arow = a + i * lda;
  const int64_t ldw = p.ldb;
  const int64_t k64 = p.k / 64 * 64;
  for (int g = 0; g < 16; g += 4) {
    const float* w = p.b + (j0 + g) * ldw;
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) {
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) acc[t][u] = _mm512_setzero_ps();
    }
    int64_t l = 0;
    for (; l < k64; l += 64) {
      __m512 av[4];
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) av[u] = _mm512_loadu_ps(arow + l + 16 * u);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
          acc[t][u] = _mm512_fmadd_ps(av[u], _mm512_loadu_ps(w + t * ldw + l + 16 * u), acc[t][u]);
        }
      }
    }
    for (int u = 0; l < p.k; l += 16, ++u) {  // the last k % 64, 16 at a time (masked at the end)
      const __mmask16 mask = p.k - l >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (p.k - l)) - 1);
      const __m512 av = _mm512_maskz_loadu_ps(mask, arow + l);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        acc[t][u] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mask, w + t * ldw + l), acc[t][u]);
      }
    }
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) {
      rows[g + t] = _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3]));
    }
  }
  StoreDots16(p, Reduce16(rows), p.c + i * p.ldc + j0);
}

template <int R, int JB>
void DotRows(const SgemmArgs& p, const float* a, int64_t lda, int64_t i0) {
  int64_t j = 0;
  for (; j + JB <= p.n; j += JB) DotTile<R, JB>(p, a, lda, i0, j);
  for (; j < p.n; ++j) DotTile<R, 1>(p, a, lda, i0, j);
}

void DotChunk(const SgemmArgs& p, const float* a, int64_t lda, int64_t i0, int64_t rows) {
  switch (rows) {
    case 1: return DotRows<1, 16>(p, a, lda, i0);
    case 2: return DotRows<2, 8>(p, a, lda, i0);
    case 3: return DotRows<3, 4>(p, a, lda, i0);
    case 4: return DotRows<4, 4>(p, a, lda, i0);
    case 5: return DotRows<5, 3>(p, a, lda, i0);
    case 6: return DotRows<6, 2>(p, a, lda, i0);
    case 7: return DotRows<7, 2>(p, a, lda, i0);
    default: return DotRows<8, 2>(p, a, lda, i0);
  }
}

void SmallM(const SgemmArgs& p) {
  if (p.k == 0 || p.alpha == 0.0f) {
    gemm_internal::ScaleC(p);
    return;
  }
  const float* a = p.a;
  int64_t lda = p.lda;
  if (p.trans_a == Trans::kYes) {
    static thread_local PackBuffer scratch;
    float* at = scratch.Get(p.m * p.k);
    gemm_internal::TransposeCopy(p.a, p.lda, p.k, p.m, at);  // A stored k x m -> op(A) m x k
    a = at;
    lda = p.k;
  }
  // Rows of W (or of A) a multiple of 2 KiB apart share one or two of L1's 64 sets (8-way), so
  // streaming 16 of them at once, with the lines the L1 prefetcher brings for each, evicts them
  // from each other before use; from k = 512 the dot form is shaped to stream fewer at once.
  // matmul_sweep --shapes=transformer, amd-zen4-2c, smallm / best peer: M = 1, K = 1024,
  // N = 256 0.50 -> 0.87x (OpenBLAS), K = 512 0.83 -> 0.87x; M = 8, K = 512 0.50 -> 0.76x
  // (oneDNN), M = 64 0.65 -> 0.93x; M = 8, K = 1024 with A's rows padded apart 0.77 -> 0.80-0.90x.
  // At K = 256 (W's rows 1 KiB apart: four sets) the grouped GEMV lost, 0.89 -> 0.73x.
  const auto aliases_in_l1 = [&](int64_t ld) { return p.k >= 512 && (ld * 4) % 2048 == 0; };
  const bool w_aliased = aliases_in_l1(p.ldb);
  if (p.trans_b == Trans::kNo) {
    for (int64_t i = 0; i < p.m; i += 8) AxpyChunk(p, a, lda, i, MinI(8, p.m - i));
  } else if (p.m > 1 && (p.k > kDotRow16MaxK || w_aliased)) {
    // A block of 16 W rows no longer fits in (or, aliased, stays in) L1: take up to 8 rows of A
    // per pass instead, so each W row is read once from L2 for all of them; A's rows, read again
    // for every pair of W rows, are copied apart when they alias.
    if (aliases_in_l1(lda)) {
      static thread_local PackBuffer padded;
      const int64_t ld = p.k + 16;
      float* ap = padded.Get(p.m * ld);
      for (int64_t i = 0; i < p.m; ++i) std::memcpy(ap + i * ld, a + i * lda, p.k * sizeof(float));
      a = ap;
      lda = ld;
    }
    for (int64_t i = 0; i < p.m; i += 8) DotChunk(p, a, lda, i, MinI(8, p.m - i));
  } else {
    const int64_t n16 = p.n / 16 * 16;
    for (int64_t j = 0; j < n16; j += 16) {
      for (int64_t i = 0; i < p.m; ++i) {
        w_aliased ? DotRow16By4(p, a, lda, i, j) : DotRow16(p, a, lda, i, j);  // w_aliased: m = 1
      }
    }
    if (n16 < p.n) {  // the last n % 16 columns
      SgemmArgs tail = p;
      tail.n = p.n - n16;
      tail.b = p.b + n16 * p.ldb;
      tail.c = p.c + n16;
      for (int64_t i = 0; i < p.m; i += 8) DotChunk(tail, a, lda, i, MinI(8, p.m - i));
    }
  }
}

}  // namespace

void f32_gemm_smallm__avx512(const SgemmArgs& p) noexcept { SmallM(p); }

// Threaded: columns of C (rows of W) split over the GEMM pool, aligned to the widest kernel the
// row count uses (128 / 64 / 32 columns for <= 2 / <= 4 / more rows of the axpy form, 16 rows of
// W for the dot form) so no part loses its wide tiles; each participant streams its own share of
// the weights.
void f32_gemm_smallm_mt__avx512(const SgemmArgs& p) noexcept {
  const int64_t align = p.trans_b == Trans::kYes ? 16 : p.m <= 2 ? 128 : p.m <= 4 ? 64 : 32;
  gemm_internal::SplitColumns(p, GemmThreadPool().threads(), align,
                              [](const SgemmArgs& sub) { SmallM(sub); });
}

}  // namespace klab::kernels
