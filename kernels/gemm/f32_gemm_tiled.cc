// Step 3 of the ladder, "tiled": the i-l-j loop of step 2 inside cache blocks. A KB x NB block of
// op(B) (256 x 256 floats, 256 KiB) is reused by every row of an MB-row block of C while it sits
// in L2, and the NB-wide row segment of C a row works on stays in L1 across the KB-deep l loop.
// Still compiler-vectorised and still loading and storing C in the innermost loop; that is what
// register blocking (step 4) removes.
//
// Compiled once per ISA (see BUILD); KLAB_GEMM_ISA_SUFFIX names the symbol.
#include "kernels/gemm/gemm_internal.h"

#ifndef KLAB_GEMM_ISA_SUFFIX
#error "compile with -DKLAB_GEMM_ISA_SUFFIX=scalar|avx2|avx512"
#endif

namespace klab::kernels {
namespace {
constexpr int64_t kMb = 64, kKb = 256, kNb = 256;
inline int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
}  // namespace

using gemm_internal::OpA;
using gemm_internal::ScaleC;

void KLAB_GEMM_CONCAT_(f32_gemm_tiled__, KLAB_GEMM_ISA_SUFFIX)(const SgemmArgs& p) noexcept {
  ScaleC(p);
  if (p.k == 0 || p.alpha == 0.0f) return;
  for (int64_t j0 = 0; j0 < p.n; j0 += kNb) {        // column block of C and op(B)
    const int64_t j1 = Min(j0 + kNb, p.n);
    for (int64_t l0 = 0; l0 < p.k; l0 += kKb) {      // depth block: op(B)[l0:l1, j0:j1] in L2
      const int64_t l1 = Min(l0 + kKb, p.k);
      for (int64_t i0 = 0; i0 < p.m; i0 += kMb) {    // row block of C
        const int64_t i1 = Min(i0 + kMb, p.m);
        for (int64_t i = i0; i < i1; ++i) {
          float* __restrict c = p.c + i * p.ldc;
          for (int64_t l = l0; l < l1; ++l) {
            const float a = p.alpha * OpA(p, i, l);
            if (p.trans_b == Trans::kNo) {
              const float* __restrict b = p.b + l * p.ldb;
              for (int64_t j = j0; j < j1; ++j) c[j] += a * b[j];
            } else {
              const float* __restrict b = p.b + l;
              for (int64_t j = j0; j < j1; ++j) c[j] += a * b[j * p.ldb];
            }
          }
        }
      }
    }
  }
}

}  // namespace klab::kernels
