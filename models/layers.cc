#include "models/layers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "kernels/gemm/gemm.h"
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

void Linear(int64_t n, int64_t in, int64_t out, const float* x, int64_t ldx, const float* w,
            float* y, int64_t ldy, bool accumulate) {
  CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kYes, n, out, in, 1.0f, x, ldx, w, in,
                           accumulate ? 1.0f : 0.0f, y, ldy));
}

void CausalAttention(const AttentionShape& shape, int n, int pos, const float* q, int64_t ldq,
                     const float* k, const float* v, int64_t ldkv, float* scores, float* out,
                     int64_t ldo) {
  const int hs = shape.head_size;
  const int group = shape.n_heads / shape.n_kv_heads;
  const int len = pos + n;  // positions attended to by the last row
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)));
  if (n == 1) {
    // The `group` query heads of kv head g are consecutive in q: a group x hs matrix with row
    // stride hs. Every row is at position pos, so each sees all len positions: no mask.
    for (int g = 0; g < shape.n_kv_heads; ++g) {
      const float* qg = q + static_cast<int64_t>(g) * group * hs;
      CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kYes, group, len, hs, scale, qg, hs,
                               k + static_cast<int64_t>(g) * hs, ldkv, 0.0f, scores, len));
      kernels::Softmax(group, len, scores, len, scores, len);
      CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kNo, group, hs, len, 1.0f, scores, len,
                               v + static_cast<int64_t>(g) * hs, ldkv, 0.0f,
                               out + static_cast<int64_t>(g) * group * hs, hs));
    }
    return;
  }
  for (int h = 0; h < shape.n_heads; ++h) {
    const int64_t g = h / group;
    CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kYes, n, len, hs, scale,
                             q + static_cast<int64_t>(h) * hs, ldq, k + g * hs, ldkv, 0.0f,
                             scores, len));
    kernels::SoftmaxCausal(n, len, pos, scores, len, scores, len);
    CheckGemm(kernels::Sgemm(Trans::kNo, Trans::kNo, n, hs, len, 1.0f, scores, len, v + g * hs,
                             ldkv, 0.0f, out + static_cast<int64_t>(h) * hs, ldo));
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
