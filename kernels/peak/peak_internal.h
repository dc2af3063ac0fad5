#ifndef KLAB_KERNELS_PEAK_PEAK_INTERNAL_H_
#define KLAB_KERNELS_PEAK_PEAK_INTERNAL_H_

#include <cstddef>
#include <cstdint>

namespace klab::kernels {

// 12 independent chains: latency 4 x 2 ports = 8 needed; 12 leaves slack and fits in 16 YMM.
inline constexpr int kPeakAccumulators = 12;

float f32_fma_peak__avx2(int64_t iterations) noexcept;
float f32_fma_peak__avx512(int64_t iterations) noexcept;

// bandwidth.h's TriadF32 per ISA.
void f32_triad__avx2(size_t n, float s, const float* b, const float* c, float* a) noexcept;
void f32_triad__avx512(size_t n, float s, const float* b, const float* c, float* a) noexcept;
// bandwidth.h's ReadF32 per ISA.
float f32_read__avx2(size_t n, const float* a) noexcept;
void f32_copy__avx2(size_t n, const float* x, float* y) noexcept;
void f32_copy__avx512(size_t n, const float* x, float* y) noexcept;
float f32_read__avx512(size_t n, const float* a) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_PEAK_PEAK_INTERNAL_H_
