// The hardware counters every result row reports, by key, each resolved once to the event this
// CPU's PMU calls it (libpfm4 encodes the first candidate it knows):
//
//   cycles, instructions     generic perf events
//   l1d_load_misses          generic L1-dcache-load-misses
//   l2_misses                Intel L2_RQSTS:ALL_DEMAND_MISS (or :MISS), AMD Zen 4
//                            CORE_TO_L2_CACHEABLE_REQUEST_ACCESS_STATUS:LS_RD_BLK_C
//   llc_load_misses          generic LLC-load-misses
//   flops                    the FLOP event of flop_event.h, scaled to FLOPs (on Intel the
//                            512-bit packed-single event: FLOPs of AVX-512 code only; the env's
//                            flop_event block says whether the event was validated)
//
// A key whose event this PMU does not have reads null with that reason; so do all of them where
// the machine exposes no PMU (env.counters.reason), never zeros.
#ifndef KLAB_HARNESS_ROW_COUNTERS_H_
#define KLAB_HARNESS_ROW_COUNTERS_H_

#include <string>
#include <vector>

namespace klab::harness {

struct RowCounter {
  std::string key;     // the row's counters key
  std::string event;   // the libpfm event name; "" when none encodes here
  double scale = 1;    // the key's unit per count (FLOPs per count for flops)
  std::string reason;  // why event is "" (empty otherwise)
};

// Resolved once per process, in the order above.
const std::vector<RowCounter>& RowHardwareCounters();

}  // namespace klab::harness

#endif  // KLAB_HARNESS_ROW_COUNTERS_H_
