// The GEMM variant registry: one line per variant, in ladder order. Tests, the sweep and the
// benchmarks enumerate this list; adding a variant is adding a line here (and its file).
#include <iterator>

#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels {
namespace {

// clang-format off
constexpr GemmVariant kGemmVariants[] = {
  // name                isa            function                      mr nr threads idea
  {"naive_ijk",         Isa::kScalar,  &f32_gemm_naive_ijk,          1, 1, 1, "textbook i-j-l dot products"},
  {"loop_ikj",          Isa::kScalar,  &f32_gemm_loop_ikj__scalar,   1, 1, 1, "i-l-j order, unit-stride inner loop, baseline SSE2"},
  {"loop_ikj__avx2",    Isa::kAvx2,    &f32_gemm_loop_ikj__avx2,     1, 1, 1, "i-l-j order, compiler-vectorised for AVX2+FMA"},
  {"loop_ikj__avx512",  Isa::kAvx512,  &f32_gemm_loop_ikj__avx512,   1, 1, 1, "i-l-j order, compiler-vectorised for AVX-512"},
};
// clang-format on

}  // namespace

absl::Span<const GemmVariant> GemmVariants() {
  return absl::MakeConstSpan(kGemmVariants, std::size(kGemmVariants));
}

}  // namespace klab::kernels
