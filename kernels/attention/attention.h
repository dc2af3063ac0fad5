// Attention of the decode step, fused: the query heads that share one key/value head, each one
// query row at the newest position, against every cached position — scores, softmax and the
// weighted sum of values in one call, vectorised over positions. A registry of variants
// (scalar, AVX2, AVX-512) with run-time dispatch.
//
// Keys are cached transposed (models/layers.h): keys_t is head_size x ld_t, its column j the key
// of position j, so the scores of a query against positions j .. j+15 are 16 lanes of one FMA
// per key feature. Values are cached as rows (position j's values at values + j ldv), so the
// weighted sum is an axpy per position (a vector FMA with p_j broadcast, no horizontal sums) and
// storing a new position writes one contiguous row. A GEMM-based decode (scores = q K^T,
// out = P V through Sgemm) pays a call, a dispatch and a softmax pass per kv head and hands the
// GEMM dot products of head_size floats (8 in stories260K); this is one pass over K and one over V.
//
//   s[i][j]   = scale sum_e q[i][e] keys_t[e][j]              j < len
//   p[i][j]   = exp(s[i][j] - max_j s[i][j])
//   out[i][e] = sum_j p[i][j] values[j][e] / sum_j p[i][j]    e < head_size
//
// Contract: rows >= 1 query rows (row stride ldq), len >= 1, ld_t >= len, ldv >= head_size;
// `scores` is scratch of rows x AttentionScoresStride(len) floats (rows padded to whole vectors,
// so tails are stored as whole vectors: a masked store read back at once would stall the load
// until the store retires); out rows have stride ldo. Any alignment; no allocation.
//
// Error bound (held by attention_test against double on the same float inputs), per output:
//   |out - exact| <= sum_j p_j |v_j| (d_j + max_k d_k + |m - s_j| 2^-24 + (17 len / 16 + 24) 2^-24)
// with p the exact probabilities, d_j = head_size 2^-23 scale sum_e |q_e k_je| the rounding of
// score j (it moves p_j by d_j relative, and the normaliser by at most max_k d_k), |m - s_j| 2^-24
// the rounding of s - m before exp, and 17 len / 16 + 24 roundings: the weighted sum runs along
// positions in one accumulator per lane (len terms; two interleaved halves where registers
// allow), the normaliser in lanes (len / 16 terms each), exp's ulp, the reductions and the scaling.
#ifndef KLAB_KERNELS_ATTENTION_ATTENTION_H_
#define KLAB_KERNELS_ATTENTION_ATTENTION_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

// Floats per row of the scores scratch: len rounded up to 16.
constexpr size_t AttentionScoresStride(size_t len) { return (len + 15) / 16 * 16; }

using AttentionDecodeFn = void (*)(size_t rows, size_t head_size, size_t len, float scale,
                                   const float* q, size_t ldq, const float* keys_t, size_t ld_t,
                                   const float* values, size_t ldv, float* scores, float* out,
                                   size_t ldo) noexcept;

struct AttentionKernels {
  std::string_view name;
  Isa isa;
  AttentionDecodeFn decode;
};

absl::Span<const AttentionKernels> AttentionVariants();
const AttentionKernels& BestAttention();

void AttentionDecode(size_t rows, size_t head_size, size_t len, float scale, const float* q,
                     size_t ldq, const float* keys_t, size_t ld_t, const float* values, size_t ldv,
                     float* scores, float* out, size_t ldo) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_ATTENTION_ATTENTION_H_
