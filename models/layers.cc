#include "models/layers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "kernels/attention/attention.h"
#include "kernels/gemm/gemm.h"
#include "kernels/linear/linear.h"
#include "kernels/softmax/softmax.h"

namespace klab::models {
namespace {

using kernels::Trans;

void CheckGemm(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "models: internal GEMM error: %s\n", s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

void Apply(const PackedLinear& layer, int64_t n, const float* x, int64_t ldx, const float* bias,
           float* y, int64_t ldy, bool accumulate) {
  kernels::LinearThreaded(n, layer.out, layer.in, x, ldx, layer.w, bias, y, ldy, accumulate);
}

void Linear(int64_t n, int64_t in, int64_t out, const float* x, int64_t ldx, const float* w,
            float* y, int64_t ldy, bool accumulate) {
  CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kYes, n, out, in, 1.0f, x, ldx, w, in,
                           accumulate ? 1.0f : 0.0f, y, ldy));
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
  const int len = pos + n;  // positions attended to by the last row
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)));
  if (n == 1) {
    // Decode: the `group` query heads of kv head g are consecutive in q (a group x hs matrix
    // with row stride hs), all at position pos: one fused call per kv head.
    for (int64_t g = 0; g < shape.n_kv_heads; ++g) {
      kernels::AttentionDecode(group, hs, len, scale, q + g * group * hs, hs,
                               cache.keys_t + g * hs * T, T, cache.values + g * hs,
                               cache.ld_values, scores, out + g * group * hs, hs);
    }
    return;
  }
  // Prefill: per head, the n positions are the rows of two GEMMs around a causal softmax.
  for (int h = 0; h < shape.n_heads; ++h) {
    const int64_t g = h / group;
    const float* kt = cache.keys_t + g * hs * T;
    const float* v = cache.values + g * hs;
    CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kNo, n, len, hs, scale, q + h * hs, ldq, kt, T,
                             0.0f, scores, len));
    kernels::SoftmaxCausal(n, len, pos, scores, len, scores, len);
    CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kNo, n, hs, len, 1.0f, scores, len, v,
                             cache.ld_values, 0.0f, out + h * hs, ldo));
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
