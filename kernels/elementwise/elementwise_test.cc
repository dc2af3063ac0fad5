// Every elementwise variant the CPU runs gives exactly the float result of the scalar operation
// (each output is one correctly rounded + or *), for lengths around the vector widths, with
// unaligned pointers, guards past the end, strides, and in place.
#include "kernels/elementwise/elementwise.h"

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace klab::kernels {

void PrintTo(const ElementwiseKernels& v, std::ostream* os) { *os << v.name; }

namespace {

class ElementwiseTest : public ::testing::TestWithParam<ElementwiseKernels> {
 protected:
  void SetUp() override {
    if (!CpuSupports(GetParam().isa)) GTEST_SKIP() << "needs " << IsaName(GetParam().isa);
  }
};

TEST_P(ElementwiseTest, ExactResultsGuardsAndInPlace) {
  const ElementwiseKernels& v = GetParam();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-100.0f, 100.0f);
  for (size_t n : {0u, 1u, 7u, 15u, 16u, 17u, 63u, 64u, 65u, 1023u, 100003u}) {
    std::vector<float> abuf(n + 9), bbuf(n + 9), ybuf(n + 9, NAN);
    float *a = abuf.data() + 1, *b = bbuf.data() + 1, *y = ybuf.data() + 1;
    for (size_t i = 0; i < n; ++i) a[i] = u(rng), b[i] = u(rng);
    v.add(n, a, b, y);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], a[i] + b[i]) << v.name << " add n = " << n;
    for (size_t i = n; i < n + 8; ++i) ASSERT_TRUE(std::isnan(y[i])) << "add wrote past n = " << n;
    v.scale(n, 0.37f, a, y);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 0.37f * a[i]) << v.name << " scale n = " << n;
    std::vector<float> acc(b, b + n);
    v.add_inplace(n, a, acc.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(acc[i], b[i] + a[i]) << v.name << " add_inplace";
    std::vector<float> same(a, a + n);
    v.add(n, same.data(), b, same.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(same[i], a[i] + b[i]) << v.name << " add in place";
  }
}

TEST_P(ElementwiseTest, BroadcastAddWithStrides) {
  const ElementwiseKernels& v = GetParam();
  const size_t rows = 7, cols = 45, ldx = 50, ldy = 47;
  std::vector<float> x(rows * ldx), bias(cols), y(rows * ldy, NAN);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * i;
  for (size_t c = 0; c < cols; ++c) bias[c] = -0.25f * c;
  v.broadcast_add(rows, cols, x.data(), ldx, bias.data(), y.data(), ldy);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < ldy; ++c) {
      if (c < cols) {
        ASSERT_EQ(y[r * ldy + c], x[r * ldx + c] + bias[c]) << v.name << " (" << r << ", " << c << ")";
      } else {
        ASSERT_TRUE(std::isnan(y[r * ldy + c])) << v.name << " wrote padding";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, ElementwiseTest, ::testing::ValuesIn(ElementwiseVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace klab::kernels
