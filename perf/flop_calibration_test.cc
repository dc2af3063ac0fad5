// The FLOP-event calibration of harness/flop_event.h with the FMA kernel //perf:peak runs: where a
// PMU counts, the kernel's known FLOPs must validate the event; where none is exposed (these VMs),
// the calibration must not run and must say why — never a zero.
#include "harness/flop_event.h"

#include <cstdint>

#include "gtest/gtest.h"
#include "harness/counters.h"
#include "kernels/cpu/cpu.h"
#include "kernels/peak/peak.h"

namespace klab::harness {
namespace {

TEST(FlopEvent, CalibratesOrSaysWhyNot) {
  const kernels::FmaPeakKernel* widest = kernels::WidestFmaPeakKernel();
  if (widest == nullptr) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  const kernels::FmaPeakKernel& k = *widest;
  constexpr int64_t kIterations = 1'000'000;
  volatile float sink = 0;
  const FlopCalibration c = CalibrateFlopEvent(
      [&] { sink = k.fn(kIterations); }, static_cast<double>(kIterations) * k.flops_per_iteration,
      k.isa == kernels::Isa::kAvx512 ? 512 : 256);
  const Json j = FlopCalibrationJson(c);
  if (c.ran) {
    EXPECT_TRUE(c.validated) << c.event << " counted " << c.counted_flops << " of "
                             << c.expected_flops << " (ratio " << c.ratio << ")";
    EXPECT_TRUE(j["validated"].get<bool>());
  } else {
    EXPECT_FALSE(c.reason.empty());
    EXPECT_EQ(c.counted_flops, 0);
    EXPECT_FALSE(j["validated"].get<bool>());
    EXPECT_EQ(j["reason"], c.reason);
  }
  // No hardware counters, no calibration.
  if (!ProbeCounters().hardware) {
    EXPECT_FALSE(c.ran);
    GTEST_LOG_(INFO) << "not calibrated here: " << c.reason;
  }
}

}  // namespace
}  // namespace klab::harness
