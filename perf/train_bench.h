// The types //perf:train_bench's main (train_bench.cc) and its workload runners (train_runs.cc)
// share.
#ifndef KLAB_PERF_TRAIN_BENCH_H_
#define KLAB_PERF_TRAIN_BENCH_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/json.h"
#include "harness/measure.h"
#include "harness/topology.h"
#include "models/training_data.h"
#include "perf/peers.h"

namespace klab::perf {

using harness::Json;
using Table = std::vector<std::vector<std::string>>;

struct Settings {
  std::vector<std::string> workloads;
  std::vector<int64_t> threads;
  int batch, seq, loss_steps;
  harness::MeasureOptions measure;
  bool quick;
  bool pytorch = true;  // PyTorch beside every workload
  std::string python;   // the interpreter that has it
  const char* argv0 = "";
};

// What a run shares: where rows go, the peak, the cores.
struct Run {
  Json& rows;
  Table table, split;
  double peak = 0;  // GFLOP/s per core
  const harness::Topology& topo;
  std::vector<int> cores;
  int wrong = 0;
  std::vector<std::string> notes;
};

// PyTorch's median time per step over blocks alternating with ours, and ours in the same
// blocks: "x PyTorch" is their ratio.
struct Versus {
  double theirs_ns = NAN, ours_ns = NAN;
  int reps = 0;
  Json config;
  std::string why_not;
};

// Each workload at `threads`: ours checked and timed, the peers beside it; rows into `run`.
void RunMlp(Run& run, const Settings& s, int64_t threads);
void RunMatmulBackward(Run& run, const Settings& s, int64_t threads,
                       const std::vector<std::unique_ptr<PeerGemm>>& peers);
void RunGpt(Run& run, const Settings& s, int64_t threads, const std::string& name,
            const models::StoryCorpus& stories);

std::string Fmt(double v, int digits);

}  // namespace klab::perf

#endif  // KLAB_PERF_TRAIN_BENCH_H_
