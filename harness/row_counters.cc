#include "harness/row_counters.h"

#include <optional>
#include <utility>

#include "harness/flop_event.h"
#include "harness/pfm_events.h"

namespace klab::harness {
namespace {

RowCounter FirstKnown(std::string key, const std::vector<std::string>& candidates) {
  for (const std::string& name : candidates) {
    if (EncodeEvent(name).ok()) return {std::move(key), name, 1, ""};
  }
  return {std::move(key), "", 1, "no event for it on the PMUs libpfm sees"};
}

}  // namespace

const std::vector<RowCounter>& RowHardwareCounters() {
  static const std::vector<RowCounter> counters = [] {
    std::vector<RowCounter> c;
    c.push_back(FirstKnown("cycles", {"cycles"}));
    c.push_back(FirstKnown("instructions", {"instructions"}));
    c.push_back(FirstKnown("l1d_load_misses", {"L1-dcache-load-misses"}));
    c.push_back(FirstKnown("l2_misses", {"L2_RQSTS:ALL_DEMAND_MISS", "L2_RQSTS:MISS",
                                         "CORE_TO_L2_CACHEABLE_REQUEST_ACCESS_STATUS:LS_RD_BLK_C"}));
    c.push_back(FirstKnown("llc_load_misses", {"LLC-load-misses"}));
    const std::optional<FlopEvent> flop =
        SelectFlopEvent(__builtin_cpu_supports("avx512f") ? 512 : 256);
    c.push_back(flop ? RowCounter{"flops", flop->name, flop->flops_per_count, ""}
                     : RowCounter{"flops", "", 1, "no FLOP event on the PMUs libpfm sees"});
    return c;
  }();
  return counters;
}

}  // namespace klab::harness
