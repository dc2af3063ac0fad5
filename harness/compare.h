// Run-versus-run comparison: which changes between two runs of a suite are real.
//
// Rows are matched by name. For each pair the verdict is `faster` or `slower` only when the
// Mann-Whitney U test over the two rows' timing samples gives p < alpha (default 0.05) AND the
// median moved by more than the practical threshold (default 5%); otherwise `noise`. The U test
// asks whether one run's samples tend to be larger than the other's without assuming a
// distribution: timing samples on a shared machine are skewed by outliers (steal, other tenants),
// which a t-test would read as variance or as a shift. The threshold keeps a significant but
// tiny shift (thousands of samples make 0.5% significant) from being called a change.
//
// The report (docs/results-schema.md, "The report"): a banner when the two runs' machine fingerprints differ,
// an executive summary (rows, time, allocations, the geometric mean of the speed changes), the
// top hot paths, one table per family (op) with current, previous, delta, change and verdict,
// the top 10 improvements and regressions, and scaling when the suite records it.
#ifndef KLAB_HARNESS_COMPARE_H_
#define KLAB_HARNESS_COMPARE_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/json.h"
#include "harness/record_reader.h"

namespace klab::harness {

// Two-sided p-value of the Mann-Whitney U test of samples x against y: ranks with ties
// averaged, the normal approximation with tie and continuity corrections (the exact
// distribution is used when both samples have at most 8 values and there are no ties).
// Returns 1 when either sample is empty.
double MannWhitneyP(const std::vector<double>& x, const std::vector<double>& y);

// U statistic of x (the number of pairs with x_i > y_j, ties counting 1/2).
double MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y);

struct CompareOptions {
  double alpha = 0.05;      // significance level of the U test
  double threshold = 0.05;  // practical threshold on the relative change of the median
};

struct RowComparison {
  std::string name;
  std::string family;  // the row's "op" (and model for model rows)
  double current_ns = 0, previous_ns = 0;  // medians
  double change = 0;   // current / previous - 1 (negative = faster)
  double p = 1;
  std::string verdict;  // "faster", "slower" or "noise"
  std::string impl;     // "kernel-lab" or a peer library
  // Drift control, where the suite measured peer libraries (or, in the model bench, the read
  // kernel on the model's weight bytes) on the same case (same shape and
  // threads, sampled in the same rounds): the geometric mean of their time changes. The row is
  // then judged again against the previous samples scaled by it, so that a machine that got
  // faster or slower between the runs is not read as the code's change.
  bool has_control = false;
  double control_change = 0;   // peers' current / previous - 1
  double adjusted_change = 0;  // (1 + change) / (1 + control_change) - 1
  double adjusted_p = 1;
  std::string adjusted_verdict;  // as verdict, on the adjusted change
};

struct Comparison {
  std::string current_id, previous_id, suite;
  std::vector<RowComparison> rows;       // in the current run's order
  std::vector<std::string> only_current;  // rows without a partner
  std::vector<std::string> only_previous;
  std::vector<std::string> fingerprint_differences;  // "cpu_model: a -> b", ...
  double geomean_speed_change = 0;  // geometric mean of previous / current - 1 over matched rows
  // The same over rows of peer libraries ("impl" other than kernel-lab): their code did not
  // change, so they measure the machine's drift between the runs.
  double control_speed_change = 0;
  int control_rows = 0;
  // Peers left out of the control because their recorded identity (version, kernel, config)
  // changed between the runs, or was not recorded.
  std::set<std::string> changed_peers;
  int faster = 0, slower = 0, noise = 0;
  int adjusted_faster = 0, adjusted_slower = 0, adjusted_rows = 0;  // rows with a control
};

// Compares two records of the same suite (InvalidArgument when the suites differ).
absl::StatusOr<Comparison> CompareRuns(const Json& current, const Json& previous,
                                       const CompareOptions& options);

// The report as markdown.
std::string ReportMarkdown(const Json& current, const Json& previous, const Comparison& c,
                           const CompareOptions& options);

// A chart of the comparison (SVG): one named bar per row, its change in % (against the control
// where there is one), coloured by verdict, the practical threshold as reference lines; the
// significant rows and the largest moves when there are many. `machine` goes into the title.
std::string ReportChartSvg(const Comparison& c, const CompareOptions& options,
                           const std::string& machine);

// The run folders under `results_root`/runs holding `<suite>.json`, oldest first (run ids sort by
// time). With `suite` empty, every run folder that holds any suite's file.
std::vector<std::string> ListRuns(const std::string& results_root, const std::string& suite);

// The suite of a run folder: the name of its `<suite>.json` (InvalidArgument if none or several).
absl::StatusOr<std::string> SuiteOfRun(const std::string& run_dir);

// The run to compare `run_id` with: among earlier runs of the same record key on the same kind
// of machine as `current` (env.h's SameMachine; with no `current`, on the same host) and of the
// same kind (quick or full: the record's "quick"), the newest with the same command as
// `current`, else the newest sharing a row with it; with no `current`, the newest. "" when there is none. Records that cannot be read or fail
// validation (record_reader.h) are skipped, each with a line in `warnings`.
std::string PreviousRun(const std::string& results_root, const std::string& suite,
                        const std::string& run_id, const std::string& host,
                        const Json* current = nullptr,
                        std::vector<std::string>* warnings = nullptr);

// The shards of one sweep (--shard=i/n runs of one machine, the same suite, mode, quick-ness and
// commit) as one record: the first shard's header, every shard's rows in shard order, "shard"
// removed and "merged_from" listing the shards' run ids. InvalidArgument when they do not belong
// together (another machine, suite, mode or commit, a shard given twice) or two shards hold a row
// of the same name.
absl::StatusOr<Json> MergeShards(const std::vector<Json>& shards);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_COMPARE_H_
