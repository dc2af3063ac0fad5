// //perf:tune's choices from its measurements (docs/tuning.md): pure functions from suite records
// to the blocks of a tuning profile, apart from the driver that runs the suites (perf/tune.cc) so
// that each rule can be tested on records made up for it.
#ifndef KLAB_PERF_TUNE_CHOICES_H_
#define KLAB_PERF_TUNE_CHOICES_H_

#include <map>
#include <string>
#include <vector>

#include "harness/results.h"

namespace klab::perf::tune {

using harness::Json;

// 3%: the run-to-run spread of a median on these VMs. A choice of an earlier run that scores
// within it in a new run "reproduces"; a tuned blocking must beat the analytic one by more than a
// third of it to replace it.
inline constexpr double kNoise = 1.03;

// The threaded member of a serial GEMM variant's family: "_mt" after its first word
// (smallm__avx512 -> smallm_mt__avx512, packed_8x32__avx512 -> packed_mt_8x32__avx512), or the
// serial variant itself when the family has none.
std::string Threaded(const std::string& serial);

// One GEMM shape of the sweeps, with each checked variant's median on 1 and 2 threads.
struct Shape {
  std::string label, shape_class;
  std::map<std::string, double> t1, t2;  // variant -> median ns
};

// The checked rows of matmul_sweep records: registered GEMM variants into `gemm` (by shape), the
// linear_packed rows into `linear`.
void ShapesOf(const std::vector<Json>& records, std::map<std::string, Shape>* gemm,
              std::map<std::string, Shape>* linear);

// The profile's "gemm" block: per class, the serial variant (1 thread) and the variant on 2 (its
// family's threaded member, or itself: the class is not worth splitting) minimising the geometric
// mean over the class's shapes of sqrt(t1 / best t1 x t2 / best t2), with the evidence.
Json ChooseGemm(const std::map<std::string, Shape>& shapes);

// The profile's "linear" block: threads_from_mnk, the smallest m x n x k from which every measured
// layer ran faster on 2 threads than on 1 (one past the largest that did not, when the largest
// did not), with the shapes.
Json ChooseLinear(const std::map<std::string, Shape>& linear);

// The profile's "decode" block from model_bench records (their kernel-lab rows, KV cache on, on 1
// and 2 threads), one per pass: threads_above_weight_bytes, the packed weight bytes of the largest
// model that was not faster on 2 threads in every test of every pass (so that 2 threads are never
// slower than 1), 0 when every model was. Passes minutes apart: this VM's 2-thread speed on
// small models flips between states within minutes (docs/tuning.md), and one pass sees one.
Json ChooseDecode(const std::vector<Json>& model_benches);

// One blocking tried for a micro-kernel, and its median times (case -> ns, e.g. "2048/t1") over
// the passes (the fastest pass's median per case).
struct BlockingTrial {
  int mc = 0, kc = 0, nc = 0;
  bool analytic = false;  // the analytic model's own values
  std::map<std::string, double> ns;
};

// Each trial's score: the geometric mean over the cases of its time / the best trial's time
// (1: the fastest everywhere); infinity for a trial missing a case.
std::vector<double> BlockingScores(const std::vector<BlockingTrial>& trials);

// The profile's "blocking" entry for one micro-kernel: the trial with the smallest geometric
// mean of time / best time over the cases, unless the analytic trial is within
// kNoise^(1/3) of it (then `use` is false: the analytic model stays), with every trial's score.
Json ChooseBlocking(const std::vector<BlockingTrial>& trials);

// How `now` (a profile's blocks) reproduces `old`: per GEMM class "same", "within noise" (the old
// choice scores at most kNoise now), "differs", "new" or "gone"; "linear", "decode" and
// "blocking" "same" or "differs (was ...)".
Json Reproduces(const Json& now, const Json& old);

}  // namespace klab::perf::tune

#endif  // KLAB_PERF_TUNE_CHOICES_H_
