// The fleet view: how the newest run of each kind fares on every machine it met, by ratios each
// run measured within itself (ours / best peer, % of peak), never by times across machines.
#ifndef KLAB_HARNESS_FLEET_H_
#define KLAB_HARNESS_FLEET_H_

#include <string>
#include <vector>

#include "harness/json.h"

namespace klab::harness {

// The case a row measures, whatever implementation ran it: op, model, workload, test, kv cache,
// shape, layout and thread count (those the row has). Rows of one case are compared in-run.
std::string CaseKey(const Json& row);

// True for a row of our code: impl "kernel-lab" or none. Other impls are peers, except the model
// bench's "read-kernel" (a bandwidth reference, neither ours nor a peer).
bool IsOurs(const Json& row);
bool IsPeer(const Json& row);

// True for a row of the dispatcher (variant `*_auto`, e.g. sgemm_auto): the library's own choice.
bool IsDispatcherRow(const Json& row);

// The row's median time in ns (time_ns.median), NaN when it has none.
double RowMedian(const Json& row);

// A headline figure of a run, measured within it.
struct Headline {
  std::string label;  // e.g. "best kernel-lab / best peer, 1 thread (geomean of 12 cases)"
  double value = 0;
  std::string text;   // formatted: "1.03x (min 0.91x at sgemm 2048 t1)"
};

// The run's headlines: per thread count, the geometric mean over cases of best peer time / our
// time (> 1: ours faster), for our best row and for the dispatcher's choice (variant *_auto);
// the best % of peak of our rows; a peak run's FMA peak and DRAM read bandwidth; a memory run's
// bytes allocated per training step.
std::vector<Headline> Headlines(const Json& record);

// results/README.md: per record kind, one table with a column per machine (its newest run of
// that kind) and a row per headline; then each machine's index.
std::string FleetMarkdown(const std::string& results_root);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_FLEET_H_
