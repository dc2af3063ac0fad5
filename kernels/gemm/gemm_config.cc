#include "kernels/gemm/gemm_config.h"

#include <algorithm>
#include <memory>

#include "kernels/cpu/cpu.h"
#include "kernels/tuning/tuning.h"

namespace klab::kernels {
namespace {
std::optional<Blocking> g_override;
std::unique_ptr<ThreadPool> g_pool;

int RoundDown(int64_t v, int multiple) {
  return static_cast<int>(std::max<int64_t>(multiple, v / multiple * multiple));
}
}  // namespace

Blocking DeriveBlocking(int mr, int nr, int64_t l1d, int64_t l2, int64_t l3) {
  if (l1d <= 0) l1d = 32 << 10;
  if (l2 <= 0) l2 = 256 << 10;
  if (l3 <= 0) l3 = 8 << 20;
  Blocking b;
  b.kc = std::clamp(RoundDown(l1d / 2 / (nr * 4), 16), 64, 1024);
  // An eighth of L2, not the textbook half: each C tile the micro-kernel finishes comes from L3
  // or memory through L2 and goes back, and with a large A block those lines push A's out of L2
  // before its next use. Measured on this lab's VM (2 MiB L2, KC = 192, 8x32) with
  // `bazel run //lab/gemm:c_tile_probe -- --mc=1360|336 --c=hot|real|fresh`: one slice over a
  // 2048-wide C ran 150-152 GFLOP/s (C from L3: 145-148) with a 1 MiB A block (MC = 1360) and
  // 162-165 (159) with MC = 336; a hot C tile 170-172 for both. The whole packed_8x32 GEMM
  // against oneDNN in the same runs, three alternated rounds at n = 2048: 0.896-0.929x with
  // MC = 336 against 0.889-0.908x (at 512-1024 no difference beyond the noise).
  b.mc = std::clamp(RoundDown(l2 / 8 / (b.kc * 4), mr), mr, 4096 / mr * mr);
  b.nc = std::clamp(RoundDown(l3 / 4 / (b.kc * 4), nr), nr, 4096 / nr * nr);
  return b;
}

// Rounds a blocking set from outside (an override, a profile) to the micro-kernel's multiples.
Blocking Rounded(Blocking b, int mr, int nr) {
  b.mc = std::max(mr, b.mc / mr * mr);
  b.nc = std::max(nr, b.nc / nr * nr);
  b.kc = std::max(1, b.kc);
  return b;
}

Blocking EffectiveBlocking(int mr, int nr) {
  if (g_override) return Rounded(*g_override, mr, nr);
  // The tuning profile's blocking for this micro-kernel, measured on the machine (//perf:tune).
  if (const TuningProfile* t = ActiveTuning(); t != nullptr) {
    if (const TunedBlocking* b = FindTunedBlocking(*t, mr, nr)) return Rounded({b->mc, b->kc, b->nc}, mr, nr);
  }
  const CpuFeatures& f = GetCpuFeatures();
  return DeriveBlocking(mr, nr, f.l1d_bytes, f.l2_bytes, f.l3_bytes);
}

void SetBlockingOverride(std::optional<Blocking> blocking) { g_override = blocking; }
std::optional<Blocking> BlockingOverride() { return g_override; }

void SetGemmThreads(int threads, std::vector<int> cpus) {
  g_pool.reset();
  g_pool = std::make_unique<ThreadPool>(threads, std::move(cpus));
}

ThreadPool& GemmThreadPool() {
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(1);
  return *g_pool;
}

}  // namespace klab::kernels
