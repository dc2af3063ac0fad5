#include "perf/train_workloads.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "absl/strings/str_format.h"
#include "kernels/activation/activation.h"
#include "kernels/activation/activation_reference.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/gemm/gemm_backward.h"
#include "kernels/testing/gemm_reference.h"

namespace klab::perf {
namespace {

using kernels::Trans;

void Fill(harness::AlignedBuffer& b, std::mt19937_64& rng, float scale) {
  std::normal_distribution<float> n(0.0f, scale);
  for (size_t i = 0; i < b.size(); ++i) b[i] = n(rng);
}

void Copy(const harness::AlignedBuffer& from, harness::AlignedBuffer& to) {
  std::memcpy(to.data(), from.data(), from.size() * sizeof(float));
}

}  // namespace

MlpWorkload::MlpWorkload(uint64_t seed)
    : x_(kBatch * kWidth), target_(kBatch * kWidth), w1_(kWidth * kWidth), b1_(kWidth),
      w2_(kWidth * kWidth), b2_(kWidth), w1_0_(kWidth * kWidth), b1_0_(kWidth),
      w2_0_(kWidth * kWidth), b2_0_(kWidth), h_(kBatch * kWidth), g_(kBatch * kWidth),
      y_(kBatch * kWidth), dy_(kBatch * kWidth), dg_(kBatch * kWidth), dh_(kBatch * kWidth),
      dw1_(kWidth * kWidth), db1_(kWidth), dw2_(kWidth * kWidth), db2_(kWidth) {
  std::mt19937_64 rng(seed);
  Fill(x_, rng, 1.0f);
  Fill(target_, rng, 1.0f);
  // PyTorch's nn.Linear scale: uniform-ish of 1 / sqrt(in); a normal of that deviation here.
  Fill(w1_0_, rng, 1.0f / 16), Fill(b1_0_, rng, 1.0f / 16);
  Fill(w2_0_, rng, 1.0f / 16), Fill(b2_0_, rng, 1.0f / 16);
  Reset();
}

void MlpWorkload::Reset() {
  Copy(w1_0_, w1_), Copy(b1_0_, b1_), Copy(w2_0_, w2_), Copy(b2_0_, b2_);
}

float MlpWorkload::Step() {
  constexpr int B = kBatch, W = kWidth;
  // Forward: h = x W1^T + b1, g = gelu(h), y = g W2^T + b2.
  (void)kernels::Sgemm(Trans::kNo, Trans::kYes, B, W, W, 1.0f, x_.data(), W, w1_.data(), W, 0.0f,
                       h_.data(), W);
  kernels::BroadcastAdd(B, W, h_.data(), W, b1_.data(), h_.data(), W);
  kernels::GeluTanh(B * W, h_.data(), g_.data());
  (void)kernels::Sgemm(Trans::kNo, Trans::kYes, B, W, W, 1.0f, g_.data(), W, w2_.data(), W, 0.0f,
                       y_.data(), W);
  kernels::BroadcastAdd(B, W, y_.data(), W, b2_.data(), y_.data(), W);
  // MSE: loss = mean (y - t)^2, dy = 2 (y - t) / (B W).
  double loss = 0;
  const float scale = 2.0f / (B * W);
  for (int i = 0; i < B * W; ++i) {
    const float d = y_[i] - target_[i];
    loss += static_cast<double>(d) * d;
    dy_[i] = scale * d;
  }
  // Backward, gradients overwritten (zeroed, then the kernels accumulate).
  std::memset(dw1_.data(), 0, dw1_.size() * 4), std::memset(db1_.data(), 0, db1_.size() * 4);
  std::memset(dw2_.data(), 0, dw2_.size() * 4), std::memset(db2_.data(), 0, db2_.size() * 4);
  const kernels::LinearDims dims{B, W, W};
  (void)kernels::LinearBackwardWeight(dims, dy_.data(), g_.data(), dw2_.data());
  (void)kernels::LinearBackwardBias(dims, dy_.data(), db2_.data());
  (void)kernels::LinearBackwardInput(dims, dy_.data(), w2_.data(), dg_.data());
  kernels::GeluTanhBackward(B * W, h_.data(), dg_.data(), dh_.data());
  (void)kernels::LinearBackwardWeight(dims, dh_.data(), x_.data(), dw1_.data());
  (void)kernels::LinearBackwardBias(dims, dh_.data(), db1_.data());
  // SGD: p -= lr g.
  for (auto [p, g] : {std::pair{&w1_, &dw1_}, {&b1_, &db1_}, {&w2_, &dw2_}, {&b2_, &db2_}}) {
    for (size_t i = 0; i < p->size(); ++i) (*p)[i] -= kLr * (*g)[i];
  }
  return static_cast<float>(loss / (B * W));
}

// The first step from the initial weights in double: its loss within 1e-5 relative (a mean of
// 8192 squares of outputs each within ~1e-6 relative of exact), and W2's gradient, the last GEMM
// of the forward pass's chain rule, within 1e-4 of its largest entry.
CheckResult MlpWorkload::Check() {
  constexpr int B = kBatch, W = kWidth;
  Reset();
  const float loss = Step();
  std::vector<double> h(B * W), g(B * W), y(B * W);
  for (int r = 0; r < B; ++r) {
    for (int o = 0; o < W; ++o) {
      double s = b1_0_[o];
      for (int i = 0; i < W; ++i) s += double{x_[r * W + i]} * w1_0_[o * W + i];
      h[r * W + o] = s;
      g[r * W + o] = kernels::reference::GeluTanh(s);
    }
  }
  double ref = 0;
  std::vector<double> dy(B * W);
  for (int r = 0; r < B; ++r) {
    for (int o = 0; o < W; ++o) {
      double s = b2_0_[o];
      for (int i = 0; i < W; ++i) s += g[r * W + i] * w2_0_[o * W + i];
      const double d = s - target_[r * W + o];
      ref += d * d;
      dy[r * W + o] = 2 * d / (B * W);
    }
  }
  ref /= B * W;
  double worst = 0, largest = 0;
  for (int o = 0; o < W; ++o) {
    for (int i = 0; i < W; ++i) {
      double s = 0;
      for (int r = 0; r < B; ++r) s += dy[r * W + o] * g[r * W + i];
      largest = std::max(largest, std::fabs(s));
      worst = std::max(worst, std::fabs(s - dw2_[o * W + i]));
    }
  }
  Reset();
  CheckResult c;
  const double loss_ratio = std::fabs(loss - ref) / (1e-5 * ref);
  const double grad_ratio = worst / (1e-4 * largest);
  c.max_err_ratio = std::max(loss_ratio, grad_ratio);
  c.ok = c.max_err_ratio <= 1.0;
  if (!c.ok) c.detail = absl::StrFormat("loss %g vs %g in double; dW2 off by %g", loss, ref, worst);
  return c;
}

MatmulBackward::MatmulBackward(uint64_t seed)
    : a_(kM * kK), b_(kK * kN), dc_(kM * kN), da_(kM * kK), db_(kK * kN) {
  std::mt19937_64 rng(seed);
  Fill(a_, rng, 1.0f), Fill(b_, rng, 1.0f), Fill(dc_, rng, 1.0f);
}

void MatmulBackward::Run(void (*gemm)(const kernels::SgemmArgs&, void*), void* context) {
  // dA (M x K) = dC (M x N) B^T (N x K); dB (K x N) = A^T (K x M) dC (M x N).
  gemm({Trans::kNo, Trans::kYes, kM, kK, kN, 1.0f, dc_.data(), kN, b_.data(), kN, 0.0f,
        da_.data(), kK}, context);
  gemm({Trans::kYes, Trans::kNo, kK, kN, kM, 1.0f, a_.data(), kK, dc_.data(), kN, 0.0f,
        db_.data(), kN}, context);
}

void MatmulBackward::PoisonOutputs() {
  std::fill(da_.data(), da_.data() + da_.size(), std::numeric_limits<float>::quiet_NaN());
  std::fill(db_.data(), db_.data() + db_.size(), std::numeric_limits<float>::quiet_NaN());
}

CheckResult MatmulBackward::Check() const {
  const kernels::SgemmArgs da{Trans::kNo, Trans::kYes, kM, kK, kN, 1.0f, dc_.data(), kN,
                              b_.data(), kN, 0.0f, nullptr, kK};
  const kernels::SgemmArgs db{Trans::kYes, Trans::kNo, kK, kN, kM, 1.0f, a_.data(), kK,
                              dc_.data(), kN, 0.0f, nullptr, kN};
  const kernels::testing::GemmCheck a = kernels::testing::GemmReference(da).Check(da_.data(), kK);
  const kernels::testing::GemmCheck b = kernels::testing::GemmReference(db).Check(db_.data(), kN);
  CheckResult c;
  c.ok = a.ok && b.ok;
  c.max_err_ratio = std::max(a.max_err_ratio, b.max_err_ratio);
  if (!c.ok) c.detail = "dA: " + a.Describe() + "; dB: " + b.Describe();
  return c;
}

}  // namespace klab::perf
