// AVX2 + FMA: the regblock and packed variants on the f32_gemm_6x16__avx2 micro-kernel
// (12 YMM accumulators + 2 for B + 1 broadcast of the 16 registers; BLIS's Haswell shape).
#include "kernels/gemm/gemm_packed_driver.h"
#include "kernels/gemm/gemm_regblock_driver.h"
#include "kernels/gemm/gemm_ukernel.h"

namespace klab::kernels {
namespace {
using Avx2Ukr6x16 = gemm_internal::SimdUkr<gemm_internal::VecAvx2, 6, 16>;
}  // namespace

void f32_gemm_regblock_6x16__avx2(const SgemmArgs& p) noexcept {
  gemm_internal::RegblockGemm<Avx2Ukr6x16>(p);
}

void f32_gemm_packed_6x16__avx2(const SgemmArgs& p) noexcept {
  gemm_internal::PackedGemm<Avx2Ukr6x16>(p, 1);
}

}  // namespace klab::kernels
