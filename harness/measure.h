// Repeated timing of one piece of work, with warm-up, stopping rules and per-repetition
// counters.
//
//   1. Warm-up: run until `warmup_s` has passed (at least once), so caches, page tables and the
//      frequency have settled before anything is recorded. The warm-up also times single calls.
//   2. Samples: a sample times `calls_per_sample` back-to-back calls, chosen so that one sample
//      lasts at least `min_sample_s` (a 3-microsecond kernel is timed in batches, so clock
//      overhead is negligible and a run keeps tens of samples, not tens of thousands); each sample
//      is recorded as time per call. Stop when at least `min_reps` samples were taken *and* they
//      add up to `min_time_s`. A case whose single repetition is slow stops after `max_time_s` once
//      it has `min_reps_when_slow` samples (recorded in `stopped_by`), so a 2048^3 naive loop
//      cannot hold the suite hostage.
//   3. Software counters and allocations are read around the repetitions; reported per
//      repetition.
#ifndef KLAB_HARNESS_MEASURE_H_
#define KLAB_HARNESS_MEASURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/alloc_counter.h"
#include "harness/counters.h"
#include "harness/pfm_events.h"
#include "harness/stats.h"

namespace klab::harness {

struct MeasureOptions {
  int min_reps = 9;
  int max_reps = 1000;  // the sample buffer is reserved at this size
  double min_sample_s = 0.0;  // 0: one call per sample
  double min_time_s = 0.2;
  double warmup_s = 0.05;
  double max_time_s = 20.0;
  int min_reps_when_slow = 3;
};

struct Measurement {
  std::vector<double> samples_ns;  // time per call of each sample
  int64_t calls_per_sample = 1;
  Summary summary;
  std::string stopped_by;     // "min_reps+min_time", "max_reps" or "max_time"
  // The CPUs the measuring thread was found on after its samples (sched_getcpu): one entry
  // for a pinned thread, so every row shows that its pinning held.
  std::vector<int> ran_on_cpus;
  // operator new during the timed samples, per call.
  double alloc_bytes_per_rep = 0;
  double allocs_per_rep = 0;
  // Software counters per call, in kSoftwareEvents order; nullopt if unreadable.
  std::vector<std::optional<double>> counters_per_rep;
  // Hardware counters (RowHardwareCounters(), through libpfm4) per call, in their units;
  // nullopt where the machine exposes no PMU or the event (hardware_reasons says why).
  std::vector<std::optional<double>> hardware_per_rep;
  std::vector<std::string> hardware_reasons;
};

// Measures one body: warm-up, then samples until the stopping rule holds.
Measurement Measure(const std::function<void()>& body, const MeasureOptions& options);

// The same, one sample at a time, so a caller can interleave several bodies in rounds (each
// round takes one sample of every body that is not done), so that drift and bursts of
// interference on a shared machine hit all of them alike instead of whichever ran at that time.

class Sampler {
 public:
  Sampler(std::function<void()> body, const MeasureOptions& options);
  void Warmup();       // time-based warm-up; sets calls_per_sample
  void TakeSample();   // one timed sample, with counters and allocations around it
  // Untimed calls for warmup_s again (at least one), keeping calls_per_sample: after another
  // body ran or the core idled, to refill the caches and bring the core back to speed.
  void Rewarm();
  bool Done();         // the stopping rule (records which rule stopped it)
  // Whether the sampler has its share `part` (0..1) of the stopping rule's reps and time.
  bool HasShare(double part) const;
  Measurement Finish();

 private:
  std::function<void()> body_;
  MeasureOptions options_;
  Measurement m_;
  // kSoftwareEvents, then RowHardwareCounters() where ProbeCounters() found a PMU: one group,
  // enabled around each sample and accumulated over them.
  std::unique_ptr<EventGroup> events_;
  double total_s_ = 0;
  AllocStats alloc_{};
  const char* stopped_by_ = nullptr;
};

// One body of an interleaved set: its sampler, and what must hold before it runs. Entries of
// the same `group` share a setting (a thread count, a pinning, a peer's environment); `enter`,
// when set, establishes it and is called before a warm-up or sample whenever the previous one
// belonged to another group (or nothing ran yet).
struct RoundEntry {
  Sampler* sampler = nullptr;
  int group = 0;
  std::function<void()> enter;
};

// The one sampling loop every suite uses: warms up each entry in order, then takes samples in
// rounds, one of every entry not yet Done() per round, until all are done. With interleave =
// false each entry takes all its samples right after its warm-up instead (for bodies that must
// not share a time window, e.g. peers whose worker threads spin). Returns the measurements in
// the entries' order.
std::vector<Measurement> SampleInRounds(const std::vector<RoundEntry>& entries,
                                        bool interleave = true);

// For bodies that must not share a time window (a threaded library's workers spin for up to
// ~0.1 s after a call and would take the cores from the next body) that should still see the
// same drift: `passes` passes over the entries (ABC ABC ...), each entry taking a block of
// samples — its next 1/passes share of the stopping rule's reps and time, the last pass until
// done — after `settle_s` idle seconds and a re-warm-up (Sampler::Rewarm: an idle core comes
// back slower, and a block of a few samples would show it). Returns the measurements in the
// entries' order.
std::vector<Measurement> SampleInBlocks(const std::vector<RoundEntry>& entries, int passes,
                                        double settle_s);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_MEASURE_H_
