// FMA throughput kernels that define "peak" for this machine by measurement.
//
// Each kernel runs `iterations` rounds of independent fused multiply-adds on kAccumulators vector
// registers: enough independent chains to cover the FMA latency (4 cycles) on two FMA ports, so
// the loop is bound by FMA throughput alone. Peak GFLOP/s = flops / time; the suites divide their
// GFLOP/s by it for "% of peak". The values converge to a fixed point (acc * c + d), so there are
// no overflows or denormals to slow the loop down.
#ifndef KLAB_KERNELS_PEAK_PEAK_H_
#define KLAB_KERNELS_PEAK_PEAK_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

// Runs the loop; returns a value derived from every accumulator so nothing is optimised away.
using FmaPeakFn = float (*)(int64_t iterations) noexcept;

struct FmaPeakKernel {
  std::string_view name;
  Isa isa;
  FmaPeakFn fn;
  int64_t flops_per_iteration;  // accumulators x lanes x 2
};

// AVX2 and AVX-512 kernels, lowest ISA first.
absl::Span<const FmaPeakKernel> FmaPeakKernels();

// The widest kernel this CPU runs, or null where it has neither ISA.
const FmaPeakKernel* WidestFmaPeakKernel();

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_PEAK_PEAK_H_
