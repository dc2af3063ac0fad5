#include "perf/activation_cases.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "kernels/activation/activation.h"
#include "kernels/activation/activation_reference.h"
#include "kernels/cpu/cpu.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/norm/norm.h"
#include "kernels/softmax/softmax.h"
#include "kernels/testing/ulp.h"
#include "perf/libmvec_peer.h"

namespace klab::perf {
namespace {

using harness::Json;
using Buffer = harness::AlignedBuffer;
using Cases = std::vector<ActivationCase>;

// How an op's cases are sized: each --sizes length, each --softmax_cols length (32 rows), or
// the norm shapes (the profiling report's 32 x 512 and the GPT-2 models' d at their contexts).
enum class Sizing { kArray, kSoftmaxRows, kNormRows };
constexpr std::pair<size_t, size_t> kNormShapes[] = {{32, 512}, {64, 128}, {128, 256}};

struct Op;
using BuildFn = void (*)(const Op& op, size_t rows, size_t cols, std::mt19937& rng, Cases& out);

// One op of the sweep. Consecutive ops of one group are built shape by shape (all ops of the
// group at a shape, then the next shape), so related ops sit together in the tables.
struct Op {
  const char* name;
  Sizing sizing;
  int group;
  BuildFn build;
  // Unary activations: the family's member, the fp64 reference, the libmvec peer (or null).
  kernels::ActivationFn kernels::ActivationKernels::*activation = nullptr;
  double (*exact)(double) = nullptr;
  void (*mvec)(size_t, const float*, float*) = nullptr;
};

std::shared_ptr<Buffer> Random(size_t n, float lo, float hi, std::mt19937& rng) {
  auto b = std::make_shared<Buffer>(std::max<size_t>(n, 1));
  std::uniform_real_distribution<float> u(lo, hi);
  for (size_t i = 0; i < n; ++i) (*b)[i] = u(rng);
  return b;
}

// A case with its output buffer of n floats.
ActivationCase NewCase(const Op& op, std::string label, Json shape, double elements, double bytes,
                       size_t n) {
  ActivationCase c;
  c.op = op.name;
  c.label = std::move(label);
  c.shape = std::move(shape);
  c.elements = elements;
  c.bytes = bytes;
  auto y = std::make_shared<Buffer>(n);
  c.keep = {y};
  c.y = y->data();
  c.y_size = n;
  return c;
}

// Every variant of a family this CPU runs, as implementations: the scalar one is the `std` row.
template <class Family, class MakeCall>
void AddVariants(absl::Span<const Family> variants, MakeCall make_call, ActivationCase& c) {
  for (const Family& v : variants) {
    if (!kernels::CpuSupports(v.isa)) continue;
    c.impls.push_back({std::string(v.name), v.isa == kernels::Isa::kScalar ? "std" : "kernel-lab",
                       std::string(kernels::IsaName(v.isa)), make_call(v)});
  }
}

void AddMvec(std::function<void()> call, ActivationCase& c) {
  if (libmvec::Available()) c.impls.push_back({"libmvec_avx512", "libmvec", "avx512", call});
}

void BuildUnary(const Op& op, size_t, size_t n, std::mt19937& rng, Cases& out) {
  ActivationCase c = NewCase(op, absl::StrCat("n=", n), {{"n", n}}, double(n), 8.0 * n, n);
  auto x = Random(n, -6.0f, 6.0f, rng);
  c.keep.push_back(x);
  const float* xp = x->data();
  float* yp = c.y;
  const auto exact = op.exact;
  c.check = [=](const float* y) {
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
      worst = std::max(worst, kernels::testing::ErrRatio(y[i], exact(xp[i]), kernels::kActivationMaxUlp,
                                                         kernels::kActivationAbsFloor));
    }
    return worst;
  };
  const auto member = op.activation;
  AddVariants(kernels::ActivationVariants(), [=](const kernels::ActivationKernels& v) {
    auto fn = v.*member;
    return [=] { fn(n, xp, yp); };
  }, c);
  if (op.mvec != nullptr) AddMvec([=, mvec = op.mvec] { mvec(n, xp, yp); }, c);
  out.push_back(std::move(c));
}

void BuildSwiglu(const Op& op, size_t, size_t n, std::mt19937& rng, Cases& out) {
  ActivationCase c = NewCase(op, absl::StrCat("n=", n), {{"n", n}}, double(n), 12.0 * n, n);
  c.inputs = 2;
  auto a = Random(n, -6, 6, rng), b = Random(n, -2, 2, rng);
  c.keep.insert(c.keep.end(), {a, b});
  const float *ap = a->data(), *bp = b->data();
  float* yp = c.y;
  c.check = [=](const float* y) {
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
      worst = std::max(worst, kernels::testing::ErrRatio(
                                  y[i], kernels::reference::Silu(ap[i]) * bp[i],
                                  kernels::kActivationMaxUlp + 0.5,
                                  kernels::kActivationAbsFloor * std::fabs(bp[i])));
    }
    return worst;
  };
  AddVariants(kernels::ActivationVariants(), [=](const kernels::ActivationKernels& v) {
    return [=, fn = v.swiglu] { fn(n, ap, bp, yp); };
  }, c);
  AddMvec([=] { libmvec::Swiglu(n, ap, bp, yp); }, c);
  out.push_back(std::move(c));
}

void BuildSoftmax(const Op& op, size_t rows, size_t cols, std::mt19937& rng, Cases& out) {
  const size_t n = rows * cols;
  ActivationCase c = NewCase(op, absl::StrFormat("%dx%d", rows, cols),
                             {{"rows", rows}, {"cols", cols}}, double(n), 8.0 * n, n);
  auto x = Random(n, -8, 8, rng);
  c.keep.push_back(x);
  const float* xp = x->data();
  float* yp = c.y;
  const bool online = std::string(op.name) == "softmax_online";
  c.check = [=](const float* y) {  // the bound of softmax.h
    double worst = 0;
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = xp + r * cols;
      double m = -INFINITY, sum = 0, spread = 0;
      for (size_t i = 0; i < cols; ++i) m = std::max(m, double{xr[i]});
      for (size_t i = 0; i < cols; ++i) sum += std::exp(xr[i] - m);
      for (size_t i = 0; i < cols; ++i) spread = std::max(spread, m - xr[i]);
      for (size_t i = 0; i < cols; ++i) {
        const double exact = std::exp(xr[i] - m) / sum;
        const double tol = kernels::SoftmaxErrorBound(exact, m - xr[i], spread, cols, online);
        worst = std::max(worst, std::fabs(y[r * cols + i] - exact) / tol);
      }
    }
    return worst;
  };
  AddVariants(kernels::SoftmaxVariants(), [=](const kernels::SoftmaxKernels& v) {
    return [=, fn = online ? v.softmax_online : v.softmax] { fn(rows, cols, xp, cols, yp, cols); };
  }, c);
  if (!online) AddMvec([=] { libmvec::Softmax(rows, cols, xp, yp); }, c);
  out.push_back(std::move(c));
}

void BuildNorm(const Op& op, size_t rows, size_t cols, std::mt19937& rng, Cases& out) {
  const size_t n = rows * cols;
  ActivationCase c = NewCase(op, absl::StrFormat("%dx%d", rows, cols),
                             {{"rows", rows}, {"cols", cols}}, double(n), 8.0 * n, n);
  auto x = Random(n, -3, 5, rng), w = Random(cols, 0.5, 1.5, rng), b = Random(cols, -1, 1, rng);
  c.keep.insert(c.keep.end(), {x, w, b});
  const float *xp = x->data(), *wp = w->data(), *bp = b->data();
  float* yp = c.y;
  const bool rms = std::string(op.name) == "rmsnorm";
  c.check = [=](const float* y) {  // the bound of norm.h
    double worst = 0;
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = xp + r * cols;
      double m = 0, var = 0;
      for (size_t i = 0; i < cols; ++i) m += xr[i];
      m = rms ? 0.0 : m / cols;
      for (size_t i = 0; i < cols; ++i) var += (xr[i] - m) * (xr[i] - m);
      const double s = 1.0 / std::sqrt(var / cols + 1e-5);
      for (size_t i = 0; i < cols; ++i) {
        const double xhat = (xr[i] - m) * s, bias = rms ? 0.0 : bp[i];
        const double tol = kernels::NormErrorBound(wp[i], xhat, bias, cols);
        worst = std::max(worst, std::fabs(y[r * cols + i] - (xhat * wp[i] + bias)) / tol);
      }
    }
    return worst;
  };
  AddVariants(kernels::NormVariants(), [=](const kernels::NormKernels& v) -> std::function<void()> {
    if (rms) return [=, fn = v.rmsnorm] { fn(rows, cols, xp, cols, wp, 1e-5f, yp, cols, nullptr); };
    return [=, fn = v.layernorm] { fn(rows, cols, xp, cols, wp, bp, 1e-5f, yp, cols, nullptr, nullptr); };
  }, c);
  out.push_back(std::move(c));
}

// add: y = a + b over n; broadcast_add: n / 512 rows of 512 plus a bias row. Exact results (one
// rounding each), so the check is equality.
void BuildAdd(const Op& op, size_t, size_t n, std::mt19937& rng, Cases& out) {
  const bool bcast = std::string(op.name) == "broadcast_add";
  const size_t cols = bcast ? std::min<size_t>(512, n) : n, rows = bcast ? n / cols : 1;
  const size_t total = rows * cols;
  ActivationCase c = NewCase(op, bcast ? absl::StrFormat("%dx%d", rows, cols) : absl::StrCat("n=", n),
                             bcast ? Json{{"rows", rows}, {"cols", cols}} : Json{{"n", n}},
                             double(total), bcast ? 8.0 * total + 4.0 * cols : 12.0 * total, total);
  // Over many rows the bias row is re-read from L1 and the traffic is a copy's (x in, y out);
  // a single row is an add of two equal arrays, both loads per vector real: a triad's mix.
  c.inputs = bcast && rows > 1 ? 1 : 2;
  auto a = Random(total, -10, 10, rng), b = Random(bcast ? cols : total, -10, 10, rng);
  c.keep.insert(c.keep.end(), {a, b});
  const float *ap = a->data(), *bp = b->data();
  float* yp = c.y;
  c.check = [=](const float* y) {
    for (size_t i = 0; i < total; ++i) {
      if (y[i] != ap[i] + bp[bcast ? i % cols : i]) return static_cast<double>(INFINITY);
    }
    return 0.0;
  };
  AddVariants(kernels::ElementwiseVariants(), [=](const kernels::ElementwiseKernels& v) -> std::function<void()> {
    if (bcast) return [=, fn = v.broadcast_add] { fn(rows, cols, ap, cols, bp, yp, cols); };
    return [=, fn = v.add] { fn(n, ap, bp, yp); };
  }, c);
  out.push_back(std::move(c));
}

// The ops of the sweep, in table order: the one place an op is added here.
// The unary activations come from kernels/activation/activation_ops.inc.
const Op kOps[] = {
#define KLAB_ACTIVATION_OP(field, Name)                                                     \
    {.name = #field, .sizing = Sizing::kArray, .group = 0, .build = BuildUnary,            \
     .activation = &kernels::ActivationKernels::field, .exact = kernels::reference::Name,  \
     .mvec = libmvec::Unary(#field)},
#include "kernels/activation/activation_ops.inc"
#undef KLAB_ACTIVATION_OP
    {.name = "swiglu", .sizing = Sizing::kArray, .group = 1, .build = BuildSwiglu},
    {.name = "softmax", .sizing = Sizing::kSoftmaxRows, .group = 2, .build = BuildSoftmax},
    {.name = "softmax_online", .sizing = Sizing::kSoftmaxRows, .group = 2, .build = BuildSoftmax},
    {.name = "layernorm", .sizing = Sizing::kNormRows, .group = 3, .build = BuildNorm},
    {.name = "rmsnorm", .sizing = Sizing::kNormRows, .group = 3, .build = BuildNorm},
    {.name = "add", .sizing = Sizing::kArray, .group = 4, .build = BuildAdd},
    {.name = "broadcast_add", .sizing = Sizing::kArray, .group = 4, .build = BuildAdd},
};

std::vector<std::pair<size_t, size_t>> ShapesOf(Sizing sizing, const ActivationSizes& s) {
  std::vector<std::pair<size_t, size_t>> out;
  if (sizing == Sizing::kNormRows) return {std::begin(kNormShapes), std::end(kNormShapes)};
  const bool rows = sizing == Sizing::kSoftmaxRows;
  for (int64_t v : rows ? s.softmax_cols : s.sizes) out.push_back({rows ? 32 : 1, size_t(v)});
  return out;
}

}  // namespace

std::vector<ActivationCase> BuildActivationCases(const ActivationSizes& sizes,
                                                 const NameFilter& ops, uint32_t seed) {
  std::mt19937 rng(seed);
  Cases out;
  const size_t count = std::size(kOps);
  for (size_t first = 0, end; first < count; first = end) {
    for (end = first; end < count && kOps[end].group == kOps[first].group;) ++end;
    for (const auto& [rows, cols] : ShapesOf(kOps[first].sizing, sizes)) {
      for (size_t i = first; i < end; ++i) {
        if (ops.Matches(kOps[i].name)) kOps[i].build(kOps[i], rows, cols, rng, out);
      }
    }
  }
  return out;
}

}  // namespace klab::perf
