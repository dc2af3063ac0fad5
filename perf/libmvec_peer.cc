#include "perf/libmvec_peer.h"

#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/cpu.h"

// libmvec's AVX-512 entry points (glibc >= 2.35 for tanhf and erff), by their vector-ABI names.
extern "C" __m512 _ZGVeN16v_expf(__m512);
extern "C" __m512 _ZGVeN16v_tanhf(__m512);
extern "C" __m512 _ZGVeN16v_erff(__m512);

namespace klab::perf::libmvec {
namespace {

template <class F>
void Map(size_t n, const float* x, float* y, F f) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

__m512 SiluV(__m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), v));
  return _mm512_div_ps(v, _mm512_add_ps(one, e));
}

}  // namespace

bool Available() { return kernels::CpuSupports(kernels::Isa::kAvx512); }

void GeluTanh(size_t n, const float* x, float* y) {
  Map(n, x, y, [](__m512 v) {
    const __m512 u = _mm512_mul_ps(
        _mm512_set1_ps(0.7978845608f),
        _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), v), _mm512_mul_ps(v, v), v));
    const __m512 t = _ZGVeN16v_tanhf(u);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v),
                         _mm512_add_ps(_mm512_set1_ps(1.0f), t));
  });
}

void GeluErf(size_t n, const float* x, float* y) {
  Map(n, x, y, [](__m512 v) {
    const __m512 e = _ZGVeN16v_erff(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v),
                         _mm512_add_ps(_mm512_set1_ps(1.0f), e));
  });
}

void Silu(size_t n, const float* x, float* y) { Map(n, x, y, SiluV); }

void Swiglu(size_t n, const float* a, const float* b, float* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_mul_ps(SiluV(_mm512_loadu_ps(a + i)), _mm512_loadu_ps(b + i)));
  }
  for (; i < n; ++i) y[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
}

void Softmax(size_t rows, size_t cols, const float* x, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float max = -INFINITY;
    for (size_t i = 0; i < cols; ++i) max = std::fmax(max, xr[i]);
    const __m512 vmax = _mm512_set1_ps(max);
    __m512 sum = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      const __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vmax));
      _mm512_storeu_ps(yr + i, e);
      sum = _mm512_add_ps(sum, e);
    }
    float s = _mm512_reduce_add_ps(sum);
    for (; i < cols; ++i) s += (yr[i] = std::exp(xr[i] - max));
    const float inv = 1.0f / s;
    for (i = 0; i < cols; ++i) yr[i] *= inv;
  }
}

UnaryFn Unary(std::string_view op) {
  if (op == "gelu_tanh") return GeluTanh;
  if (op == "gelu_erf") return GeluErf;
  if (op == "silu") return Silu;
  return nullptr;
}

}  // namespace klab::perf::libmvec
