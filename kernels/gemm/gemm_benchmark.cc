// Google Benchmark micro-benchmarks of every registered GEMM variant on square sizes, generated
// from the registry like the tests. For quick A/B work on one kernel:
//
//   bazel run //kernels/gemm:gemm_benchmark -- --benchmark_filter='loop_ikj__avx512/256'
//
// The published, peer-compared numbers come from //perf:matmul_sweep; this binary is the inner
// loop of kernel development (GFLOP/s as a rate counter, real time).
#include <sched.h>

#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/gemm/gemm.h"

namespace klab::kernels {
namespace {

void BM_Sgemm(benchmark::State& state, const GemmVariant* v) {
  const int64_t n = state.range(0);
  std::vector<float> a(n * n), b(n * n), c(n * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& x : a) x = dist(rng);
  for (float& x : b) x = dist(rng);
  const SgemmArgs args{Trans::kNo, Trans::kNo, n, n, n, 1.0f, a.data(), n,
                       b.data(), n, 0.0f, c.data(), n};
  for (auto _ : state) {
    v->fn(args);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP"] = benchmark::Counter(2.0 * n * n * n * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// The dispatcher's cost on the smallest calls the models make: a GEMV (M = 1, W stored (N, K)) of
// about a microsecond through Sgemm (validation, the profile's class table, the variant call)
// against the variant it chooses, called directly.
void BM_GemvDispatch(benchmark::State& state, bool through_sgemm) {
  const int64_t n = 256, k = 128;
  std::vector<float> x(k, 0.5f), w(n * k, 0.25f), y(n);
  const SgemmArgs args{Trans::kNo, Trans::kYes, 1, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n};
  const GemmVariant& chosen = ChooseGemmVariant(args);
  for (auto _ : state) {
    if (through_sgemm) {
      benchmark::DoNotOptimize(Sgemm(Trans::kNo, Trans::kYes, 1, n, k, 1.0f, x.data(), k, w.data(), k,
                                     0.0f, y.data(), n));
    } else {
      chosen.fn(args);
    }
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(chosen.name));
}
BENCHMARK_CAPTURE(BM_GemvDispatch, sgemm, true);
BENCHMARK_CAPTURE(BM_GemvDispatch, variant, false);

void RegisterAll() {
  for (const GemmVariant& v : GemmVariants()) {
    if (!CpuSupports(v.isa)) continue;
    auto* b = benchmark::RegisterBenchmark(std::string(v.name).c_str(), BM_Sgemm, &v);
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
    for (int64_t n : {64, 128, 256, 512}) {
      if (v.name == "naive_ijk" && n > 256) continue;
      b->Arg(n);
    }
  }
}

}  // namespace
}  // namespace klab::kernels

int main(int argc, char** argv) {
  // Pin to the CPU we start on (rule 12: benchmarks pin first).
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sched_getcpu(), &set);
  sched_setaffinity(0, sizeof(set), &set);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  klab::kernels::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
