// Performance counters through perf_event_open, with an honest account of what is unavailable.
//
// The capability probe and the vocabulary; named events, groups and multiplexing are in
// pfm_events.h:
//   * ProbeCounters() tries once to open a hardware event (cycles) and the software events, and
//     maps the errno of a failure to a reason a person can act on. On virtual machines without a
//     virtual PMU the hardware open fails with ENOENT; that is reported, never papered over.
//   * kSoftwareEvents names the software events every row reports (task-clock, page-faults,
//     context-switches, cpu-migrations); pfm_events.h opens and reads them. Counters that could
//     not be opened read as absent (std::nullopt), never as zero.
#ifndef KLAB_HARNESS_COUNTERS_H_
#define KLAB_HARNESS_COUNTERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace klab::harness {

struct CounterCapabilities {
  bool hardware = false;
  std::string reason;                  // why hardware counters are unavailable ("" when they work)
  std::vector<std::string> software;   // software events that opened
};

// Probed once per process, then cached.
const CounterCapabilities& ProbeCounters();

// "perf_event_open: ENOENT (no PMU exposed, typical of a VM)" and so on for an errno.
std::string PerfOpenErrorReason(int err);

// The software events every row reports, in this order (task-clock in ns). They are read through
// an EventGroup (pfm_events.h), as are the hardware events where a PMU exists.
inline constexpr const char* kSoftwareEvents[] = {"task-clock", "page-faults", "context-switches",
                                                  "cpu-migrations"};
inline constexpr int kSoftwareEventCount = 4;

}  // namespace klab::harness

#endif  // KLAB_HARNESS_COUNTERS_H_
