// The floating-point-operation event of this CPU, and a calibration that checks it against a
// kernel whose FLOP count is known exactly.
//
// A FLOP count read from a counter is only as good as the event's definition, and vendors define
// them differently: AMD Zen's RETIRED_SSE_AVX_FLOPS counts operations (an FMA lane as 2), Intel's
// FP_ARITH_INST_RETIRED.<width>_PACKED_SINGLE counts instructions (an FMA twice), one count then
// standing for 8 or 16 lanes. So before a suite quotes FLOPs from a counter it runs a kernel of
// known FLOPs (kernels/peak's FMA loop) under the event and checks the ratio; only a ratio within
// kCalibrationTolerance of 1 validates the event.
//
// Where the machine exposes no PMU (this project's VMs: perf_event_open gives ENOENT) or libpfm
// knows no FLOP event on the PMUs it sees, the calibration does not run and says why: never a
// zero, never a failed suite.
#ifndef KLAB_HARNESS_FLOP_EVENT_H_
#define KLAB_HARNESS_FLOP_EVENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "harness/json.h"

namespace klab::harness {

struct FlopEvent {
  std::string name;            // libpfm event name
  double flops_per_count = 1;  // FLOPs one count stands for (FMA = 2 FLOPs per lane)
};

// The first FLOP event libpfm can encode on this machine's PMUs, for a calibration kernel of
// vectors `vector_bits` wide (256 or 512); nullopt when it knows none (no core PMU detected).
std::optional<FlopEvent> SelectFlopEvent(int vector_bits);

// |counted / expected - 1| below this validates the event. The calibration kernel's loop is pure
// FMA; its prologue and reduction add a few dozen FLOPs to ~1e9, and Intel's event also counts
// the rare non-FMA vector ops of the harness around it, so 1% is generous yet far below any
// misread factor (x2 for an FMA counted once, x8/x16 for lanes).
inline constexpr double kCalibrationTolerance = 0.01;

struct FlopCalibration {
  bool ran = false;         // the event opened and counted
  std::string event;        // the event used ("" when none)
  std::string reason;       // why it did not run
  double expected_flops = 0;
  double counted_flops = 0;  // count x flops_per_count, scaled when multiplexed
  double ratio = 0;          // counted / expected
  bool validated = false;    // ran and |ratio - 1| < kCalibrationTolerance
};

// Runs `kernel` once under the FLOP event on the calling thread. `expected_flops` is the kernel's
// exact FLOP count; `vector_bits` the width of its FMAs.
FlopCalibration CalibrateFlopEvent(const std::function<void()>& kernel, double expected_flops,
                                   int vector_bits);

// {"event", "validated", "expected_flops", "counted_flops", "ratio"} or {"event": null, "reason"}.
Json FlopCalibrationJson(const FlopCalibration& c);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_FLOP_EVENT_H_
