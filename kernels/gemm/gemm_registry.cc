// The GEMM variant registry, in ladder order. Tests (the edge cases come from each row's tile),
// the sweep and the benchmarks enumerate this list; adding a variant is adding a row here (and its
// file), and adding a packed AVX-512 shape is one line of f32_gemm_packed_avx512.inc.
#include <iterator>

#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels {
namespace {

constexpr GemmVariant kGemmVariants[] = {
    {.name = "naive_ijk", .isa = Isa::kScalar, .fn = &f32_gemm_naive_ijk,
     .idea = "textbook i-j-l dot products"},
    {.name = "loop_ikj", .isa = Isa::kScalar, .fn = &f32_gemm_loop_ikj__scalar,
     .idea = "i-l-j order, unit-stride inner loop, baseline SSE2"},
    {.name = "loop_ikj__avx2", .isa = Isa::kAvx2, .fn = &f32_gemm_loop_ikj__avx2,
     .idea = "i-l-j order, compiler-vectorised for AVX2+FMA"},
    {.name = "loop_ikj__avx512", .isa = Isa::kAvx512, .fn = &f32_gemm_loop_ikj__avx512,
     .idea = "i-l-j order, compiler-vectorised for AVX-512"},
    {.name = "tiled__avx2", .isa = Isa::kAvx2, .fn = &f32_gemm_tiled__avx2,
     .idea = "i-l-j in 64x256x256 cache blocks, compiler-vectorised (AVX2)"},
    {.name = "tiled__avx512", .isa = Isa::kAvx512, .fn = &f32_gemm_tiled__avx512,
     .idea = "i-l-j in 64x256x256 cache blocks, compiler-vectorised (AVX-512)"},
    {.name = "regblock_6x16__avx2", .isa = Isa::kAvx2, .fn = &f32_gemm_regblock_6x16__avx2,
     .mr = 6, .nr = 16, .wide_nr = 16,
     .idea = "6x16 tile of C in YMM registers, A and B read in place"},
    {.name = "regblock_8x32__avx512", .isa = Isa::kAvx512, .fn = &f32_gemm_regblock_8x32__avx512,
     .mr = 8, .nr = 32, .wide_nr = 32,
     .idea = "8x32 tile of C in ZMM registers, A and B read in place"},
    {.name = "packed_6x16__avx2", .isa = Isa::kAvx2, .fn = &f32_gemm_packed_6x16__avx2,
     .mr = 6, .nr = 16, .wide_nr = 16, .blocked = true,
     .idea = "Goto/BLIS five loops, packed panels, 6x16 YMM micro-kernel"},
// One row per line of f32_gemm_packed_avx512.inc.
#define KLAB_PACKED_AVX512_SHAPE(MR, NR)                                                         \
    {.name = "packed_" #MR "x" #NR "__avx512", .isa = Isa::kAvx512,                             \
     .fn = &f32_gemm_packed_##MR##x##NR##__avx512, .mr = MR, .nr = NR, .wide_nr = NR,           \
     .blocked = true, .idea = "Goto/BLIS five loops, packed panels, " #MR "x" #NR " ZMM micro-kernel"},
#include "kernels/gemm/f32_gemm_packed_avx512.inc"
#undef KLAB_PACKED_AVX512_SHAPE
    // Row groups of 1-8 rows; the axpy form's column tile narrows from 128 to 32 as rows grow.
    {.name = "smallm__avx512", .isa = Isa::kAvx512, .fn = &f32_gemm_smallm__avx512,
     .mr = 8, .nr = 32, .wide_nr = 128,
     .idea = "unpacked: axpy (B row-major) or dot (B transposed) kernels that stream B once; "
             "M <= 16 and L2-sized"},
    {.name = "smallm_mt__avx512", .isa = Isa::kAvx512, .fn = &f32_gemm_smallm_mt__avx512,
     .mr = 8, .nr = 32, .wide_nr = 128, .max_threads = 64,
     .idea = "small-M kernels, column ranges split over the GEMM thread pool"},
    {.name = "regblock_mt_8x32__avx512", .isa = Isa::kAvx512,
     .fn = &f32_gemm_regblock_mt_8x32__avx512, .mr = 8, .nr = 32, .wide_nr = 32, .max_threads = 64,
     .idea = "regblock 8x32, column ranges split over the GEMM thread pool"},
    {.name = "packed_mt_8x32__avx512", .isa = Isa::kAvx512,
     .fn = &f32_gemm_packed_mt_8x32__avx512, .mr = 8, .nr = 32, .wide_nr = 32, .blocked = true,
     .max_threads = 64, .idea = "packed 8x32, column ranges split over the GEMM thread pool"},
};

}  // namespace

absl::Span<const GemmVariant> GemmVariants() {
  return absl::MakeConstSpan(kGemmVariants, std::size(kGemmVariants));
}

}  // namespace klab::kernels
