// The linear layer's gradients against central finite differences of an fp64 forward pass.
//
// Loss L(X, W, b) = sum_{r,j} G[r,j] * Y[r,j] with Y = X W^T + b, so dY = G. L is linear in each
// parameter, so a central difference with step h in double is exact up to fp64 rounding
// (~1e-16 relative): the numeric gradient is a true reference, and our float gradients are held
// to Sgemm's K-scaled bound (K = out for dX, K = rows for dW; a row sum of `rows` terms for db).
#include "kernels/gemm/gemm_backward.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/testing/gemm_reference.h"

namespace klab::kernels {
namespace {

struct Layer {
  LinearDims d;
  std::vector<float> x, w, b, g;  // g = dY
};

Layer MakeLayer(int64_t rows, int64_t in, int64_t out, uint64_t seed) {
  Layer l{{rows, in, out}, {}, {}, {}, {}};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto* v : {&l.x, &l.w, &l.b, &l.g}) v->clear();
  l.x.resize(rows * in);
  l.w.resize(out * in);
  l.b.resize(out);
  l.g.resize(rows * out);
  for (auto* v : {&l.x, &l.w, &l.b, &l.g}) {
    for (float& e : *v) e = u(rng);
  }
  return l;
}

// L in double, with one parameter perturbed.
double Loss(const Layer& l, const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& b) {
  double loss = 0;
  for (int64_t r = 0; r < l.d.rows; ++r) {
    for (int64_t j = 0; j < l.d.out; ++j) {
      double y = b[j];
      for (int64_t i = 0; i < l.d.in; ++i) y += x[r * l.d.in + i] * w[j * l.d.in + i];
      loss += l.g[r * l.d.out + j] * y;
    }
  }
  return loss;
}

std::vector<double> ToDouble(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// Numeric gradient of L with respect to every element of `param` (one of x, w, b).
std::vector<double> NumericGradient(const Layer& l, int which) {
  std::vector<double> x = ToDouble(l.x), w = ToDouble(l.w), b = ToDouble(l.b);
  std::vector<double>& p = which == 0 ? x : which == 1 ? w : b;
  std::vector<double> grad(p.size());
  const double h = 1e-3;
  for (size_t e = 0; e < p.size(); ++e) {
    const double keep = p[e];
    p[e] = keep + h;
    const double up = Loss(l, x, w, b);
    p[e] = keep - h;
    const double down = Loss(l, x, w, b);
    p[e] = keep;
    grad[e] = (up - down) / (2 * h);
  }
  return grad;
}

// |got - want| <= K 2^-23 sum|terms| + 4 2^-24 |want|; inputs are in [-1, 1], so sum|terms| <= K.
void ExpectWithinBound(const std::vector<float>& got, const std::vector<double>& want, int64_t k,
                       const char* what) {
  ASSERT_EQ(got.size(), want.size());
  const double allowed_abs = testing::GemmAbsoluteCoefficient(k) * static_cast<double>(k);
  for (size_t e = 0; e < got.size(); ++e) {
    const double allowed = allowed_abs + testing::kGemmRelativeCoefficient * std::fabs(want[e]);
    EXPECT_LE(std::fabs(got[e] - want[e]), allowed) << what << "[" << e << "] = " << got[e]
                                                    << ", finite difference " << want[e];
  }
}

TEST(LinearBackwardTest, MatchesFiniteDifferences) {
  for (auto [rows, in, out] : {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {9, 13, 17},
                               {33, 40, 24}}) {
    const Layer l = MakeLayer(rows, in, out, 11 + rows);
    std::vector<float> dx(rows * in, NAN), dw(out * in, 0.0f), db(out, 0.0f);
    ASSERT_TRUE(LinearBackwardInput(l.d, l.g.data(), l.w.data(), dx.data()).ok());
    ASSERT_TRUE(LinearBackwardWeight(l.d, l.g.data(), l.x.data(), dw.data()).ok());
    ASSERT_TRUE(LinearBackwardBias(l.d, l.g.data(), db.data()).ok());
    ExpectWithinBound(dx, NumericGradient(l, 0), out, "dX");
    ExpectWithinBound(dw, NumericGradient(l, 1), rows, "dW");
    ExpectWithinBound(db, NumericGradient(l, 2), rows, "db");
  }
}

TEST(LinearBackwardTest, WeightAndBiasGradientsAccumulate) {
  const Layer l = MakeLayer(4, 3, 2, 5);
  std::vector<float> dw(6, 0.0f), db(2, 0.0f), dw2(6, 0.0f), db2(2, 0.0f);
  ASSERT_TRUE(LinearBackwardWeight(l.d, l.g.data(), l.x.data(), dw.data()).ok());
  ASSERT_TRUE(LinearBackwardBias(l.d, l.g.data(), db.data()).ok());
  for (int rep = 0; rep < 2; ++rep) {
    ASSERT_TRUE(LinearBackwardWeight(l.d, l.g.data(), l.x.data(), dw2.data()).ok());
    ASSERT_TRUE(LinearBackwardBias(l.d, l.g.data(), db2.data()).ok());
  }
  for (int e = 0; e < 6; ++e) EXPECT_NEAR(dw2[e], 2 * dw[e], 1e-5);
  for (int e = 0; e < 2; ++e) EXPECT_NEAR(db2[e], 2 * db[e], 1e-5);
}

TEST(LinearBackwardTest, BadArgumentsAreErrors) {
  float buf[4] = {};
  EXPECT_FALSE(LinearBackwardInput({-1, 2, 2}, buf, buf, buf).ok());
  EXPECT_FALSE(LinearBackwardWeight({2, 2, 2}, nullptr, buf, buf).ok());
  EXPECT_FALSE(LinearBackwardBias({2, 2, 2}, buf, nullptr).ok());
  EXPECT_TRUE(LinearBackwardBias({0, 0, 0}, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace klab::kernels
