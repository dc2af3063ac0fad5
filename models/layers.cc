#include "models/layers.h"

#include <cmath>
#include <cstring>

#include "kernels/attention/attention.h"
#include "kernels/linear/linear.h"

namespace klab::models {

PackedLinear PackLinear(FloatArena& arena, const float* w, int64_t out, int64_t in) {
  float* p = arena.Take(kernels::PackedLinearSize(out, in));
  kernels::PackLinearWeights(out, in, w, in, p);
  return PackedLinear{p, out, in};
}

void Apply(const PackedLinear& layer, int64_t n, const float* x, int64_t ldx, const float* bias,
           float* y, int64_t ldy, bool accumulate) {
  kernels::LinearThreaded(n, layer.out, layer.in, x, ldx, layer.w, bias, y, ldy, accumulate);
}

void StoreKv(const AttentionShape& shape, int n, int pos, const float* k, int64_t ldk,
             const float* v, int64_t ldv, const KvCacheLayer& cache) {
  const int64_t hs = shape.head_size, T = cache.positions;
  const int64_t kv = shape.n_kv_heads * hs;
  for (int64_t f = 0; f < kv; ++f) {
    float* kt = cache.keys_t + f * T + pos;
    for (int i = 0; i < n; ++i) kt[i] = k[i * ldk + f];
  }
  for (int i = 0; i < n; ++i) {
    std::memcpy(cache.values + (pos + i) * cache.ld_values, v + i * ldv, kv * sizeof(float));
  }
}

void CausalAttention(const AttentionShape& shape, int n, int pos, const float* q, int64_t ldq,
                     const KvCacheLayer& cache, float* scores, float* out, int64_t ldo) {
  const int64_t hs = shape.head_size, T = cache.positions;
  const int group = shape.n_heads / shape.n_kv_heads;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)));
  // Row r (position pos + r) attends to positions [0, pos + r]: one fused call per kv head, the
  // query heads of that kv head together (consecutive in q: a group x hs matrix, row stride hs).
  for (int r = 0; r < n; ++r) {
    for (int64_t g = 0; g < shape.n_kv_heads; ++g) {
      kernels::AttentionDecode(group, hs, pos + r + 1, scale, q + r * ldq + g * group * hs, hs,
                               cache.keys_t + g * hs * T, T, cache.values + g * hs,
                               cache.ld_values, scores, out + r * ldo + g * group * hs, hs);
    }
  }
}

void RopeTables(int positions, int head_size, double theta, float* cos_table, float* sin_table) {
  const int half = head_size / 2;
  for (int p = 0; p < positions; ++p) {
    for (int i = 0; i < half; ++i) {
      const double freq = std::pow(theta, -2.0 * i / head_size);
      const double angle = p * freq;
      cos_table[static_cast<int64_t>(p) * half + i] = static_cast<float>(std::cos(angle));
      sin_table[static_cast<int64_t>(p) * half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

void ApplyRope(int n, int pos, int heads, int head_size, const float* cos_table,
               const float* sin_table, float* x, int64_t ld) {
  const int half = head_size / 2;
  for (int r = 0; r < n; ++r) {
    const float* c = cos_table + static_cast<int64_t>(pos + r) * half;
    const float* s = sin_table + static_cast<int64_t>(pos + r) * half;
    float* row = x + r * ld;
    for (int h = 0; h < heads; ++h) {
      float* xh = row + static_cast<int64_t>(h) * head_size;
      for (int i = 0; i < half; ++i) {
        const float a = xh[2 * i], b = xh[2 * i + 1];
        xh[2 * i] = a * c[i] - b * s[i];
        xh[2 * i + 1] = a * s[i] + b * c[i];
      }
    }
  }
}

}  // namespace klab::models
