#include "kernels/attention/attention.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace klab::kernels {
namespace {

class AttentionTest : public ::testing::TestWithParam<AttentionKernels> {};

// Every variant the CPU runs against double, with the bound of attention.h evaluated per output
// from the exact probabilities: rows around the row blocking, head sizes below, at and around
// the vector width, lengths around the vector and 4-vector blocks; keys spread so that the
// probabilities span many orders of magnitude.
TEST_P(AttentionTest, MatchesDoubleWithinTheStatedBound) {
  const AttentionKernels& kernel = GetParam();
  if (!CpuSupports(kernel.isa)) GTEST_SKIP() << "CPU lacks " << IsaName(kernel.isa);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  double worst = 0;
  for (size_t rows : {1, 2, 3, 4, 5, 8}) {
    for (size_t hs : {1, 8, 17, 32, 64, 100}) {
      for (size_t len : {1, 2, 15, 16, 17, 63, 64, 65, 200, 512}) {
        const size_t ldq = hs + 1, ld_t = len + 3, ldo = hs + 2;
        const float scale = static_cast<float>(1.0 / std::sqrt(double(hs)));
        const size_t ldv = hs + 5;
        std::vector<float> q(rows * ldq), kt(hs * ld_t), values(len * ldv);
        for (float& x : q) x = 3.0f * u(rng);
        for (float& x : kt) x = 2.0f * u(rng);
        for (float& x : values) x = u(rng);
        std::vector<float> scores(rows * AttentionScoresStride(len)), out(rows * ldo, NAN);
        kernel.decode(rows, hs, len, scale, q.data(), ldq, kt.data(), ld_t, values.data(), ldv,
                      scores.data(), out.data(), ldo);
        for (size_t i = 0; i < rows; ++i) {
          std::vector<double> s(len), d(len), p(len);
          double m = -INFINITY;
          for (size_t j = 0; j < len; ++j) {
            double dot = 0, mag = 0;
            for (size_t e = 0; e < hs; ++e) {
              dot += double(q[i * ldq + e]) * kt[e * ld_t + j];
              mag += std::abs(double(q[i * ldq + e]) * kt[e * ld_t + j]);
            }
            s[j] = dot * scale;
            d[j] = hs * 0x1p-23 * scale * mag;
            m = std::max(m, s[j]);
          }
          double sum = 0;
          for (size_t j = 0; j < len; ++j) sum += p[j] = std::exp(s[j] - m);
          const double max_d = *std::max_element(d.begin(), d.end());
          for (size_t e = 0; e < hs; ++e) {
            double exact = 0, bound = 0;
            for (size_t j = 0; j < len; ++j) {
              const double pj = p[j] / sum, v = values[j * ldv + e];
              exact += pj * v;
              bound += pj * std::abs(v) *
                       (d[j] + max_d + (m - s[j]) * 0x1p-24 + (17.0 * len / 16 + 24) * 0x1p-24);
            }
            const double got = out[i * ldo + e];
            ASSERT_LE(std::abs(got - exact), bound)
                << kernel.name << " rows " << rows << " hs " << hs << " len " << len << " row "
                << i << " e " << e << ": got " << got << " want " << exact;
            worst = std::max(worst, std::abs(got - exact) / bound);
          }
        }
      }
    }
  }
  RecordProperty("max_err_ratio", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(Variants, AttentionTest, ::testing::ValuesIn(AttentionVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace klab::kernels
