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
  {"tiled__avx2",       Isa::kAvx2,    &f32_gemm_tiled__avx2,        1, 1, 1, "i-l-j in 64x256x256 cache blocks, compiler-vectorised (AVX2)"},
  {"tiled__avx512",     Isa::kAvx512,  &f32_gemm_tiled__avx512,      1, 1, 1, "i-l-j in 64x256x256 cache blocks, compiler-vectorised (AVX-512)"},
  {"regblock_6x16__avx2",  Isa::kAvx2,   &f32_gemm_regblock_6x16__avx2,  6, 16, 1, "6x16 tile of C in YMM registers, A and B read in place"},
  {"regblock_8x32__avx512", Isa::kAvx512, &f32_gemm_regblock_8x32__avx512, 8, 32, 1, "8x32 tile of C in ZMM registers, A and B read in place"},
  {"packed_6x16__avx2",    Isa::kAvx2,   &f32_gemm_packed_6x16__avx2,    6, 16, 1, "Goto/BLIS five loops, packed panels, 6x16 YMM micro-kernel"},
  // One row per line of f32_gemm_packed_avx512.inc.
#define KLAB_PACKED_AVX512_SHAPE(MR, NR)                                                     \
  {.name = "packed_" #MR "x" #NR "__avx512", .isa = Isa::kAvx512,                           \
   .fn = &f32_gemm_packed_##MR##x##NR##__avx512, .mr = MR, .nr = NR, .max_threads = 1,      \
   .idea = "Goto/BLIS five loops, packed panels, " #MR "x" #NR " ZMM micro-kernel"},
#include "kernels/gemm/f32_gemm_packed_avx512.inc"
#undef KLAB_PACKED_AVX512_SHAPE
  {"smallm__avx512",       Isa::kAvx512, &f32_gemm_smallm__avx512, 8, 32, 1, "unpacked: axpy (B row-major) or dot (B transposed) kernels that stream B once; M <= 16 and L2-sized"},
  {"smallm_mt__avx512",    Isa::kAvx512, &f32_gemm_smallm_mt__avx512, 8, 32, 64, "small-M kernels, column ranges split over the GEMM thread pool"},
  {"packed_mt_8x32__avx512", Isa::kAvx512, &f32_gemm_packed_mt_8x32__avx512, 8, 32, 64, "packed 8x32, column ranges split over the GEMM thread pool"},
};
// clang-format on

}  // namespace

absl::Span<const GemmVariant> GemmVariants() {
  return absl::MakeConstSpan(kGemmVariants, std::size(kGemmVariants));
}

}  // namespace klab::kernels
