// The cost of one fork-join of the pool: Run() of an empty task on 2..N participants pinned to
// CPUs 0..N-1, the workers awake (spinning). What a threaded kernel pays per call before any
// work; the small threaded GEMMs (n = 64: a few microseconds) feel it.
//
//   bazel run //kernels/threading:thread_pool_benchmark
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/threading/thread_pool.h"

namespace klab::kernels {
namespace {

void BM_ForkJoin(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<int> cpus;
  for (int i = 0; i < threads; ++i) cpus.push_back(i);
  ThreadPool pool(threads, cpus);
  alignas(64) int sink[64 * 16] = {};  // one cache line per participant
  for (auto _ : state) {
    pool.Run([&](int id) { sink[(id & 63) * 16] += 1; });
  }
  benchmark::DoNotOptimize(sink);
}

void Register() {
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
