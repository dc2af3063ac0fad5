// Performance counters through perf_event_open, with an honest account of what is unavailable.
//
// First cut (the harness issue adds libpfm4-encoded named events, groups and multiplexing):
//   * ProbeCounters() tries once to open a hardware event (cycles) and the software events, and
//     maps the errno of a failure to a reason a person can act on. On virtual machines without a
//     virtual PMU the hardware open fails with ENOENT; that is reported, never papered over.
//   * SoftwareCounters counts task-clock, page-faults, context-switches and cpu-migrations for
//     the calling thread around a region. Counters that could not be opened read as absent
//     (std::nullopt), never as zero.
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

// Software counters of the calling thread. Not copyable; opens on construction.
class SoftwareCounters {
 public:
  static constexpr const char* kNames[] = {"task-clock", "page-faults", "context-switches",
                                           "cpu-migrations"};
  static constexpr int kCount = 4;

  SoftwareCounters();
  ~SoftwareCounters();
  SoftwareCounters(const SoftwareCounters&) = delete;
  SoftwareCounters& operator=(const SoftwareCounters&) = delete;

  void Start();  // resets and enables all
  void Stop();   // disables all
  void Resume();  // enables all without resetting (accumulate over several regions)
  // Value of counter i since Start (task-clock in ns), or nullopt if it could not be opened.
  std::optional<int64_t> Read(int i) const;

 private:
  int fds_[kCount];
};

}  // namespace klab::harness

#endif  // KLAB_HARNESS_COUNTERS_H_
