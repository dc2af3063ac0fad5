// The peak kernels run where the CPU supports them and compute the fixed-point recurrence.
#include "kernels/peak/peak.h"

#include <cmath>

#include "gtest/gtest.h"

namespace klab::kernels {
namespace {

TEST(PeakTest, KernelsRunAndConvergeToTheFixedPoint) {
  for (const FmaPeakKernel& k : FmaPeakKernels()) {
    if (!CpuSupports(k.isa)) {
      GTEST_LOG_(INFO) << "skipping " << k.name << ": needs " << IsaName(k.isa);
      continue;
    }
    // acc <- acc * 0.999999 + 1e-6 has the fixed point 1; the result sums two lanes of the sum
    // of 12 accumulators, starting from 0..11 (mean 5.5) and moving towards 1.
    const float v0 = k.fn(0);
    EXPECT_FLOAT_EQ(v0, 2 * 66.0f) << k.name;
    const float v = k.fn(1000);
    EXPECT_TRUE(std::isfinite(v)) << k.name;
    EXPECT_LT(v, v0) << k.name;
    EXPECT_GT(v, 2 * 12.0f) << k.name;
    EXPECT_EQ(k.flops_per_iteration % 32, 0) << k.name;
  }
}

}  // namespace
}  // namespace klab::kernels
