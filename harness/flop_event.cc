#include "harness/flop_event.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "harness/counters.h"
#include "harness/pfm_events.h"

namespace klab::harness {

std::optional<FlopEvent> SelectFlopEvent(int vector_bits) {
  const double lanes = vector_bits / 32.0;
  // In order of preference; the first that libpfm encodes on the PMUs it sees is the one.
  const std::vector<FlopEvent> candidates = {
      // AMD Zen 2-5: FLOPs retired, an FMA lane counting 2.
      {"RETIRED_SSE_AVX_FLOPS:ANY", 1.0},
      // Intel Skylake-SP and later: packed single instructions of this width, an FMA counted
      // twice, each count standing for every lane.
      {vector_bits == 512 ? "FP_ARITH_INST_RETIRED:512B_PACKED_SINGLE"
                          : "FP_ARITH_INST_RETIRED:256B_PACKED_SINGLE",
       lanes},
  };
  for (const FlopEvent& e : candidates) {
    if (EncodeEvent(e.name).ok()) return e;
  }
  return std::nullopt;
}

FlopCalibration CalibrateFlopEvent(const std::function<void()>& kernel, double expected_flops,
                                   int vector_bits) {
  FlopCalibration c;
  c.expected_flops = expected_flops;
  const std::optional<FlopEvent> event = SelectFlopEvent(vector_bits);
  if (!event) {
    const CounterCapabilities& caps = ProbeCounters();
    c.reason = "libpfm knows no FLOP event on the PMUs it sees (" +
               absl::StrJoin(DetectedPmus(), ", ") + ")" +
               (caps.hardware ? "" : "; hardware counters: " + caps.reason);
    return c;
  }
  c.event = event->name;
  EventGroup group({event->name});
  group.Start();
  kernel();
  group.Stop();
  const EventGroup::Value v = group.Read()[0];
  if (!v.value) {
    c.reason = v.reason;
    return c;
  }
  c.ran = true;
  c.counted_flops = *v.value * event->flops_per_count;
  c.ratio = expected_flops > 0 ? c.counted_flops / expected_flops : 0;
  c.validated = std::abs(c.ratio - 1) < kCalibrationTolerance;
  return c;
}

Json FlopCalibrationJson(const FlopCalibration& c) {
  if (!c.ran) {
    return {{"event", c.event.empty() ? Json(nullptr) : Json(c.event)},
            {"validated", false},
            {"reason", c.reason}};
  }
  return {{"event", c.event},
          {"validated", c.validated},
          {"expected_flops", c.expected_flops},
          {"counted_flops", c.counted_flops},
          {"ratio", c.ratio}};
}

}  // namespace klab::harness
