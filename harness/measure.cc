#include "harness/measure.h"

#include <algorithm>
#include <cstdint>

#include "harness/counters.h"
#include "harness/timer.h"

namespace klab::harness {

Measurement Measure(const std::function<void()>& body, const MeasureOptions& o) {
  Measurement m;
  const int64_t warm_start = MonotonicNs();
  int64_t fastest_call = INT64_MAX;
  int64_t now = warm_start;
  do {
    const int64_t t0 = now;
    body();
    now = MonotonicNs();
    fastest_call = std::min(fastest_call, now - t0);
  } while (now - warm_start < static_cast<int64_t>(o.warmup_s * 1e9));
  const int64_t min_sample_ns = static_cast<int64_t>(o.min_sample_s * 1e9);
  m.calls_per_sample = std::max<int64_t>(
      1, (min_sample_ns + std::max<int64_t>(fastest_call, 1) - 1) / std::max<int64_t>(fastest_call, 1));

  SoftwareCounters counters;
  // Reserved up front so that growing the sample vector is not counted as the body's allocation.
  m.samples_ns.reserve(static_cast<size_t>(o.max_reps));
  const AllocStats alloc_before = AllocSnapshot();
  counters.Start();
  double total_s = 0;
  const char* stopped_by = nullptr;  // assigned to the std::string after the counted region
  while (true) {
    const int64_t t0 = MonotonicNs();
    for (int64_t c = 0; c < m.calls_per_sample; ++c) body();
    const int64_t t1 = MonotonicNs();
    m.samples_ns.push_back(static_cast<double>(t1 - t0) / m.calls_per_sample);
    total_s += (t1 - t0) * 1e-9;
    const int n = static_cast<int>(m.samples_ns.size());
    if (n >= o.min_reps && total_s >= o.min_time_s) {
      stopped_by = "min_reps+min_time";
      break;
    }
    if (n >= o.max_reps) {
      stopped_by = "max_reps";
      break;
    }
    if (total_s >= o.max_time_s && n >= o.min_reps_when_slow) {
      stopped_by = "max_time";
      break;
    }
  }
  counters.Stop();
  const AllocStats alloc = AllocSnapshot() - alloc_before;
  m.stopped_by = stopped_by;
  const double reps = static_cast<double>(m.samples_ns.size()) * m.calls_per_sample;
  m.alloc_bytes_per_rep = alloc.bytes / reps;
  m.allocs_per_rep = alloc.count / reps;
  for (int i = 0; i < SoftwareCounters::kCount; ++i) {
    const std::optional<int64_t> v = counters.Read(i);
    m.counters_per_rep.push_back(v ? std::optional<double>(*v / reps) : std::nullopt);
  }
  m.summary = Summarize(m.samples_ns);
  return m;
}

}  // namespace klab::harness
