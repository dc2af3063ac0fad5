// Step 1 of the ladder: the textbook triple loop, i-j-l. Each C(i, j) is one dot product whose
// op(B) operand walks down a column: a stride of ldb floats per step, so every load of B touches
// a new cache line once n exceeds a few hundred, and the float reduction cannot be vectorised
// without reassociation. This is the "0.3 GFLOP/s" baseline the lab starts from.
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels {

using gemm_internal::OpA;
using gemm_internal::OpB;

void f32_gemm_naive_ijk(const SgemmArgs& p) noexcept {
  const bool read_ab = p.k > 0 && p.alpha != 0.0f;
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      float sum = 0.0f;
      if (read_ab) {
        for (int64_t l = 0; l < p.k; ++l) sum += OpA(p, i, l) * OpB(p, l, j);
      }
      float& c = p.c[i * p.ldc + j];
      c = p.beta == 0.0f ? p.alpha * sum : p.alpha * sum + p.beta * c;
    }
  }
}

}  // namespace klab::kernels
