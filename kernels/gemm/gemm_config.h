// Run-time configuration of the GEMM variants that block and thread: cache blocking as a value
// (docs/style.md rule 5) and the worker pool of the threaded variants.
//
// Blocking (BLIS names): a KC x NR micro-panel of packed B stays in L1 while MC x KC of packed A
// sits in L2 and KC x NC of packed B in L3. DeriveBlocking turns cache sizes into the three
// numbers; DefaultBlocking uses the sizes cpuid reports (kernels/cpu). A caller (the sweep, the
// autotuner) may override them for every variant; the values in effect are recorded per row.
#ifndef KLAB_KERNELS_GEMM_GEMM_CONFIG_H_
#define KLAB_KERNELS_GEMM_GEMM_CONFIG_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/threading/thread_pool.h"

namespace klab::kernels {

struct Blocking {
  int mc = 0;  // rows of op(A) packed per block, a multiple of MR
  int kc = 0;  // depth of one packed slice
  int nc = 0;  // columns of op(B) packed per block, a multiple of NR
};

// kc: the KC x NR B micro-panel fills about half of L1d (the other half holds the streaming A
// micro-panel and C's tile); mc: the MC x KC A block fills about an eighth of L2 (see
// gemm_config.cc: every C tile passes through L2 too, and a larger A block loses lines to it);
// nc: KC x NC of B fills at most a quarter of L3 (shared with the other cores), capped at 4096
// columns.
Blocking DeriveBlocking(int mr, int nr, int64_t l1d_bytes, int64_t l2_bytes, int64_t l3_bytes);

// DeriveBlocking with the cache sizes of this CPU (cpuid), or the override if one is set.
Blocking EffectiveBlocking(int mr, int nr);

// Sets (or, with nullopt, clears) a blocking used by every blocked variant. Values are rounded
// to multiples of MR/NR by each variant. Not thread-safe with running GEMMs.
void SetBlockingOverride(std::optional<Blocking> blocking);
std::optional<Blocking> BlockingOverride();

// The pool the threaded variants use: `threads` participants on `cpus` (one per participant;
// empty = not pinned). Default: 1 thread. Not thread-safe with running GEMMs.
void SetGemmThreads(int threads, std::vector<int> cpus = {});
ThreadPool& GemmThreadPool();

// Scoped overrides (tests): set on construction, and the previous blocking override / thread
// count restored on destruction, so a failing ASSERT cannot leak them into later tests.
class ScopedBlockingOverride {
 public:
  explicit ScopedBlockingOverride(std::optional<Blocking> blocking)
      : previous_(BlockingOverride()) {
    SetBlockingOverride(blocking);
  }
  ~ScopedBlockingOverride() { SetBlockingOverride(previous_); }
  ScopedBlockingOverride(const ScopedBlockingOverride&) = delete;
  ScopedBlockingOverride& operator=(const ScopedBlockingOverride&) = delete;

 private:
  std::optional<Blocking> previous_;
};

class ScopedGemmThreads {
 public:
  explicit ScopedGemmThreads(int threads) : previous_(GemmThreadPool().threads()) {
    SetGemmThreads(threads);
  }
  ~ScopedGemmThreads() { SetGemmThreads(previous_); }
  ScopedGemmThreads(const ScopedGemmThreads&) = delete;
  ScopedGemmThreads& operator=(const ScopedGemmThreads&) = delete;

 private:
  int previous_;
};

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_GEMM_GEMM_CONFIG_H_
