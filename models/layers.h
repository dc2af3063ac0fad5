// The building blocks both architectures share, each a kernel call or two: a linear layer on
// weights packed once (kernels/linear), causal multi-head (grouped-query) attention over a KV
// cache (kernels/attention), and rotary position embedding.
#ifndef KLAB_MODELS_LAYERS_H_
#define KLAB_MODELS_LAYERS_H_

#include <cstdint>

#include "models/arena.h"

namespace klab::models {

// A linear layer's weights packed once for kernels/linear (panels of 16 outputs, streamed front
// to back): what decode and prefill read; the file-layout copy stays for the fp64 reference.
struct PackedLinear {
  const float* w = nullptr;  // kernels::PackedLinearSize(out, in) floats, 64-byte aligned
  int64_t out = 0, in = 0;
};

// Packs W (out x in, row-major) into the next PackedLinearSize(out, in) floats of `arena`.
PackedLinear PackLinear(FloatArena& arena, const float* w, int64_t out, int64_t in);

// y[r, :] = x[r, :] W^T + bias (+ y[r, :] when accumulate) for rows r < n, bias may be null:
// one call of the packed-weight kernel, its panels split over the GEMM thread pool.
void Apply(const PackedLinear& layer, int64_t n, const float* x, int64_t ldx, const float* bias,
           float* y, int64_t ldy, bool accumulate = false);

struct AttentionShape {
  int n_heads = 0;     // query heads
  int n_kv_heads = 0;  // key/value heads; query head h reads kv head h / (n_heads / n_kv_heads)
  int head_size = 0;
};

// The KV cache of one layer. Keys transposed: for kv head g, keys_t + g hs T holds a head_size
// x T matrix whose column p is the key of position p, T = `positions`, so the scores of one query
// against every position are FMAs along rows of keys_t. Values as rows: position p's values
// (n_kv_heads head_size floats) at values + p ld_values, so the weighted sum is an axpy per
// position and storing a position writes one contiguous row (a transposed store touches a cache
// line per feature, and at Medium's size those lines have left the cache by the next token).
struct KvCacheLayer {
  float* keys_t;
  float* values;
  int positions;
  int64_t ld_values;
};

// Writes the keys and values of n positions pos .. pos + n - 1 (rows of k and v, n_kv_heads
// head_size floats each, row strides ldk and ldv) into the cache.
void StoreKv(const AttentionShape& shape, int n, int pos, const float* k, int64_t ldk,
             const float* v, int64_t ldv, const KvCacheLayer& cache);

// Causal attention of n query rows at positions pos .. pos + n - 1 over the cached keys and
// values of positions 0 .. pos + n - 1. q: n x (n_heads head_size), row stride ldq; out: n x
// (n_heads head_size), row stride ldo. `scores` is scratch of n_heads / n_kv_heads x
// kernels::AttentionScoresStride(pos + n)
// floats. Row r attends to positions [0, pos + r] in one fused kernels/attention call per kv
// head, its query heads together, so K and V are read once per group. A prompt takes the same
// path row by row: against a GEMM of the whole causal block (half of it masked) around a causal
// softmax it was 1.9x faster on stories260K's pp64 and even on GPT-2 Medium's
// (lab/models/README.md); and a prefilled prompt attends exactly as a decoded one.
void CausalAttention(const AttentionShape& shape, int n, int pos, const float* q, int64_t ldq,
                     const KvCacheLayer& cache, float* scores, float* out, int64_t ldo);

// Rotary position embedding tables: cos and sin of pos * theta^(-2i / head_size) for positions
// [0, positions) and pairs i < head_size / 2, computed in double; each positions x head_size/2.
void RopeTables(int positions, int head_size, double theta, float* cos_table, float* sin_table);

// Rotates the pairs (2i, 2i + 1) of every head of n rows (row r at position pos + r): heads
// consecutive heads of head_size floats per row, row stride ld.
void ApplyRope(int n, int pos, int heads, int head_size, const float* cos_table,
               const float* sin_table, float* x, int64_t ld);

}  // namespace klab::models

#endif  // KLAB_MODELS_LAYERS_H_
