// //lab/gemm:c_tile_probe — what the packed GEMM's micro-kernel loses to C, and to the A block's
// size, with packing and everything else taken away.
//
// It runs one KC slice of the five loops: an 8x32 micro-kernel (a copy of the f32_gemm_8x32
// pattern, so this file stands alone) over a packed MC x KC A block and KC x N of packed B, C's
// tile prefetched at the start of each tile and updated (C += A B) at its end. Only where C's
// tiles live changes:
//   --c=hot    one tile, always in L1: the micro-kernel's own speed over the packed panels
//   --c=l2     C tiles cycle through 64 rows of an n-wide C (stays in L2)
//   --c=real   C's rows 0..MC-1, every column: the lines of a real C, reused by every pass
//   --c=fresh  each pass a new band of MC rows: C from L3 or memory, as in a whole GEMM
// Prints GFLOP/s from the best of --passes passes.
//
//   bazel run //lab/gemm:c_tile_probe -- --n=2048 --mc=1360 --c=real
//   bazel run //lab/gemm:c_tile_probe -- --n=2048 --mc=336 --c=real
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"

ABSL_FLAG(int64_t, n, 2048, "columns (and leading dimension) of C; also the N of the slice");
ABSL_FLAG(int64_t, mc, 336, "rows of the packed A block (a multiple of 8)");
ABSL_FLAG(int64_t, kc, 192, "depth of the slice");
ABSL_FLAG(std::string, c, "real", "where C's tiles live: hot, l2, real or fresh");
ABSL_FLAG(int, passes, 15, "passes over the slice; the best is reported");

namespace {
constexpr int kMr = 8, kNr = 32;

[[gnu::noinline]] void Tile(int64_t kc, const float* __restrict a, const float* __restrict b,
                            float* __restrict c, int64_t ldc) {
  for (int i = 0; i < kMr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  __m512 acc[kMr][2];
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t l = 0; l < kc; ++l) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
  for (int i = 0; i < kMr; ++i) {
    float* cp = c + i * ldc;
    _mm512_storeu_ps(cp, _mm512_add_ps(_mm512_loadu_ps(cp), acc[i][0]));
    _mm512_storeu_ps(cp + 16, _mm512_add_ps(_mm512_loadu_ps(cp + 16), acc[i][1]));
  }
}

float* AllocFloats(int64_t count) {
  const size_t bytes = (static_cast<size_t>(count) * 4 + 4095) / 4096 * 4096;
  auto* p = static_cast<float*>(std::aligned_alloc(4096, bytes));
  if (p == nullptr) {
    std::fprintf(stderr, "c_tile_probe: out of memory\n");
    std::exit(1);
  }
  return p;
}
}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times one KC slice of the packed GEMM's 8x32 micro-kernel with C's tiles hot, in L2, or "
      "in a real C (see the file's header).\n  bazel run //lab/gemm:c_tile_probe -- --n=2048 "
      "--mc=336 --c=real");
  absl::ParseCommandLine(argc, argv);
  const int64_t n = absl::GetFlag(FLAGS_n), mc = absl::GetFlag(FLAGS_mc);
  const int64_t kc = absl::GetFlag(FLAGS_kc);
  const std::string where = absl::GetFlag(FLAGS_c);
  const int passes = absl::GetFlag(FLAGS_passes);
  if (n < kNr || n % kNr != 0 || mc < kMr || mc % kMr != 0 || mc > n || kc < 1 || passes < 1 ||
      (where != "hot" && where != "l2" && where != "real" && where != "fresh")) {
    std::fprintf(stderr,
                 "c_tile_probe: need n a multiple of 32, mc a multiple of 8 with 8 <= mc <= n, "
                 "kc >= 1, passes >= 1, --c one of hot, l2, real, fresh\n");
    return 2;
  }
  float* a = AllocFloats(mc * kc);
  float* b = AllocFloats(n * kc);
  float* c = AllocFloats(n * n);
  alignas(64) static float hot[kMr * kNr];
  for (int64_t i = 0; i < mc * kc; ++i) a[i] = 1e-3f * static_cast<float>(i % 7);
  for (int64_t i = 0; i < n * kc; ++i) b[i] = 1e-3f * static_cast<float>(i % 5);
  std::memset(c, 0, static_cast<size_t>(n * n) * 4);
  std::memset(hot, 0, sizeof(hot));

  double best = 1e30;
  for (int pass = 0; pass < passes; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t jr = 0; jr < n; jr += kNr) {
      for (int64_t ir = 0; ir < mc; ir += kMr) {
        float* tile = hot;
        int64_t ldc = kNr;
        if (where != "hot") {
          int64_t row = ir;
          if (where == "l2") row = ir % 64;
          if (where == "fresh") row = (static_cast<int64_t>(pass) * mc + ir) % (n - kMr + 1) / kMr * kMr;
          tile = c + row * n + jr;
          ldc = n;
        }
        Tile(kc, a + ir * kc, b + jr * kc, tile, ldc);
      }
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double sum = 0;
  for (int64_t i = 0; i < n * n; i += 97) sum += c[i];
  std::printf("n=%lld mc=%lld kc=%lld c=%s: %.1f GFLOP/s (best of %d; checksum %.3g)\n",
              static_cast<long long>(n), static_cast<long long>(mc), static_cast<long long>(kc),
              where.c_str(), 2.0 * static_cast<double>(mc) * kc * n / best * 1e-9, passes,
              sum + hot[0]);
  std::free(a);
  std::free(b);
  std::free(c);
  return 0;
}
