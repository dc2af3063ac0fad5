// Step 2 of the ladder: interchange the loops to i-l-j. The innermost loop now updates a row of C
// with a scalar times a row of op(B) — unit stride in both, no reduction — so the compiler
// vectorises it with whatever vector ISA this file is compiled for. C's row stays in L1 across the
// l loop; B is streamed from memory once per row of C, which is what caps this step.
//
// This one source is compiled once per ISA (see BUILD); KLAB_GEMM_ISA_SUFFIX names the symbol.
#include "kernels/gemm/gemm_internal.h"

#ifndef KLAB_GEMM_ISA_SUFFIX
#error "compile with -DKLAB_GEMM_ISA_SUFFIX=scalar|avx2|avx512"
#endif

namespace klab::kernels {

using gemm_internal::OpA;
using gemm_internal::ScaleC;

void KLAB_GEMM_CONCAT_(f32_gemm_loop_ikj__, KLAB_GEMM_ISA_SUFFIX)(const SgemmArgs& p) noexcept {
  ScaleC(p);
  if (p.k == 0 || p.alpha == 0.0f) return;
  for (int64_t i = 0; i < p.m; ++i) {
    float* __restrict c = p.c + i * p.ldc;
    for (int64_t l = 0; l < p.k; ++l) {
      const float a = p.alpha * OpA(p, i, l);
      if (p.trans_b == Trans::kNo) {
        const float* __restrict b = p.b + l * p.ldb;  // row l of B: unit stride
        for (int64_t j = 0; j < p.n; ++j) c[j] += a * b[j];
      } else {
        const float* __restrict b = p.b + l;  // column l of B^T: stride ldb
        for (int64_t j = 0; j < p.n; ++j) c[j] += a * b[j * p.ldb];
      }
    }
  }
}

}  // namespace klab::kernels
