// Every LayerNorm / RMSNorm variant the CPU runs against double, with the bound of norm.h: row
// lengths around the vector width, strides and guards, in place, a row of 1e4 + noise (the
// cancellation case), constant rows, and backward (dx, and dw/db accumulated).
#include "kernels/norm/norm.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace klab::kernels {

void PrintTo(const NormKernels& v, std::ostream* os) { *os << v.name; }

namespace {

constexpr float kEps = 1e-5f;

struct Rows {
  size_t rows, cols, ld;
  std::vector<float> x, w, b;
};

Rows MakeRows(size_t rows, size_t cols, float center, float noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Rows r{rows, cols, cols + 3, {}, {}, {}};
  r.x.assign(rows * r.ld, NAN);  // padding NaN: a read of it shows
  for (size_t i = 0; i < rows; ++i) {
    for (size_t c = 0; c < cols; ++c) r.x[i * r.ld + c] = center + noise * u(rng);
  }
  for (size_t c = 0; c < cols; ++c) r.w.push_back(1.0f + 0.5f * u(rng)), r.b.push_back(u(rng));
  return r;
}

// Exact statistics of one float row.
void Stats(const float* x, size_t n, bool rms, double* mean, double* rstd) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m += x[i];
  m = rms ? 0.0 : m / n;
  double v = 0;
  for (size_t i = 0; i < n; ++i) v += (x[i] - m) * (x[i] - m);
  *mean = m;
  *rstd = 1.0 / std::sqrt(v / n + kEps);
}

void CheckForward(const NormKernels& v, const Rows& r, bool rms, bool in_place) {
  std::vector<float> y(r.rows * r.ld, NAN), mean(r.rows), rstd(r.rows);
  const float* x = r.x.data();
  if (in_place) {
    y = r.x;
    x = y.data();
  }
  if (rms) {
    v.rmsnorm(r.rows, r.cols, x, r.ld, r.w.data(), kEps, y.data(), r.ld, rstd.data());
  } else {
    v.layernorm(r.rows, r.cols, x, r.ld, r.w.data(), r.b.data(), kEps, y.data(), r.ld,
                mean.data(), rstd.data());
  }
  const char* name = rms ? "rmsnorm" : "layernorm";
  for (size_t i = 0; i < r.rows; ++i) {
    double m, s;
    Stats(&r.x[i * r.ld], r.cols, rms, &m, &s);
    const double stat_tol = (r.cols / 16.0 + 8) * 0x1p-24;
    EXPECT_NEAR(rstd[i], s, s * stat_tol) << v.name << " " << name << " rstd, cols = " << r.cols;
    if (!rms) {
      EXPECT_NEAR(mean[i], m, (std::fabs(m) + 1.0 / s) * stat_tol) << v.name << " mean";
    }
    for (size_t c = 0; c < r.cols; ++c) {
      const double xhat = (r.x[i * r.ld + c] - m) * s;
      const double b = rms ? 0.0 : r.b[c];
      const double exact = xhat * r.w[c] + b;
      const double tol = NormErrorBound(r.w[c], xhat, b, r.cols);
      ASSERT_LE(std::fabs(y[i * r.ld + c] - exact), tol)
          << v.name << " " << name << (in_place ? " in place" : "") << " (" << i << ", " << c
          << ") cols = " << r.cols << ": got " << y[i * r.ld + c] << ", exact " << exact;
    }
    for (size_t c = r.cols; c < r.ld && !in_place; ++c) {
      ASSERT_TRUE(std::isnan(y[i * r.ld + c])) << v.name << " wrote padding";
    }
  }
}

class NormTest : public ::testing::TestWithParam<NormKernels> {
 protected:
  void SetUp() override {
    if (!CpuSupports(GetParam().isa)) GTEST_SKIP() << "needs " << IsaName(GetParam().isa);
  }
};

TEST_P(NormTest, ForwardRowLengthsStridesAndInPlace) {
  for (size_t cols : {1u, 2u, 15u, 16u, 17u, 33u, 128u, 512u, 1023u}) {
    const Rows r = MakeRows(4, cols, 0.3f, 2.0f, static_cast<uint32_t>(cols));
    for (bool rms : {false, true}) {
      CheckForward(GetParam(), r, rms, false);
      CheckForward(GetParam(), r, rms, true);
    }
  }
}

// 1e4 + noise in [-1, 1]: E[x^2] - E[x]^2 in float would cancel to nothing.
TEST_P(NormTest, LargeMeanRowKeepsItsDigits) {
  for (size_t cols : {17u, 512u, 768u}) {
    CheckForward(GetParam(), MakeRows(3, cols, 1e4f, 1.0f, 77), /*rms=*/false, false);
  }
}

TEST_P(NormTest, ConstantRowGivesTheBias) {
  const NormKernels& v = GetParam();
  Rows r = MakeRows(1, 64, 5.0f, 0.0f, 1);
  std::vector<float> y(r.ld);
  v.layernorm(1, 64, r.x.data(), r.ld, r.w.data(), r.b.data(), kEps, y.data(), r.ld, nullptr,
              nullptr);
  for (size_t c = 0; c < 64; ++c) EXPECT_EQ(y[c], r.b[c]) << v.name << " c = " << c;
}

TEST_P(NormTest, BackwardMatchesDouble) {
  const NormKernels& v = GetParam();
  for (size_t cols : {1u, 17u, 256u}) {
    const size_t rows = 3;
    const Rows r = MakeRows(rows, cols, 0.5f, 2.0f, 3);
    std::mt19937 rng(4);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> dy(rows * r.ld), mean(rows), rstd(rows), y(rows * r.ld);
    for (float& e : dy) e = u(rng);
    for (bool rms : {false, true}) {
      std::vector<float> dx(rows * r.ld), dw(cols, 0.25f), db(cols, -0.5f);
      if (rms) {
        v.rmsnorm(rows, cols, r.x.data(), r.ld, r.w.data(), kEps, y.data(), r.ld, rstd.data());
        v.rmsnorm_backward(rows, cols, dy.data(), r.ld, r.x.data(), r.ld, r.w.data(), rstd.data(),
                           dx.data(), r.ld, dw.data());
      } else {
        v.layernorm(rows, cols, r.x.data(), r.ld, r.w.data(), r.b.data(), kEps, y.data(), r.ld,
                    mean.data(), rstd.data());
        v.layernorm_backward(rows, cols, dy.data(), r.ld, r.x.data(), r.ld, r.w.data(),
                             mean.data(), rstd.data(), dx.data(), r.ld, dw.data(), db.data());
      }
      std::vector<double> dw_exact(cols, 0.25), db_exact(cols, -0.5);
      for (size_t i = 0; i < rows; ++i) {
        double m, s;
        Stats(&r.x[i * r.ld], cols, rms, &m, &s);
        double g_mean = 0, gn_mean = 0, scale = 0;
        for (size_t c = 0; c < cols; ++c) {
          const double n = (r.x[i * r.ld + c] - m) * s, g = r.w[c] * dy[i * r.ld + c];
          g_mean += g / cols;
          gn_mean += g * n / cols;
          scale += std::fabs(g) * (1 + std::fabs(n)) / cols;
        }
        for (size_t c = 0; c < cols; ++c) {
          const double d = dy[i * r.ld + c], n = (r.x[i * r.ld + c] - m) * s;
          const double g = r.w[c] * d;
          const double exact = (g - (rms ? 0.0 : g_mean) - n * gn_mean) * s;
          // Sums of cols terms per row, then a few roundings; relative to the terms' size.
          const double tol = s * (std::fabs(g) + scale * (1 + std::fabs(n))) * (cols / 16.0 + 16) * 0x1p-22;
          ASSERT_LE(std::fabs(dx[i * r.ld + c] - exact), tol)
              << v.name << (rms ? " rmsnorm" : " layernorm") << "_backward dx (" << i << ", " << c
              << ") cols = " << cols;
          dw_exact[c] += d * n;
          db_exact[c] += d;
        }
      }
      for (size_t c = 0; c < cols; ++c) {
        EXPECT_NEAR(dw[c], dw_exact[c], 1e-5 * (1 + std::fabs(dw_exact[c]))) << v.name << " dw";
        if (!rms) {
          EXPECT_NEAR(db[c], db_exact[c], 1e-6 * (1 + std::fabs(db_exact[c]))) << v.name;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, NormTest, ::testing::ValuesIn(NormVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace klab::kernels
