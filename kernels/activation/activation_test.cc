// Every activation variant the CPU runs, against double-precision formulas: forward over a
// strided sweep of all floats in [-12, 12] with the bound of activation.h; backward on random
// inputs; lengths around the vector width with unaligned pointers and guard NaNs; special values.
#include "kernels/activation/activation.h"

#include <bit>
#include <cstdio>
#include <ostream>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/activation/activation_reference.h"
#include "kernels/testing/ulp.h"
#include "kernels/testing/ulp_scan.h"

namespace klab::kernels {

// Test names and failure messages show the variant's name, not its bytes.
void PrintTo(const ActivationKernels& v, std::ostream* os) { *os << v.name; }

namespace {

using testing::ErrRatio;

using reference::GeluErfGrad;
using reference::GeluTanhGrad;
using reference::SiluGrad;

struct Forward {
  const char* name;
  ActivationFn ActivationKernels::*fn;
  double (*exact)(double);
  double max_ulp;  // the bound of activation.h
};
const Forward kForward[] = {  // every line of activation_ops.inc
#define KLAB_ACTIVATION_OP(field, Name)                                                  \
  {#field, &ActivationKernels::field, [](double x) { return reference::Name(x); },      \
   kActivationMaxUlp},
#include "kernels/activation/activation_ops.inc"
#undef KLAB_ACTIVATION_OP
};

struct Backward {
  const char* name;
  ActivationBackwardFn ActivationKernels::*fn;
  double (*grad)(double);
};
const Backward kBackward[] = {
    {"gelu_tanh", &ActivationKernels::gelu_tanh_backward, GeluTanhGrad},
    {"gelu_erf", &ActivationKernels::gelu_erf_backward, GeluErfGrad},
    {"silu", &ActivationKernels::silu_backward, SiluGrad},
};

// Backward bound: the derivative's own condition. Rounding x (and the float evaluation) moves
// f'(x) by about |x f''(x)| 2^-24; the float pipeline (exp, reciprocal, a few products) adds a
// few ulp of |f'(x)|. 2^-19 = 32 x 2^-24 covers both with room, well below what a wrong formula
// produces (its errors are O(1) relative).
constexpr double kGradRelative = 0x1p-19;

double GradTolerance(double (*grad)(double), double x, double dy) {
  const double h = 1e-4 * std::max(1.0, std::fabs(x));
  const double second = (grad(x + h) - grad(x - h)) / (2 * h);
  return kGradRelative * std::fabs(dy) * (std::fabs(grad(x)) + std::fabs(x * second)) +
         kActivationAbsFloor;
}

std::string Where(const ActivationKernels& v, const char* fn, float x) {
  return std::string(v.name) + " " + fn + " at x = " + std::to_string(x) + " (bits 0x" +
         [&] {
           char buf[16];
           std::snprintf(buf, sizeof(buf), "%08x", std::bit_cast<uint32_t>(x));
           return std::string(buf);
         }() +
         ")";
}

class ActivationTest : public ::testing::TestWithParam<ActivationKernels> {
 protected:
  void SetUp() override {
    if (!CpuSupports(GetParam().isa)) {
      GTEST_SKIP() << "needs " << IsaName(GetParam().isa);
    }
  }
};

// Every 1009th float bit pattern in [-12, 12] (~2.2 million inputs per function); the full sweep
// is //kernels/activation:activation_error_sweep.
TEST_P(ActivationTest, ForwardWithinBoundOnStridedSweep) {
  const ActivationKernels& v = GetParam();
  for (const Forward& f : kForward) {
    const auto r = testing::UlpScan(v.*(f.fn), f.exact, {12.0f, 12.0f}, /*stride=*/1009,
                                    /*threads=*/2, kActivationAbsFloor);
    std::printf("%s %s: max %.3f ulp beyond the floor at x = %.9g over %llu inputs\n",
                std::string(v.name).c_str(), f.name, r.max_ulp, r.worst_x,
                static_cast<unsigned long long>(r.points));
    EXPECT_LE(r.max_ulp, f.max_ulp) << Where(v, f.name, r.worst_x) << ": got " << r.worst_y
                                    << ", exact " << r.worst_exact;
  }
}

TEST_P(ActivationTest, SpecialValues) {
  const ActivationKernels& v = GetParam();
  const float inf = INFINITY;
  const std::vector<float> x = {NAN, inf, -inf, 0.0f, -0.0f, 1e30f, -1e30f, 88.0f, -88.0f, -200.0f};
  std::vector<float> y(x.size());
  for (const Forward& f : kForward) {
    (v.*(f.fn))(x.size(), x.data(), y.data());
    EXPECT_TRUE(std::isnan(y[0])) << Where(v, f.name, x[0]);
    EXPECT_EQ(y[1], inf) << Where(v, f.name, x[1]);
    EXPECT_EQ(y[2], 0.0f) << Where(v, f.name, x[2]) << ": got " << y[2];
    for (size_t i = 3; i < x.size(); ++i) {
      EXPECT_LE(ErrRatio(y[i], f.exact(x[i]), f.max_ulp, kActivationAbsFloor), 1.0)
          << Where(v, f.name, x[i]) << ": got " << y[i];
    }
  }
  for (const Backward& b : kBackward) {
    const std::vector<float> dy(x.size(), 1.0f);
    (v.*(b.fn))(x.size(), x.data(), dy.data(), y.data());
    EXPECT_TRUE(std::isnan(y[0])) << Where(v, b.name, x[0]);
    EXPECT_EQ(y[1], 1.0f) << Where(v, b.name, x[1]);
    EXPECT_EQ(y[2], 0.0f) << Where(v, b.name, x[2]);
  }
}

// The main loop runs several vectors interleaved op by op (vmath::MapInterleaved), the remainder
// one vector at a time: the same operations per lane, so the same bits whichever path an element
// takes. 64 elements through the main loop against the same values fed 16 (one vector) and 5
// (a masked tail) at a time.
TEST_P(ActivationTest, InterleavedAndSingleVectorPathsAgreeBitwise) {
  const ActivationKernels& v = GetParam();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> ux(-12.0f, 12.0f);
  std::vector<float> x(64);
  for (float& e : x) e = ux(rng);
  x[3] = -9.5f;  // below gelu_tanh's zero threshold
  x[40] = -0.0f;
  for (const Forward& f : kForward) {
    std::vector<float> whole(64), by16(64), by5(64);
    (v.*(f.fn))(64, x.data(), whole.data());
    for (size_t i = 0; i < 64; i += 16) (v.*(f.fn))(16, x.data() + i, by16.data() + i);
    for (size_t i = 0; i < 64; i += 5) {
      (v.*(f.fn))(i + 5 <= 64 ? 5 : 64 - i, x.data() + i, by5.data() + i);
    }
    for (size_t i = 0; i < 64; ++i) {
      EXPECT_EQ(std::bit_cast<uint32_t>(whole[i]), std::bit_cast<uint32_t>(by16[i]))
          << Where(v, f.name, x[i]);
      EXPECT_EQ(std::bit_cast<uint32_t>(whole[i]), std::bit_cast<uint32_t>(by5[i]))
          << Where(v, f.name, x[i]);
    }
  }
}

TEST_P(ActivationTest, BackwardMatchesDoubleDerivative) {
  const ActivationKernels& v = GetParam();
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> ux(-9.0f, 9.0f), udy(-2.0f, 2.0f);
  const size_t n = 100003;
  std::vector<float> x(n), dy(n), dx(n);
  for (size_t i = 0; i < n; ++i) x[i] = ux(rng), dy[i] = udy(rng);
  for (const Backward& b : kBackward) {
    (v.*(b.fn))(n, x.data(), dy.data(), dx.data());
    for (size_t i = 0; i < n; ++i) {
      const double exact = dy[i] * b.grad(x[i]);
      ASSERT_LE(std::fabs(dx[i] - exact), GradTolerance(b.grad, x[i], dy[i]))
          << Where(v, b.name, x[i]) << " dy = " << dy[i] << ": got " << dx[i] << ", exact "
          << exact;
    }
  }
}

TEST_P(ActivationTest, SwigluForwardAndBackward) {
  const ActivationKernels& v = GetParam();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-9.0f, 9.0f);
  const size_t n = 10007;
  std::vector<float> a(n), b(n), dy(n), y(n), da(n), db(n);
  for (size_t i = 0; i < n; ++i) a[i] = u(rng), b[i] = u(rng), dy[i] = u(rng) / 4;
  v.swiglu(n, a.data(), b.data(), y.data());
  v.swiglu_backward(n, a.data(), b.data(), dy.data(), da.data(), db.data());
  for (size_t i = 0; i < n; ++i) {
    // silu(a) b: silu's bound plus the product's half ulp.
    const double exact = reference::Silu(a[i]) * b[i];
    ASSERT_LE(ErrRatio(y[i], exact, kActivationMaxUlp + 0.5, kActivationAbsFloor * std::fabs(b[i])),
              1.0)
        << Where(v, "swiglu", a[i]) << " b = " << b[i] << ": got " << y[i];
    const double exact_db = dy[i] * reference::Silu(a[i]);
    ASSERT_LE(ErrRatio(db[i], exact_db, kActivationMaxUlp + 0.5, kActivationAbsFloor), 1.0)
        << Where(v, "swiglu_backward db", a[i]);
    const double exact_da = dy[i] * b[i] * SiluGrad(a[i]);
    ASSERT_LE(std::fabs(da[i] - exact_da), GradTolerance(SiluGrad, a[i], dy[i] * b[i]))
        << Where(v, "swiglu_backward da", a[i]) << ": got " << da[i] << ", exact " << exact_da;
  }
}

TEST_P(ActivationTest, BiasGeluRowsWithStrides) {
  const ActivationKernels& v = GetParam();
  const size_t rows = 5, cols = 37, ldx = 41, ldy = 39;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  std::vector<float> x(rows * ldx), bias(cols), y(rows * ldy, NAN);
  for (float& e : x) e = u(rng);
  for (float& e : bias) e = u(rng);
  v.bias_gelu_tanh(rows, cols, x.data(), ldx, bias.data(), y.data(), ldy);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < ldy; ++c) {
      if (c >= cols) {
        EXPECT_TRUE(std::isnan(y[r * ldy + c])) << "padding written at (" << r << ", " << c << ")";
        continue;
      }
      const float in = x[r * ldx + c] + bias[c];  // the float sum the kernel forms
      EXPECT_LE(ErrRatio(y[r * ldy + c], reference::GeluTanh(in), kActivationMaxUlp, kActivationAbsFloor),
                1.0)
          << v.name << " bias_gelu_tanh at (" << r << ", " << c << ")";
    }
  }
}

// n in {0, 1, 15, 16, 17, 1023}, the arrays one float off 64-byte alignment, guard NaNs after
// the end that must survive, and the in-place form giving the same bits.
TEST_P(ActivationTest, LengthsAlignmentAndInPlace) {
  const ActivationKernels& v = GetParam();
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 1023u}) {
    std::vector<float> xbuf(n + 8), ybuf(n + 8, NAN);
    float* x = xbuf.data() + 1;
    float* y = ybuf.data() + 1;
    for (size_t i = 0; i < n; ++i) x[i] = -6.0f + 12.0f * static_cast<float>(i) / (n + 1);
    for (const Forward& f : kForward) {
      std::fill(ybuf.begin(), ybuf.end(), NAN);
      (v.*(f.fn))(n, x, y);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_LE(ErrRatio(y[i], f.exact(x[i]), f.max_ulp, kActivationAbsFloor), 1.0)
            << Where(v, f.name, x[i]) << " n = " << n << " i = " << i;
      }
      for (size_t i = n; i < n + 7; ++i) ASSERT_TRUE(std::isnan(y[i])) << "wrote past n = " << n;
      std::vector<float> inplace(x, x + n);
      (v.*(f.fn))(n, inplace.data(), inplace.data());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(inplace[i]), std::bit_cast<uint32_t>(y[i]))
            << Where(v, f.name, x[i]) << " in place";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, ActivationTest, ::testing::ValuesIn(ActivationVariants()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ActivationDispatch, PicksTheBestIsaTheCpuHas) {
  EXPECT_TRUE(CpuSupports(BestActivation().isa));
  for (const ActivationKernels& v : ActivationVariants()) {
    if (CpuSupports(v.isa)) {
      EXPECT_GE(static_cast<int>(BestActivation().isa), static_cast<int>(v.isa));
    }
  }
}

}  // namespace
}  // namespace klab::kernels
