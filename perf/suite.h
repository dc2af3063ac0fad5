// What every suite does around its measurements, written once (docs/results-schema.md): where its files go
// (--out / --no_publish / results/), the record's header (schema, suite, run id, command,
// environment), and publishing at the end with the exit status the suites share.
#ifndef KLAB_PERF_SUITE_H_
#define KLAB_PERF_SUITE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/peak/peak.h"
#include "kernels/threading/thread_pool.h"

namespace klab::perf {

// Every suite's --pinning (compact | scatter) and --cpus (an explicit core list) flags, defined
// once here. The cores (hwloc logical indices) for `threads` threads: the --cpus list when given
// (its first `threads` entries; exits 2 if it is shorter, names a core the machine lacks or is
// not a list of integers), else the --pinning policy (exits 2 on another name).
std::vector<int> CoresFromFlagsOrExit(const harness::Topology& topology, int threads);

// The measurement flags, defined once here with one meaning in every suite: --min_reps,
// --min_time, --min_sample_time, --max_time (harness::MeasureOptions' fields) and --quick. A suite
// states its defaults for a full and a quick run; a flag given on the command line wins over both.
struct MeasureDefaults {
  harness::MeasureOptions full;
  harness::MeasureOptions quick;
};
bool QuickFromFlags();
// The options of this run; exits 2 when a given flag is out of its range (named in the help).
// max_reps is raised to min_reps when the user asks for more.
harness::MeasureOptions MeasureOptionsFromFlagsOrExit(const MeasureDefaults& defaults);
// A few lines for the suite's usage text listing its defaults.
std::string MeasureDefaultsHelp(const MeasureDefaults& defaults);

// --shard=i/n (defined once here): a fleet runs the cases of one sweep as n jobs, job i taking
// every case whose index (in the suite's case order) is i-1 modulo n. Deterministic: the same
// flags give every job the same split, and the shards' rows are disjoint and cover the run.
// //tools:compare --merge puts the shards of one machine back into one run.
struct Shard {
  int index = 1, count = 1;  // 1-based; 1/1 is the whole run
  bool Keeps(size_t case_index) const {
    return static_cast<int>(case_index % static_cast<size_t>(count)) == index - 1;
  }
};
// The shard of this run; exits 2 when --shard is not i/n with 1 <= i <= n.
Shard ShardFromFlagsOrExit();
// Keeps this shard's cases of `cases` and records the shard in record["shard"] ("i/n").
template <class T>
void KeepShard(const Shard& shard, std::vector<T>* cases, harness::Json* record) {
  if (shard.count == 1) return;
  std::vector<T> kept;
  for (size_t i = 0; i < cases->size(); ++i) {
    if (shard.Keeps(i)) kept.push_back(std::move((*cases)[i]));
  }
  *cases = std::move(kept);
  (*record)["shard"] = std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

// The machine's topology (hwloc); on failure prints "<suite>: why" and exits 1.
std::unique_ptr<harness::Topology> LoadTopologyOrExit(const char* suite);

// Pins the measuring thread to `core`; a failure is a warning on stderr, and the result (with
// its error) goes into the record.
harness::PinResult PinMeasuringThread(const char* suite, const harness::Topology& topology,
                                      int core);

// "compact", "scatter" or "--cpus=LIST": how the cores were chosen, for env.pinning.
std::string PinningDescription();

// Every suite's --out (write into this folder only) and --no_publish (write nothing) flags,
// defined once here; exits 2 when they contradict or there is nowhere to publish.
harness::OutputOptions OutputOptionsFromFlagsOrExit();

// {"schema", "suite", "run_id", "command", "env"}: the environment captured now; run id from its
// start time, the short host name and the git commit; the command as `bazel run //perf:<suite>`.
harness::Json NewRecord(const std::string& suite, int argc, char** argv,
                        const harness::Topology& topology);

// The one measurement of the FMA peak, shared by //perf:peak (every ISA, 1 core and all) and
// the suites (MeasureFmaPeak): kernels/peak's loop on `threads` participants of `pool` (the
// calling thread alone when threads is 1; pool may then be null). gflops is the best sample's
// rate, the ceiling, which interference only lowers; gflops_median beside it.
struct FmaPeakResult {
  harness::Measurement m;
  double flops = 0;  // per call, all participants
  double gflops = 0, gflops_median = 0;
};
FmaPeakResult MeasureFmaPeakOf(const kernels::FmaPeakKernel& kernel, int threads,
                               kernels::ThreadPool* pool, const harness::MeasureOptions& options);

// The one measurement of a bandwidth ceiling, shared by //perf:peak and the suites that divide
// by one: `stream` over arrays of n floats per participant (n a multiple of 64; first touched on
// the participant that uses them), `passes` times per call, on `threads` participants of `pool`
// (the calling thread alone when threads is 1). Bytes count every array once: read n, copy 2 n,
// triad 3 n floats per pass. gbs from the best sample (the ceiling), gbs_median beside it.
enum class Stream { kRead, kCopy, kTriad };
struct BandwidthResult {
  harness::Measurement m;
  double bytes = 0;  // per call, all participants
  double gbs = 0, gbs_median = 0;
};
BandwidthResult MeasureBandwidth(Stream stream, size_t n, int threads, kernels::ThreadPool* pool,
                                 int passes, const harness::MeasureOptions& options);

// The per-core FMA peak of the widest ISA this CPU runs, measured now (MeasureFmaPeakOf on this
// thread, 21+ samples): {"gflops", "gflops_median", "kernel", "reps"}, or gflops null where the
// CPU has no AVX2.
harness::Json MeasureFmaPeak();

// Prints the markdown to stdout and writes the run. Returns the suite's exit status: 1 when the
// files could not be written or when `wrong_rows` > 0 (saying so with `wrong_what`), else 0.
// `extra_files` (name, contents), e.g. SVG charts, are written beside the tables.
int PublishRun(const std::string& suite, const harness::OutputOptions& output,
               const harness::Json& record, const std::string& markdown,
               const std::string& summary_line, int wrong_rows, const std::string& wrong_what,
               const std::vector<std::pair<std::string, std::string>>& extra_files = {});

}  // namespace klab::perf

#endif  // KLAB_PERF_SUITE_H_
