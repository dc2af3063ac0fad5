// Step 4 of the ladder, "regblock": the register-blocked micro-kernel applied to A and B where
// they lie, without packing or cache blocking. Each MR x NR tile of C is computed in registers
// over the whole depth k (one pass over a row block of A and a column block of B per tile), so
// C is read and written once per tile instead of once per k. What it lacks, packing fixes: A is
// read with stride lda between rows (8 streams), B's rows with stride ldb, and nothing keeps
// the B block in L1 across tiles for large k.
//
// op(B) must be unit-stride along n; a transposed B is first copied to a row-major scratch
// buffer (per thread, reused). Edges (m % MR rows, n % NR columns) run a vectorisable i-l-j loop.
#ifndef KLAB_KERNELS_GEMM_GEMM_REGBLOCK_DRIVER_H_
#define KLAB_KERNELS_GEMM_GEMM_REGBLOCK_DRIVER_H_

#include "kernels/gemm/gemm_packed_driver.h"

namespace klab::kernels::gemm_internal {
namespace {

// C[i0:i1, j0:j1] = alpha op(A) B_rowmajor + beta C, by an i-l-j loop (edges only).
inline void EdgeBlock(const SgemmArgs& p, const float* b, int64_t ldb, int64_t i0, int64_t i1,
                      int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float* __restrict c = p.c + i * p.ldc;
    for (int64_t j = j0; j < j1; ++j) c[j] = p.beta == 0.0f ? 0.0f : p.beta * c[j];
    for (int64_t l = 0; l < p.k; ++l) {
      const float a = p.alpha * OpA(p, i, l);
      const float* __restrict brow = b + l * ldb;
      for (int64_t j = j0; j < j1; ++j) c[j] += a * brow[j];
    }
  }
}

template <class Ukr>
void RegblockGemm(const SgemmArgs& p) {
  constexpr int MR = Ukr::kMr, NR = Ukr::kNr;
  if (p.k == 0 || p.alpha == 0.0f) {
    ScaleC(p);
    return;
  }
  const float* b = p.b;
  int64_t ldb = p.ldb;
  if (p.trans_b == Trans::kYes) {
    static thread_local PackBuffer scratch;
    float* bt = scratch.Get(p.k * p.n);
    TransposeCopy(p.b, p.ldb, p.n, p.k, bt);  // B stored n x k -> op(B) k x n
    b = bt;
    ldb = p.n;
  }
  const int64_t rs_a = p.trans_a == Trans::kNo ? p.lda : 1;
  const int64_t cs_a = p.trans_a == Trans::kNo ? 1 : p.lda;
  const int64_t m_full = p.m / MR * MR, n_full = p.n / NR * NR;
  for (int64_t j = 0; j < n_full; j += NR) {
    for (int64_t i = 0; i < m_full; i += MR) {
      Ukr::TileStrided(p.k, p.a + i * rs_a, rs_a, cs_a, b + j, ldb, p.c + i * p.ldc + j, p.ldc,
                       p.alpha, p.beta);
    }
  }
  if (n_full < p.n) EdgeBlock(p, b, ldb, 0, m_full, n_full, p.n);
  if (m_full < p.m) EdgeBlock(p, b, ldb, m_full, p.m, 0, p.n);
}

}  // namespace
}  // namespace klab::kernels::gemm_internal

#endif  // KLAB_KERNELS_GEMM_GEMM_REGBLOCK_DRIVER_H_
