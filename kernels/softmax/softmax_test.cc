// Every softmax variant the CPU runs against a double evaluation, with the bound of softmax.h:
// row lengths around the vector width, strides, in place, masked (-inf) rows, large logits,
// the causal mask, and backward.
#include "kernels/softmax/softmax.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace klab::kernels {

void PrintTo(const SoftmaxKernels& v, std::ostream* os) { *os << v.name; }

namespace {

// Double softmax of one float row, and the bound of softmax.h for each entry.
void Check(const SoftmaxKernels& v, const char* what, size_t n, const float* x, const float* y,
           bool online) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = std::max(m, double{x[i]});
  double sum = 0, spread = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += std::exp(x[i] - m);
    spread = std::max(spread, m - x[i] < 1e30 ? m - x[i] : 0.0);
  }
  for (size_t i = 0; i < n; ++i) {
    const double exact = std::exp(x[i] - m) / sum;
    const double tol =
        SoftmaxErrorBound(exact, std::isinf(x[i]) ? 0.0 : m - x[i], spread, n, online);
    ASSERT_LE(std::fabs(y[i] - exact), tol)
        << v.name << " " << what << ": n = " << n << " i = " << i << " x = " << x[i]
        << " got " << y[i] << " exact " << exact;
  }
}

class SoftmaxTest : public ::testing::TestWithParam<SoftmaxKernels> {
 protected:
  void SetUp() override {
    if (!CpuSupports(GetParam().isa)) GTEST_SKIP() << "needs " << IsaName(GetParam().isa);
  }
};

TEST_P(SoftmaxTest, RowsOfEveryLengthWithStridesAndGuards) {
  const SoftmaxKernels& v = GetParam();
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-8.0f, 8.0f);
  for (size_t cols : {1u, 2u, 15u, 16u, 17u, 31u, 33u, 256u, 1023u, 2048u}) {
    const size_t rows = 3, ldx = cols + 5, ldy = cols + 3;
    std::vector<float> x(rows * ldx), y(rows * ldy);
    for (float& e : x) e = u(rng);
    for (auto [fn, name, online] : {std::tuple{v.softmax, "softmax", false},
                                    std::tuple{v.softmax_online, "softmax_online", true}}) {
      std::fill(y.begin(), y.end(), NAN);
      fn(rows, cols, x.data(), ldx, y.data(), ldy);
      for (size_t r = 0; r < rows; ++r) {
        Check(v, name, cols, &x[r * ldx], &y[r * ldy], online);
        for (size_t c = cols; c < ldy; ++c) {
          ASSERT_TRUE(std::isnan(y[r * ldy + c])) << name << " wrote padding, cols = " << cols;
        }
      }
      std::vector<float> inplace = x;
      fn(rows, cols, inplace.data(), ldx, inplace.data(), ldx);
      for (size_t r = 0; r < rows; ++r) Check(v, name, cols, &x[r * ldx], &inplace[r * ldx], online);
    }
  }
}

TEST_P(SoftmaxTest, LargeLogitsMaskedRowsAndNaN) {
  const SoftmaxKernels& v = GetParam();
  for (auto fn : {v.softmax, v.softmax_online}) {
    // exp(1000) overflows; the max subtraction keeps it finite.
    std::vector<float> x = {1000.0f, 999.0f, -1000.0f, 998.0f}, y(4);
    fn(1, 4, x.data(), 4, y.data(), 4);
    Check(v, "large logits", 4, x.data(), y.data(), fn == v.softmax_online);
    // An all -inf row (fully masked) gives zeros.
    std::vector<float> masked(37, -INFINITY), ym(37, NAN);
    fn(1, 37, masked.data(), 37, ym.data(), 37);
    for (float e : ym) ASSERT_EQ(e, 0.0f) << v.name;
    // Partly masked: -inf entries get exactly 0.
    x = {1.0f, -INFINITY, 2.0f, -INFINITY};
    fn(1, 4, x.data(), 4, y.data(), 4);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_EQ(y[3], 0.0f);
    Check(v, "partly masked", 4, x.data(), y.data(), fn == v.softmax_online);
    // A NaN makes the row NaN.
    std::vector<float> withnan(40, 1.0f), yn(40);
    withnan[21] = NAN;
    fn(1, 40, withnan.data(), 40, yn.data(), 40);
    for (float e : yn) ASSERT_TRUE(std::isnan(e)) << v.name;
  }
}

TEST_P(SoftmaxTest, CausalRowsUseTheirPrefixAndZeroTheRest) {
  const SoftmaxKernels& v = GetParam();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  const size_t rows = 20, cols = 37;
  for (size_t offset : {0u, 3u, 30u}) {
    std::vector<float> x(rows * cols), y(rows * cols, NAN);
    for (float& e : x) e = u(rng);
    v.softmax_causal(rows, cols, offset, x.data(), cols, y.data(), cols);
    for (size_t r = 0; r < rows; ++r) {
      const size_t valid = std::min(cols, offset + r + 1);
      Check(v, "softmax_causal", valid, &x[r * cols], &y[r * cols], false);
      for (size_t c = valid; c < cols; ++c) ASSERT_EQ(y[r * cols + c], 0.0f) << "row " << r;
    }
  }
}

TEST_P(SoftmaxTest, BackwardMatchesDouble) {
  const SoftmaxKernels& v = GetParam();
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (size_t cols : {1u, 17u, 512u}) {
    const size_t rows = 4;
    std::vector<float> x(rows * cols), y(rows * cols), dy(rows * cols), dx(rows * cols);
    for (float& e : x) e = u(rng);
    for (float& e : dy) e = u(rng);
    v.softmax(rows, cols, x.data(), cols, y.data(), cols);
    v.softmax_backward(rows, cols, y.data(), cols, dy.data(), cols, dx.data(), cols);
    for (size_t r = 0; r < rows; ++r) {
      double dot = 0, scale = 0;
      for (size_t c = 0; c < cols; ++c) {
        dot += double{y[r * cols + c]} * dy[r * cols + c];
        scale += std::fabs(double{y[r * cols + c]} * dy[r * cols + c]);
      }
      for (size_t c = 0; c < cols; ++c) {
        const size_t i = r * cols + c;
        const double exact = y[i] * (dy[i] - dot);
        // The dot product of cols terms (cols/16 per lane + the reduction) and two roundings.
        const double tol = (y[i] * scale * (cols / 16.0 + 8) + std::fabs(exact) * 2) * 0x1p-24;
        ASSERT_LE(std::fabs(dx[i] - exact), tol) << v.name << " cols = " << cols << " i = " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SoftmaxTest, ::testing::ValuesIn(SoftmaxVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace klab::kernels
