// Per-machine tuning profiles ("wisdom", as FFTW keeps it): what //perf:tune measured on one kind
// of machine, kept so that the library's choices follow the machine it runs on instead of
// constants measured on another.
//
// A profile (JSON, schema kernel-lab/tuning/v1, docs/tuning.md) names the CPUs it fits (vendor,
// family, models) and, per GEMM shape class, the variant pair to use: the serial variant, and the
// threaded one of the same family (so a result has the same bits on 1 and 2 threads, as the models
// promise). The profile in force is chosen once per process:
//   1. KLAB_TUNING=path: that file; one that does not parse, or names another CPU, ends the
//      process with exit status 2 and a message saying why (a profile asked for is never ignored);
//      KLAB_TUNING=analytic: no profile (to set the analytic defaults beside a profile);
//   2. else the first profile compiled in (kernels/tuning/*.json) whose CPU matches;
//   3. else none: the dispatcher's analytic defaults (kernels/gemm/gemm.cc).
#ifndef KLAB_KERNELS_TUNING_TUNING_H_
#define KLAB_KERNELS_TUNING_TUNING_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

inline constexpr char kTuningSchema[] = "kernel-lab/tuning/v1";

// The variants of one GEMM shape class: `serial` when the call runs on one thread, `threaded`
// (the same family's pool variant, or the serial one when it has none) when the pool has more.
struct GemmChoice {
  std::string serial, threaded;
};

// Cache blocking of one micro-kernel shape (kernels/gemm/gemm_config.h names them).
struct TunedBlocking {
  int mc = 0, kc = 0, nc = 0;
};

struct TuningProfile {
  std::string machine;  // the machine kind it was tuned on, e.g. "amd-zen4-2c"
  std::string source;   // "kernels/tuning/amd-zen4-2c.json (compiled in)", "KLAB_TUNING=..."
  std::map<std::string, GemmChoice> gemm;  // shape class (kernels/gemm/gemm.h) -> choice
  // "linear.threads_from_mnk": kernels::LinearThreaded shares a layer over the pool from this
  // m x n x k up (-1: not in the profile, the analytic threshold).
  int64_t linear_threads_from_mnk = -1;
  // "decode.threads_above_weight_bytes": a model takes more than one thread when its packed
  // weights are larger than this (-1: not in the profile, the analytic rule: one core's L2).
  int64_t decode_threads_above_weight_bytes = -1;
  // "blocking": MC/KC/NC per micro-kernel "<MR>x<NR>" (absent: the analytic model).
  std::map<std::string, TunedBlocking> blocking;
};

// A micro-kernel shape's key in "blocking": "<MR>x<NR>", e.g. "8x32".
std::string MicroKernelKey(int mr, int nr);

// The profile's blocking for the MR x NR micro-kernel, or nullptr (the analytic model). No
// allocation: it is on the path of every packed GEMM call.
const TunedBlocking* FindTunedBlocking(const TuningProfile& profile, int mr, int nr);

// Parses and validates a profile: the schema, a "cpu" block that matches `cpu` (vendor, family,
// and model among "models"), a "gemm" object of {"serial", "threaded"} strings, and the optional
// "linear", "decode" (non-negative integers) and "blocking" ({"mc", "kc", "nc"} > 0) blocks. Variant names are
// checked by the GEMM dispatcher, which knows them. InvalidArgument (naming `source` and the
// field) otherwise; FailedPrecondition when the profile is for another CPU.
absl::StatusOr<TuningProfile> ParseTuningProfile(std::string_view text, std::string_view source,
                                                 const CpuFeatures& cpu);

// The profile in force (see above), or nullptr for the analytic defaults. Chosen on first use.
const TuningProfile* ActiveTuning();

// What is in force, for every result row: the profile's source, or "analytic (...)" saying why.
std::string ActiveTuningName();

// The profiles compiled into the library: (file name, JSON text).
std::vector<std::pair<std::string_view, std::string_view>> CompiledInProfiles();

// Tests: use `profile` (nullptr: no profile, the analytic defaults) until the next call;
// RestoreTuning() goes back to the one chosen at start-up.
void SetTuningForTesting(const TuningProfile* profile);
void RestoreTuning();

// Counts the changes of the profile in force (0 until a test changes it): what a consumer that
// caches something derived from the profile (the GEMM dispatcher's table) compares.
uint64_t TuningGeneration();

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_TUNING_TUNING_H_
