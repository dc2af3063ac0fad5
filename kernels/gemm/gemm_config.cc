#include "kernels/gemm/gemm_config.h"

#include <algorithm>
#include <memory>

#include "kernels/cpu/cpu.h"

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
  b.mc = std::clamp(RoundDown(l2 / 2 / (b.kc * 4), mr), mr, 4096 / mr * mr);
  b.nc = std::clamp(RoundDown(l3 / 4 / (b.kc * 4), nr), nr, 4096 / nr * nr);
  return b;
}

Blocking EffectiveBlocking(int mr, int nr) {
  if (g_override) {
    Blocking b = *g_override;
    b.mc = std::max(mr, b.mc / mr * mr);
    b.nc = std::max(nr, b.nc / nr * nr);
    b.kc = std::max(1, b.kc);
    return b;
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
