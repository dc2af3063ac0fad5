#include "kernels/attention/attention.h"

#include <cmath>

namespace klab::kernels {

// The AVX2 and AVX-512 tables, defined by f32_attention__avx2.cc and f32_attention__avx512.cc.
namespace internal {
extern const AttentionKernels kAttentionAvx2;
extern const AttentionKernels kAttentionAvx512;
}  // namespace internal

namespace {

// The scalar variant: the formulas of attention.h, one row and one position at a time.
void DecodeScalar(size_t rows, size_t hs, size_t len, float scale, const float* q, size_t ldq,
                  const float* kt, size_t ld_t, const float* values, size_t ldv, float* scores,
                  float* out, size_t ldo) noexcept {
  for (size_t i = 0; i < rows; ++i) {
    float* s = scores + i * len;
    float m = -INFINITY;
    for (size_t j = 0; j < len; ++j) {
      float dot = 0.0f;
      for (size_t e = 0; e < hs; ++e) dot += q[i * ldq + e] * kt[e * ld_t + j];
      s[j] = dot * scale;
      m = std::fmax(m, s[j]);
    }
    float sum = 0.0f;
    for (size_t j = 0; j < len; ++j) sum += (s[j] = std::exp(s[j] - m));
    const float inv = 1.0f / sum;
    for (size_t e = 0; e < hs; ++e) {
      float acc = 0.0f;
      for (size_t j = 0; j < len; ++j) acc += s[j] * values[j * ldv + e];
      out[i * ldo + e] = acc * inv;
    }
  }
}

}  // namespace

absl::Span<const AttentionKernels> AttentionVariants() {
  static const AttentionKernels variants[] = {
      {.name = "f32_attention__scalar", .isa = Isa::kScalar, .decode = DecodeScalar},
      internal::kAttentionAvx2,
      internal::kAttentionAvx512,
  };
  return variants;
}

const AttentionKernels& BestAttention() {
  static const AttentionKernels& best = BestSupported(AttentionVariants());
  return best;
}

void AttentionDecode(size_t rows, size_t head_size, size_t len, float scale, const float* q,
                     size_t ldq, const float* keys_t, size_t ld_t, const float* values, size_t ldv,
                     float* scores, float* out, size_t ldo) noexcept {
  BestAttention().decode(rows, head_size, len, scale, q, ldq, keys_t, ld_t, values, ldv, scores,
                         out, ldo);
}

}  // namespace klab::kernels
