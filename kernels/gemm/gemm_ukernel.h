// The register-blocked micro-kernel, written once over a vector type (AVX2: 8 floats, AVX-512:
// 16) and instantiated per ISA inside that ISA's translation unit (see gemm_internal.h).
//
//   f32_gemm_<MR>x<NR>__<isa>:  C[MR x NR] := beta * C + A_panel * B_panel
//
// It keeps the MR x NR tile of C in MR * NR/W vector accumulators (W = lanes); per step of k it
// loads NR/W vectors of B and broadcasts MR scalars of A: MR * NR/W FMAs for NR/W + MR loads.
// Two FMA ports with 4-cycle latency need >= 8 independent accumulators; the register file bounds
// MR * NR/W + NR/W + 1 <= 16 (AVX2) or 32 (AVX-512).
//
// Tile() reads packed panels (A: kc x MR, l-major; B: kc x NR, row-major, 64-byte aligned).
// TileStrided() reads A and B where they are (element (i, l) of A at a[i*rs_a + l*cs_a], row l of
// B at b + l*ldb, unit stride along n), which is what the unpacked "regblock" step uses.
#ifndef KLAB_KERNELS_GEMM_GEMM_UKERNEL_H_
#define KLAB_KERNELS_GEMM_GEMM_UKERNEL_H_

#include <immintrin.h>

#include <cstdint>

#include "kernels/simd/vec.h"

namespace klab::kernels::gemm_internal {
#if defined(__AVX2__) && defined(__FMA__)
using simd::VecAvx2;  // traits of kernels/simd/vec.h
#endif
#if defined(__AVX512F__)
using simd::VecAvx512;
#endif
// Internal linkage for everything here: each ISA translation unit gets its own copy (gemm_internal.h).
namespace {

template <class Vec, int MR, int NR>
struct SimdUkr {
  static_assert(NR % Vec::kLanes == 0, "NR is a multiple of the vector width");
  using V = typename Vec::V;
  static constexpr int kMr = MR, kNr = NR;
  static constexpr int kNv = NR / Vec::kLanes;
  static constexpr int kW = Vec::kLanes;

  // C := beta * C + alpha * acc for the tile (beta == 0: C not read).
  static inline void Store(V (&acc)[MR][kNv], float* __restrict c, int64_t ldc, float alpha,
                           float beta) {
    if (alpha != 1.0f) {
      const V va = Vec::Set1(alpha);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) acc[i][v] = Vec::Mul(va, acc[i][v]);
      }
    }
    if (beta == 0.0f) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) Vec::StoreU(c + i * ldc + v * kW, acc[i][v]);
      }
    } else if (beta == 1.0f) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) {
          float* cp = c + i * ldc + v * kW;
          Vec::StoreU(cp, Vec::Add(Vec::LoadU(cp), acc[i][v]));
        }
      }
    } else {
      const V vb = Vec::Set1(beta);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) {
          float* cp = c + i * ldc + v * kW;
          Vec::StoreU(cp, Vec::Fma(vb, Vec::LoadU(cp), acc[i][v]));
        }
      }
    }
  }

  // C's tile is read (and written) only after the k loop: start bringing it in now, so the misses
  // overlap with the FMAs instead of stalling the stores.
  static inline void PrefetchC(const float* c, int64_t ldc) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int v = 0; v < NR; v += 16) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + v), _MM_HINT_T0);
      }
    }
  }

  static void Tile(int64_t kc, const float* __restrict a, const float* __restrict b,
                   float* __restrict c, int64_t ldc, float beta) noexcept {
    PrefetchC(c, ldc);
    V acc[MR][kNv];
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) acc[i][v] = Vec::Zero();
    }
    for (int64_t l = 0; l < kc; ++l) {
      V bv[kNv];
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) bv[v] = Vec::Load(b + v * kW);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const V ai = Vec::Set1(a[i]);
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) acc[i][v] = Vec::Fma(ai, bv[v], acc[i][v]);
      }
      a += MR;
      b += NR;
    }
    Store(acc, c, ldc, 1.0f, beta);
  }

  static void TileStrided(int64_t k, const float* __restrict a, int64_t rs_a, int64_t cs_a,
                          const float* __restrict b, int64_t ldb, float* __restrict c,
                          int64_t ldc, float alpha, float beta) noexcept {
    PrefetchC(c, ldc);
    V acc[MR][kNv];
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) acc[i][v] = Vec::Zero();
    }
    for (int64_t l = 0; l < k; ++l) {
      V bv[kNv];
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) bv[v] = Vec::LoadU(b + v * kW);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const V ai = Vec::Set1(a[i * rs_a]);
#pragma GCC unroll 8
        for (int v = 0; v < kNv; ++v) acc[i][v] = Vec::Fma(ai, bv[v], acc[i][v]);
      }
      a += cs_a;
      b += ldb;
    }
    Store(acc, c, ldc, alpha, beta);
  }
};

}  // namespace
}  // namespace klab::kernels::gemm_internal

#endif  // KLAB_KERNELS_GEMM_GEMM_UKERNEL_H_
