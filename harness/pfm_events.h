// Named performance events through libpfm4: event names ("cycles", "instructions",
// "RETIRED_SSE_AVX_FLOPS:ANY", "L1D_CACHE_REFILL...", software "task-clock") encoded into
// perf_event_open attributes by the library that knows every PMU's tables, then opened on the
// calling thread as one group and read with time-enabled / time-running, scaled when the kernel
// multiplexed the group (the ratio is reported).
//
// libpfm4 encodes events it knows even where the machine exposes no PMU (a VM); opening them then
// fails with ENOENT and the group reports each such event as unavailable with the reason
// (PerfOpenErrorReason), never as zero. To make an encoding test independent of the CPU, set
// LIBPFM_FORCE_PMU (e.g. amd64_fam19h_zen4) before the first call: libpfm then uses that PMU's
// tables (and hides the generic perf:: events). Where libpfm cannot initialise at all, the
// generic software events and cycles/instructions are still encoded from linux/perf_event.h.
#ifndef KLAB_HARNESS_PFM_EVENTS_H_
#define KLAB_HARNESS_PFM_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace klab::harness {

struct EventEncoding {
  std::string name;        // as asked
  std::string canonical;   // libpfm's fully qualified name
  uint32_t type = 0;       // perf_event_attr.type
  uint64_t config = 0;     // perf_event_attr.config
  uint64_t config1 = 0;
};

// Encodes one event for the calling process at user level. NotFound for a name libpfm does not
// know on the PMUs it sees; FailedPrecondition when libpfm cannot initialise.
absl::StatusOr<EventEncoding> EncodeEvent(const std::string& name);

// The PMUs libpfm detected on this machine ("perf", "perf_raw", "amd64_fam19h_zen4", ...).
std::vector<std::string> DetectedPmus();

// libpfm4 as loaded: "libpfm.so.4.13.0 (API 4.0)".
std::string LibpfmVersion();

// A group of named events opened on the calling thread. Events that cannot be encoded or opened
// are kept, with the reason, and read as nullopt.
class EventGroup {
 public:
  explicit EventGroup(const std::vector<std::string>& names);
  ~EventGroup();
  EventGroup(const EventGroup&) = delete;
  EventGroup& operator=(const EventGroup&) = delete;

  void Start();   // reset and enable
  void Resume();  // enable without resetting (accumulate over several regions)
  void Stop();    // disable

  struct Value {
    std::optional<double> value;  // scaled by time_enabled / time_running when multiplexed
    double running_fraction = 0;  // time_running / time_enabled (1 = never multiplexed)
    std::string reason;           // why there is no value
  };
  // Values since Start, in the order of the names.
  std::vector<Value> Read() const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::vector<int> fds_;
  std::vector<std::string> reasons_;
};

}  // namespace klab::harness

#endif  // KLAB_HARNESS_PFM_EVENTS_H_
