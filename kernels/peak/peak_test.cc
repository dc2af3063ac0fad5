// The peak kernels run where the CPU supports them and compute the fixed-point recurrence.
#include "kernels/peak/peak.h"

#include <cstdlib>

#include "kernels/peak/bandwidth.h"

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

namespace klab::kernels {
namespace {

// The bandwidth kernels compute what they say (they are timed, so they must not be empty).
TEST(BandwidthTest, ReadSumsAndTriadComputes) {
  const size_t n = 1024;
  float* a = static_cast<float*>(std::aligned_alloc(64, n * 4));
  float* b = static_cast<float*>(std::aligned_alloc(64, n * 4));
  float* c = static_cast<float*>(std::aligned_alloc(64, n * 4));
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<float>(i % 7), c[i] = 2.0f;
  TriadF32(n, 0.5f, b, c, a);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(a[i], b[i] + 1.0f) << i;
    sum += a[i];
  }
  CopyF32(n, a, c);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i]) << i;
  // ReadF32 returns the sum; small integers make every partial sum exact, in any order.
  EXPECT_EQ(ReadF32(n, a), sum);
  // Any length: the fast loop, whole vectors, single floats.
  for (size_t m : {size_t{0}, size_t{1}, size_t{17}, size_t{255}, size_t{257}, n - 3}) {
    double part = 0;
    for (size_t i = 0; i < m; ++i) part += a[i];
    EXPECT_EQ(ReadF32(m, a), part) << m;
  }
  EXPECT_GT(sum, 0);
  std::free(a);
  std::free(b);
  std::free(c);
}

}  // namespace
}  // namespace klab::kernels
