// Tests of the oracle itself: a hand-computed product, the bound's scaling with K, and the NaN
// and beta == 0 rules. If the oracle is wrong, every kernel test is meaningless.
#include "kernels/testing/gemm_reference.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "kernels/testing/matrix.h"

namespace klab::kernels::testing {
namespace {

TEST(GemmReferenceTest, HandComputedProduct) {
  // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50]; alpha 2, beta -1 with C0 = [1 1; 1 1].
  const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  float c0[4] = {1, 1, 1, 1};
  const SgemmArgs args{Trans::kNo, Trans::kNo, 2, 2, 2, 2.0f, a, 2, b, 2, -1.0f, c0, 2};
  const GemmReference ref(args);
  EXPECT_EQ(ref.ref(0, 0), 37.0);
  EXPECT_EQ(ref.ref(0, 1), 43.0);
  EXPECT_EQ(ref.ref(1, 0), 85.0);
  EXPECT_EQ(ref.ref(1, 1), 99.0);
  const float exact[4] = {37, 43, 85, 99};
  EXPECT_TRUE(ref.Check(exact, 2).ok);
}

TEST(GemmReferenceTest, TransposesReadTheRightElements) {
  // op(A) = A^T with A stored 2 x 2 = [1 3; 2 4] -> op(A) = [1 2; 3 4]; op(B) = B^T similarly.
  const float a[4] = {1, 3, 2, 4}, b[4] = {5, 7, 6, 8};
  float c0[4] = {0, 0, 0, 0};
  const SgemmArgs args{Trans::kYes, Trans::kYes, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c0, 2};
  const GemmReference ref(args);
  EXPECT_EQ(ref.ref(0, 0), 19.0);
  EXPECT_EQ(ref.ref(1, 1), 50.0);
}

TEST(GemmReferenceTest, BoundScalesWithK) {
  // All-ones inputs: (|A||B|)_ij = K, so the allowed error is K * K * 2^-23 + 4 * 2^-24 * K.
  for (int64_t k : {1, 100, 4099}) {
    Matrix a(1, k), b(k, 1), c(1, 1);
    a.Fill(1.0f);
    b.Fill(1.0f);
    c.Fill(0.0f);
    const SgemmArgs args{Trans::kNo, Trans::kNo, 1, 1, k, 1.0f, a.data(), a.ld(), b.data(), b.ld(),
                         0.0f, c.data(), c.ld()};
    const GemmReference ref(args);
    const double kd = static_cast<double>(k);
    EXPECT_DOUBLE_EQ(ref.allowed(0, 0), kd * kd * std::ldexp(1.0, -23) + 4 * std::ldexp(1.0, -24) * kd);
  }
}

TEST(GemmReferenceTest, RejectsAnErrorJustOverTheBound) {
  const float a[1] = {1.0f}, b[1] = {1.0f};
  float c0[1] = {0};
  const SgemmArgs args{Trans::kNo, Trans::kNo, 1, 1, 1, 1.0f, a, 1, b, 1, 0.0f, c0, 1};
  const GemmReference ref(args);
  const double allowed = ref.allowed(0, 0);  // 2^-23 + 4 * 2^-24 = 3 * 2^-23
  EXPECT_DOUBLE_EQ(allowed, 3 * std::ldexp(1.0, -23));
  const float within = 1.0f + 2 * std::ldexp(1.0f, -23);
  const float beyond = 1.0f + 4 * std::ldexp(1.0f, -23);
  EXPECT_TRUE(ref.Check(&within, 1).ok);
  const GemmCheck bad = ref.Check(&beyond, 1);
  EXPECT_FALSE(bad.ok);
  EXPECT_GT(bad.max_err_ratio, 1.0);
  EXPECT_EQ(bad.worst_i, 0);
  EXPECT_EQ(bad.worst_j, 0);
  EXPECT_EQ(bad.failures, 1);
}

TEST(GemmReferenceTest, BetaZeroIgnoresNanInC0AndNanResultsFail) {
  const float a[1] = {2.0f}, b[1] = {3.0f};
  float c0[1] = {std::numeric_limits<float>::quiet_NaN()};
  const SgemmArgs args{Trans::kNo, Trans::kNo, 1, 1, 1, 1.0f, a, 1, b, 1, 0.0f, c0, 1};
  const GemmReference ref(args);
  EXPECT_EQ(ref.ref(0, 0), 6.0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(ref.Check(&nan, 1).ok);
  const float six = 6.0f;
  EXPECT_TRUE(ref.Check(&six, 1).ok);
}

TEST(GemmReferenceTest, NanPropagatesWhenBetaIsNonZero) {
  const float a[1] = {2.0f}, b[1] = {3.0f};
  float c0[1] = {std::numeric_limits<float>::quiet_NaN()};
  const SgemmArgs args{Trans::kNo, Trans::kNo, 1, 1, 1, 1.0f, a, 1, b, 1, 1.0f, c0, 1};
  const GemmReference ref(args);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float six = 6.0f;
  EXPECT_TRUE(ref.Check(&nan, 1).ok);
  EXPECT_FALSE(ref.Check(&six, 1).ok);
}

}  // namespace
}  // namespace klab::kernels::testing
