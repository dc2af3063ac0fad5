// The cost of one fork-join of the pool: Run() of an empty task on 2..N participants pinned to
// CPUs 0..N-1, the workers awake (spinning). What a threaded kernel pays per call before any
// work; the small threaded GEMMs (n = 64: a few microseconds) feel it.
//
// BM_Handoff is the floor under it: CPU 0 stores a number, CPU 1 spins until it sees it and
// stores it back, CPU 0 spins until it sees that; nothing else. Arg 1: both numbers in one cache
// line (the pool's layout); arg 2: in two lines, where each handoff moves two lines.
// BM_ForkJoin costs more than the floor because the task's closure lives on the caller's stack
// and the worker reads it from there (another line, after it learns where).
//
//   bazel run //kernels/threading:thread_pool_benchmark
#include <pthread.h>
#include <sched.h>

#include <immintrin.h>

#include <atomic>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/threading/thread_pool.h"

namespace klab::kernels {
namespace {

void PinSelf(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void BM_Handoff(benchmark::State& state) {
  struct alignas(64) Line {
    std::atomic<uint64_t> go{0}, back{0};
  };
  Line lines[2];
  std::atomic<uint64_t>& go = lines[0].go;
  std::atomic<uint64_t>& back = state.range(0) == 1 ? lines[0].back : lines[1].back;
  std::thread echo([&] {
    PinSelf(1);
    uint64_t seen = 0;
    while (true) {
      uint64_t v;
      while ((v = go.load(std::memory_order_acquire)) == seen) _mm_pause();
      seen = v;
      if (v == ~uint64_t{0}) return;
      back.store(v, std::memory_order_release);
    }
  });
  PinSelf(0);
  uint64_t n = 0;
  for (auto _ : state) {
    go.store(++n, std::memory_order_release);
    while (back.load(std::memory_order_acquire) != n) _mm_pause();
  }
  go.store(~uint64_t{0}, std::memory_order_release);
  echo.join();
}

void BM_ForkJoin(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<int> cpus;
  for (int i = 0; i < threads; ++i) cpus.push_back(i);
  ThreadPool pool(threads, cpus);
  PinSelf(0);  // the caller is participant 0 on CPU 0, as the suites pin it
  alignas(64) int sink[64 * 16] = {};  // one cache line per participant
  for (auto _ : state) {
    pool.Run([&](int id) { sink[(id & 63) * 16] += 1; });
  }
  benchmark::DoNotOptimize(sink);
  if (threads > 1 && sink[16] != static_cast<int>(state.iterations())) {
    state.SkipWithError("a worker missed runs");
  }
}

void Register() {
  if (std::thread::hardware_concurrency() >= 2) {
    benchmark::RegisterBenchmark("BM_Handoff/lines", BM_Handoff)->Arg(1)->Arg(2)->UseRealTime();
  }
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  for (int t = 2; t <= cores && t <= 64; t *= 2) {
    benchmark::RegisterBenchmark("BM_ForkJoin", BM_ForkJoin)->Arg(t)->UseRealTime();
  }
}

}  // namespace
}  // namespace klab::kernels

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  klab::kernels::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
