// The measuring layer every suite's cases go through, written once: a case is a list of
// implementations (ours and peers), each with the row fields known before timing, a body and a
// check against a reference; CheckThenTime checks each, never times one that failed (unless its
// check says it is a peer held to our bound rather than its own), samples the rest interleaved
// in rounds (harness::SampleInRounds), and completes each row with its check, its timing and the
// unstable flag. Rows then get what is truly the suite's (GFLOP/s, GB/s, % of a ceiling).
#ifndef KLAB_PERF_MEASURING_H_
#define KLAB_PERF_MEASURING_H_

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/stats.h"

namespace klab::perf {

// The outcome of running an implementation once on fresh outputs and comparing with the
// reference: largest error / allowed error, <= 1 passes.
struct CheckResult {
  bool ok = false;
  double max_err_ratio = 0;
  std::string detail;  // why it failed; empty when ok
  // Timed although it failed: a peer outside kernel-lab's bound but within its own contract
  // (libmvec's 4 ulp); its row says so.
  bool time_anyway = false;
};

// One implementation in a case.
struct Implementation {
  harness::Json row = {};                   // fields known before timing: name, variant, shape ...
  std::function<void()> call = {};          // the timed body
  std::function<CheckResult()> check = {};  // null: a control (a ceiling), nothing to check
  int group = 0;                            // harness::RoundEntry's group and enter
  std::function<void()> enter = {};
};

struct Outcome {
  CheckResult check;
  std::optional<harness::Measurement> m;  // empty when not timed
  harness::Json row;                      // row + check + timing fields
};

// Checks every implementation in order (group's enter first), then samples those that passed in
// rounds (interleave), or, when not, in `alternating_passes` passes of blocks after a settle
// pause (harness::SampleInBlocks; 0 or 1: one after another). Outcomes in the implementations'
// order.
std::vector<Outcome> CheckThenTime(const std::vector<Implementation>& impls,
                                   const harness::MeasureOptions& options, bool interleave,
                                   int alternating_passes = 0);

// The pause before each block of an alternating pass: a threaded library's idle workers spin
// for up to ~0.1 s after its last call (OpenBLAS, GNU OpenMP).
inline constexpr double kSettleSeconds = 0.1;

// Ours against a peer in another process, in alternating blocks so that drift on a shared
// machine hits both alike: per block, `before_ours`, `per_block` of our calls each timed here,
// `before_theirs` (e.g. park our pool's spinning workers), then `theirs(per_block)`, the peer's
// own timings of as many calls. Stops at the peer's first error.
struct Alternation {
  std::vector<double> ours_ns, theirs_ns;
  absl::Status status;
};
Alternation AlternateBlocks(int blocks, int per_block, const std::function<void()>& ours,
                            const std::function<absl::StatusOr<std::vector<double>>(int)>& theirs,
                            const std::function<void()>& before_ours,
                            const std::function<void()>& before_theirs);

// The table cell of a row's spread: MAD as % of the median, "unstable" past the harness's rule.
std::string MadCell(const harness::Summary& s);

// "[done/total]" counters for the live lines on stderr.
class Progress {
 public:
  explicit Progress(int total) : total_(total) {}
  std::string Next();
  void Skip() { ++done_; }

 private:
  int total_;
  int done_ = 0;
};

}  // namespace klab::perf

#endif  // KLAB_PERF_MEASURING_H_
