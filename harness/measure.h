// Repeated timing of one piece of work, with warm-up, stopping rules and per-repetition
// counters.
//
//   1. Warm-up: run until `warmup_s` has passed (at least once), so caches, page tables and the
//      frequency have settled before anything is recorded.
//   2. Repetitions: each is timed alone; stop when at least `min_reps` were taken *and* they add
//      up to `min_time_s`. A case whose single repetition is slow stops after `max_time_s` once
//      it has `min_reps_when_slow` samples (recorded in `stopped_by`), so a 2048^3 naive loop
//      cannot hold the suite hostage.
//   3. Software counters and allocations are read around the repetitions; reported per
//      repetition.
#ifndef KLAB_HARNESS_MEASURE_H_
#define KLAB_HARNESS_MEASURE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/alloc_counter.h"
#include "harness/stats.h"

namespace klab::harness {

struct MeasureOptions {
  int min_reps = 9;
  int max_reps = 65536;  // the sample buffer is reserved at this size
  double min_time_s = 0.2;
  double warmup_s = 0.05;
  double max_time_s = 20.0;
  int min_reps_when_slow = 3;
};

struct Measurement {
  std::vector<double> samples_ns;
  Summary summary;
  std::string stopped_by;     // "min_reps+min_time", "max_reps" or "max_time"
  // operator new during the timed repetitions, divided by their count.
  double alloc_bytes_per_rep = 0;
  double allocs_per_rep = 0;
  // Software counters per repetition, in SoftwareCounters::kNames order; nullopt if unreadable.
  std::vector<std::optional<double>> counters_per_rep;
};

Measurement Measure(const std::function<void()>& body, const MeasureOptions& options);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_MEASURE_H_
