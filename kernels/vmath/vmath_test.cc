// Every vmath variant the CPU runs against double-precision libm: the bounds of vmath.h over a
// strided sweep (the full sweep is //kernels/testing:ulp_sweep), special values, lengths
// around the vector width with unaligned pointers and guards, and in-place calls.
#include "kernels/vmath/vmath.h"

#include <cfloat>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/testing/ulp.h"
#include "kernels/testing/ulp_scan.h"

namespace klab::kernels {

void PrintTo(const VmathKernels& v, std::ostream* os) { *os << v.name; }

namespace {

using testing::UlpError;
using testing::UlpScan;

double ExactExp(double x) { return std::exp(x); }
double ExactTanh(double x) { return std::tanh(x); }
double ExactErf(double x) { return std::erf(x); }

struct Function {
  const char* name;
  UnaryArrayFn VmathKernels::*fn;
  double (*exact)(double);
  double max_ulp;  // the bound of vmath.h (the scalar variant is libm's float function)
  testing::UlpScanRange range;
};

const Function kFunctions[] = {
    {"exp", &VmathKernels::exp, ExactExp, kExpMaxUlp, {FLT_MAX, FLT_MAX}},
    {"tanh", &VmathKernels::tanh, ExactTanh, kTanhMaxUlp, {10.0f, 10.0f}},
    {"erf", &VmathKernels::erf, ExactErf, kErfMaxUlp, {10.0f, 10.0f}},
};

class VmathTest : public ::testing::TestWithParam<VmathKernels> {
 protected:
  void SetUp() override {
    if (!CpuSupports(GetParam().isa)) GTEST_SKIP() << "needs " << IsaName(GetParam().isa);
  }
};

// A prime stride over the bit patterns: ~2 million inputs per function, all exponents.
TEST_P(VmathTest, WithinStatedUlpOnStridedSweep) {
  const VmathKernels& v = GetParam();
  for (const Function& f : kFunctions) {
    const auto r = UlpScan(v.*(f.fn), f.exact, f.range, /*stride=*/1999, /*threads=*/2);
    std::printf("%s %s: max %.3f ulp at x = %.9g over %llu inputs\n", std::string(v.name).c_str(),
                f.name, r.max_ulp, r.worst_x, static_cast<unsigned long long>(r.points));
    // glibc's float functions (the scalar variant) are within 2.5 ulp by their manual.
    const double bound = v.isa == Isa::kScalar ? 2.5 : f.max_ulp;
    EXPECT_LE(r.max_ulp, bound) << v.name << " " << f.name << " at x = " << r.worst_x << ": got "
                                << r.worst_y << ", exact " << r.worst_exact;
  }
}

TEST_P(VmathTest, SpecialValues) {
  const VmathKernels& v = GetParam();
  const float inf = INFINITY;
  const std::vector<float> x = {NAN,    inf,    -inf,   0.0f,      -0.0f,     88.7f,  88.8f,
                                -87.3f, -103.9f, -104.0f, 1e-30f, -1e-30f, 1e30f, -1e30f};
  std::vector<float> y(x.size());
  v.exp(x.size(), x.data(), y.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], inf);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_EQ(y[4], 1.0f);
  EXPECT_EQ(y[6], inf);  // exp(88.8) overflows
  for (size_t i = 5; i < x.size(); ++i) {
    EXPECT_LE(UlpError(y[i], std::exp(double{x[i]})), kExpMaxUlp) << v.name << " exp(" << x[i] << ")";
  }
  for (const Function& f : {kFunctions[1], kFunctions[2]}) {
    (v.*(f.fn))(x.size(), x.data(), y.data());
    EXPECT_TRUE(std::isnan(y[0])) << v.name << " " << f.name;
    EXPECT_EQ(y[1], 1.0f) << v.name << " " << f.name;
    EXPECT_EQ(y[2], -1.0f) << v.name << " " << f.name;
    EXPECT_FALSE(std::signbit(y[3])) << v.name << " " << f.name << "(+0)";
    EXPECT_TRUE(std::signbit(y[4])) << v.name << " " << f.name << "(-0)";
    for (size_t i = 5; i < x.size(); ++i) {
      EXPECT_LE(UlpError(y[i], f.exact(x[i])), v.isa == Isa::kScalar ? 2.5 : f.max_ulp)
          << v.name << " " << f.name << "(" << x[i] << ")";
    }
  }
}

TEST_P(VmathTest, LengthsAlignmentGuardsAndInPlace) {
  const VmathKernels& v = GetParam();
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 1023u}) {
    std::vector<float> xbuf(n + 8), ybuf(n + 8);
    float* x = xbuf.data() + 1;  // 4 bytes off any vector alignment
    float* y = ybuf.data() + 1;
    for (size_t i = 0; i < n; ++i) x[i] = -5.0f + 10.0f * static_cast<float>(i) / (n + 1);
    for (const Function& f : kFunctions) {
      std::fill(ybuf.begin(), ybuf.end(), NAN);
      (v.*(f.fn))(n, x, y);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_LE(UlpError(y[i], f.exact(x[i])), v.isa == Isa::kScalar ? 2.5 : f.max_ulp)
            << v.name << " " << f.name << " n = " << n << " i = " << i;
      }
      for (size_t i = n; i < n + 7; ++i) ASSERT_TRUE(std::isnan(y[i])) << "wrote past n = " << n;
      std::vector<float> inplace(x, x + n);
      (v.*(f.fn))(n, inplace.data(), inplace.data());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(inplace[i], y[i]) << v.name << " in place";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, VmathTest, ::testing::ValuesIn(VmathVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace klab::kernels
