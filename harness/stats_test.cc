// Statistics on samples whose answers were worked out by hand.
#include "harness/stats.h"

#include <cmath>

#include "gtest/gtest.h"

namespace klab::harness {
namespace {

TEST(StatsTest, OddCountWithOutlier) {
  // sorted 1 2 3 4 100; mean 22; deviations from the median 3: 2 1 0 1 97 -> MAD 1.
  // p95: position 0.95 * 4 = 3.8 -> 4 + 0.8 * (100 - 4) = 80.8.
  // variance (n-1): ((21^2 + 20^2 + 19^2 + 18^2 + 78^2) / 4) = (441+400+361+324+6084)/4 = 1902.5
  const Summary s = Summarize({100, 3, 1, 4, 2});
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 100);
  EXPECT_EQ(s.median, 3);
  EXPECT_EQ(s.mean, 22);
  EXPECT_EQ(s.mad, 1);
  EXPECT_NEAR(s.p95, 80.8, 1e-12);
  EXPECT_NEAR(s.stddev, std::sqrt(1902.5), 1e-12);
}

TEST(StatsTest, EvenCountMedianInterpolates) {
  const Summary s = Summarize({4, 1, 3, 2});
  EXPECT_EQ(s.median, 2.5);
  // deviations 1.5 0.5 0.5 1.5 -> MAD 1.0
  EXPECT_EQ(s.mad, 1.0);
}

TEST(StatsTest, SingleAndEmpty) {
  const Summary one = Summarize({7});
  EXPECT_EQ(one.median, 7);
  EXPECT_EQ(one.p95, 7);
  EXPECT_EQ(one.stddev, 0);
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(StatsTest, PercentileEndpoints) {
  const std::vector<double> v = {10, 20, 30};
  EXPECT_EQ(Percentile(v, 0.0), 10);
  EXPECT_EQ(Percentile(v, 1.0), 30);
  EXPECT_EQ(Percentile(v, 0.25), 15);
}

}  // namespace
}  // namespace klab::harness

namespace klab::harness {
namespace {

TEST(BootstrapMedianCi, ConstantSamplesGiveAPoint) {
  const Interval ci = BootstrapMedianCi({5, 5, 5, 5, 5, 5, 5, 5, 5});
  EXPECT_EQ(ci.lo, 5);
  EXPECT_EQ(ci.hi, 5);
}

// 1..101: the median is 51; resampled medians spread over the middle order statistics (the
// median of 101 draws has a standard deviation of ~5 ranks here), so the interval brackets 51,
// is far narrower than the data, and is the same for the same seed.
TEST(BootstrapMedianCi, BracketsTheMedianReproducibly) {
  std::vector<double> v;
  for (int i = 1; i <= 101; ++i) v.push_back(i);
  const Interval a = BootstrapMedianCi(v), b = BootstrapMedianCi(v);
  EXPECT_LT(a.lo, 51);
  EXPECT_GT(a.hi, 51);
  EXPECT_GT(a.lo, 35);
  EXPECT_LT(a.hi, 67);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_EQ(BootstrapMedianCi({}).lo, 0);
}

// An outlier does not move the interval of the median much (unlike a mean's).
TEST(BootstrapMedianCi, RobustToAnOutlier) {
  std::vector<double> v(31, 100.0);
  for (int i = 0; i < 31; ++i) v[i] += i % 5;
  const Interval clean = BootstrapMedianCi(v);
  v.push_back(1e6);
  const Interval dirty = BootstrapMedianCi(v);
  EXPECT_LE(dirty.hi, clean.hi + 1);
}

}  // namespace
}  // namespace klab::harness
