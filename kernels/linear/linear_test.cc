#include "kernels/linear/linear.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/testing/gemm_reference.h"

namespace klab::kernels {
namespace {

// 64-byte aligned floats, as the packed weights must be.
struct Aligned {
  explicit Aligned(size_t n) : p(static_cast<float*>(std::aligned_alloc(64, (n * 4 + 127) / 64 * 64))) {}
  ~Aligned() { std::free(p); }
  float* p;
};

std::vector<float> Random(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

class LinearTest : public ::testing::TestWithParam<LinearKernels> {};

// Every shape class: m below, at and above the row blocking, n around panel and 4-panel edges,
// k = 0, 1, odd, long; with and without bias and accumulation; the strides larger than needed.
// Checked against fp64 with docs/design.md's K-scaled GEMM bound (bias and the accumulated y enter
// as C0 with beta = 1; their float sum is one more rounding, inside the 4 2^-24 |c0| term).
TEST_P(LinearTest, MatchesFp64WithinTheGemmBound) {
  const LinearKernels& kernel = GetParam();
  if (!CpuSupports(kernel.isa)) GTEST_SKIP() << "CPU lacks " << IsaName(kernel.isa);
  std::mt19937 rng(7);
  for (size_t m : {1, 2, 3, 4, 5, 7, 9, 64}) {
    for (size_t n : {1, 15, 16, 17, 33, 64, 65, 100, 257}) {
      for (size_t k : {0, 1, 7, 64, 172, 513}) {
        for (int mode = 0; mode < 4; ++mode) {
          const bool use_bias = mode & 1, accumulate = mode & 2;
          const size_t ldx = k + 3, ldw = k + 1, ldy = n + 5;
          const std::vector<float> x = Random(m * ldx, rng), w = Random(n * ldw + 1, rng),
                                   bias = Random(n, rng);
          std::vector<float> y = Random(m * ldy, rng);
          Aligned packed(PackedLinearSize(n, k) + 16);
          PackLinearWeights(n, k, w.data(), ldw, packed.p);
          // The reference: C0 = (accumulate ? y : 0) + bias, beta = 1.
          std::vector<float> c0(m * ldy, 0.0f);
          for (size_t r = 0; r < m; ++r) {
            for (size_t j = 0; j < n; ++j) {
              c0[r * ldy + j] = (accumulate ? y[r * ldy + j] : 0.0f) + (use_bias ? bias[j] : 0.0f);
            }
          }
          SgemmArgs args{Trans::kNo, Trans::kYes, int64_t(m), int64_t(n), int64_t(k), 1.0f,
                         x.data(), int64_t(ldx), w.data(), int64_t(ldw), 1.0f, c0.data(), int64_t(ldy)};
          testing::GemmReference ref(args);
          kernel.linear_panels(m, n, k, x.data(), ldx, packed.p, use_bias ? bias.data() : nullptr,
                               y.data(), ldy, accumulate, 0, (n + 15) / 16);
          const testing::GemmCheck check = ref.Check(y.data(), ldy);
          ASSERT_TRUE(check.ok) << kernel.name << " m " << m << " n " << n << " k " << k
                                << " mode " << mode << ": " << check.Describe();
        }
      }
    }
  }
}

// A range of panels (whole groups) writes its outputs, bitwise as the whole call does, and
// nothing else.
TEST_P(LinearTest, PanelRangeWritesOnlyItsOutputs) {
  const LinearKernels& kernel = GetParam();
  if (!CpuSupports(kernel.isa)) GTEST_SKIP() << "CPU lacks " << IsaName(kernel.isa);
  std::mt19937 rng(3);
  const size_t m = 3, n = 100, k = 40;
  const std::vector<float> x = Random(m * k, rng), w = Random(n * k, rng);
  Aligned packed(PackedLinearSize(n, k));
  PackLinearWeights(n, k, w.data(), k, packed.p);
  std::vector<float> all(m * n), part(m * n, NAN);
  kernel.linear_panels(m, n, k, x.data(), k, packed.p, nullptr, all.data(), n, false, 0, 7);
  kernel.linear_panels(m, n, k, x.data(), k, packed.p, nullptr, part.data(), n, false, 4, 7);
  for (size_t r = 0; r < m; ++r) {
    for (size_t j = 0; j < n; ++j) {
      if (j >= 64) {
        EXPECT_EQ(part[r * n + j], all[r * n + j]) << r << "," << j;
      } else {
        EXPECT_TRUE(std::isnan(part[r * n + j])) << r << "," << j;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, LinearTest, ::testing::ValuesIn(LinearVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

// Threads split whole panels, so every output is computed by the same code as on one thread:
// the results are bitwise identical.
TEST(LinearThreaded, BitwiseEqualToOneThread) {
  std::mt19937 rng(11);
  for (size_t m : {1, 5, 64}) {
    const size_t n = 768, k = 256;
    const std::vector<float> x = Random(m * k, rng), w = Random(n * k, rng), b = Random(n, rng);
    Aligned packed(PackedLinearSize(n, k));
    PackLinearWeights(n, k, w.data(), k, packed.p);
    std::vector<float> one(m * n), two(m * n);
    SetGemmThreads(1);
    LinearThreaded(m, n, k, x.data(), k, packed.p, b.data(), one.data(), n, false);
    SetGemmThreads(2);
    LinearThreaded(m, n, k, x.data(), k, packed.p, b.data(), two.data(), n, false);
    SetGemmThreads(1);
    EXPECT_EQ(one, two) << "m " << m;
  }
}

// The read ceiling reads every packed float exactly once, split or not: packed weights of ones
// sum to their count. (Shapes on both sides of the 2^16 threshold, panel counts not a multiple
// of the group.)
TEST(LinearReadThreaded, ReadsEveryPackedFloatOnce) {
  for (size_t threads : {1, 2}) {
    SetGemmThreads(static_cast<int>(threads));
    for (auto [m, n, k] : {std::tuple<size_t, size_t, size_t>{1, 128, 128}, {1, 512, 128},
                           {1, 200, 512}, {8, 768, 256}}) {
      const size_t size = PackedLinearSize(n, k);
      Aligned packed(size);
      std::fill(packed.p, packed.p + size, 1.0f);
      EXPECT_EQ(LinearReadThreaded(m, n, k, packed.p), static_cast<float>(size))
          << "threads " << threads << " m " << m << " n " << n << " k " << k;
    }
  }
  SetGemmThreads(1);
}

}  // namespace
}  // namespace klab::kernels
