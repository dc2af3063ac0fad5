// //perf:activation_sweep — every elementwise/normalisation op of kernels/ (GELU tanh and erf,
// SiLU, SwiGLU, softmax, LayerNorm, RMSNorm, add, broadcast add) and every variant of it, beside
// libmvec and plain scalar C++ (`std`), checked against double before timing, then timed with
// the implementations of a case sampled in rounds; ns/element, GB/s and % of the triad
// bandwidth measured on the same working set in the same run. Published to results/.
//
//   bazel run //perf:activation_sweep -- --sizes=1000,1000000 --ops='gelu.*|softmax'
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/aligned_buffer.h"
#include "harness/env.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/activation/activation.h"
#include "kernels/activation/activation_reference.h"
#include "kernels/cpu/cpu.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/norm/norm.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/softmax/softmax.h"
#include "kernels/testing/ulp.h"
#include "common/cli.h"
#include "perf/libmvec_peer.h"
#include "perf/suite.h"

ABSL_FLAG(std::vector<std::string>, sizes,
          std::vector<std::string>({"1000", "10000", "100000", "1000000"}),
          "Array lengths n for the elementwise ops (gelu_tanh, gelu_erf, silu, swiglu, add, "
          "broadcast_add as n/512 rows of 512).");
ABSL_FLAG(std::vector<std::string>, softmax_cols,
          std::vector<std::string>({"256", "512", "1024", "2048"}),
          "Softmax row lengths (32 rows each).");
ABSL_FLAG(std::string, ops, ".*",
          "Regular expression (whole name) selecting ops: gelu_tanh, gelu_erf, silu, swiglu, "
          "softmax, softmax_online, layernorm, rmsnorm, add, broadcast_add.");
ABSL_FLAG(uint32_t, seed, 1, "Seed of the random inputs.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "activation_sweep";
constexpr char kUsage[] =
    "Times the elementwise and normalisation kernels against libmvec and scalar C++.\n"
    "  bazel run //perf:activation_sweep -- [--sizes=1000,1000000] [--ops=REGEX] [--quick]\n"
    "Rows: ns/element, GB/s, % of the ceiling of the same stream mix (triad or copy) on the same\n"
    "working set, the check against double (max error / allowed error) and allocations per call.\n"
    "--quick: sizes 1000,10000 and softmax rows of 256.\n";

// Short kernels: samples batch calls to >= 2 ms; 15 of them and >= 50 ms per implementation.
constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 15, .min_sample_s = 0.002, .min_time_s = 0.05, .warmup_s = 0.02},
    .quick = {.min_reps = 3, .min_sample_s = 0.002, .min_time_s = 0, .warmup_s = 0.001}};

using harness::Json;
using Buffer = harness::AlignedBuffer;

struct Impl {
  std::string variant, impl, isa;
  std::function<void()> call;
};

// One case: inputs, one output, the implementations writing it, and a checker that returns the
// largest error of the output as a fraction of the op's documented bound.
struct Case {
  std::string op, label;
  Json shape;
  double elements = 0, bytes = 0;
  int inputs = 1;  // array streams read (the output is the one written): 1 or 2
  std::vector<std::shared_ptr<Buffer>> keep;  // inputs and output live as long as the case
  float* y = nullptr;
  size_t y_size = 0;
  std::function<double(const float*)> check;
  std::vector<Impl> impls;
};

Case NewCase(std::string op, std::string label, Json shape, double elements, double bytes) {
  Case c;
  c.op = std::move(op);
  c.label = std::move(label);
  c.shape = std::move(shape);
  c.elements = elements;
  c.bytes = bytes;
  return c;
}

std::shared_ptr<Buffer> Random(size_t n, float lo, float hi, std::mt19937& rng) {
  auto b = std::make_shared<Buffer>(std::max<size_t>(n, 1));
  std::uniform_real_distribution<float> u(lo, hi);
  for (size_t i = 0; i < n; ++i) (*b)[i] = u(rng);
  return b;
}

template <class Family>
std::vector<const Family*> Supported(absl::Span<const Family> variants) {
  std::vector<const Family*> out;
  for (const Family& v : variants) {
    if (kernels::CpuSupports(v.isa)) out.push_back(&v);
  }
  return out;
}

std::string ImplOf(kernels::Isa isa) { return isa == kernels::Isa::kScalar ? "std" : "kernel-lab"; }

void AddUnary(std::vector<Case>& cases, const std::string& op, size_t n, std::mt19937& rng,
              kernels::ActivationFn kernels::ActivationKernels::*member, double (*exact)(double),
              void (*mvec)(size_t, const float*, float*), double max_ulp) {
  Case c;
  c.op = op;
  c.label = absl::StrCat("n=", n);
  c.shape = {{"n", n}};
  c.elements = static_cast<double>(n);
  c.bytes = 8.0 * n;
  auto x = Random(n, -6.0f, 6.0f, rng);
  auto y = std::make_shared<Buffer>(n);
  c.keep = {x, y};
  c.y = y->data();
  c.y_size = n;
  const float* xp = x->data();
  float* yp = y->data();
  c.check = [=](const float* out) {
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
      worst = std::max(worst, kernels::testing::ErrRatio(out[i], exact(xp[i]), max_ulp,
                                                         kernels::kActivationAbsFloor));
    }
    return worst;
  };
  for (const auto* v : Supported(kernels::ActivationVariants())) {
    auto fn = v->*member;
    c.impls.push_back({std::string(v->name), ImplOf(v->isa), std::string(kernels::IsaName(v->isa)),
                       [=] { fn(n, xp, yp); }});
  }
  if (libmvec::Available() && mvec != nullptr) {
    c.impls.push_back({"libmvec_avx512", "libmvec", "avx512", [=] { mvec(n, xp, yp); }});
  }
  cases.push_back(std::move(c));
}

std::vector<Case> BuildCases(const std::vector<int64_t>& sizes, const std::vector<int64_t>& softmax_cols,
                             const NameFilter& ops, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Case> cases;
  auto want = [&](const char* op) { return ops.Matches(op); };
  for (int64_t s : sizes) {
    const size_t n = static_cast<size_t>(s);
    if (want("gelu_tanh")) AddUnary(cases, "gelu_tanh", n, rng, &kernels::ActivationKernels::gelu_tanh, kernels::reference::GeluTanh, libmvec::GeluTanh, kernels::kActivationMaxUlp);
    if (want("gelu_erf")) AddUnary(cases, "gelu_erf", n, rng, &kernels::ActivationKernels::gelu_erf, kernels::reference::GeluErf, libmvec::GeluErf, kernels::kActivationMaxUlp);
    if (want("silu")) AddUnary(cases, "silu", n, rng, &kernels::ActivationKernels::silu, kernels::reference::Silu, libmvec::Silu, kernels::kActivationMaxUlp);
  }
  for (int64_t s : sizes) {
    const size_t n = static_cast<size_t>(s);
    if (want("swiglu")) {
      Case c = NewCase("swiglu", absl::StrCat("n=", n), {{"n", n}}, double(n), 12.0 * n);
      c.inputs = 2;
      auto a = Random(n, -6, 6, rng), b = Random(n, -2, 2, rng);
      auto y = std::make_shared<Buffer>(n);
      c.keep = {a, b, y};
      c.y = y->data(), c.y_size = n;
      const float *ap = a->data(), *bp = b->data();
      float* yp = y->data();
      c.check = [=](const float* out) {
        double worst = 0;
        for (size_t i = 0; i < n; ++i) {
          worst = std::max(worst, kernels::testing::ErrRatio(out[i], kernels::reference::Silu(ap[i]) * bp[i],
                                                             kernels::kActivationMaxUlp + 0.5,
                                                             kernels::kActivationAbsFloor * std::fabs(bp[i])));
        }
        return worst;
      };
      for (const auto* v : Supported(kernels::ActivationVariants())) {
        auto fn = v->swiglu;
        c.impls.push_back({std::string(v->name), ImplOf(v->isa), std::string(kernels::IsaName(v->isa)), [=] { fn(n, ap, bp, yp); }});
      }
      if (libmvec::Available()) c.impls.push_back({"libmvec_avx512", "libmvec", "avx512", [=] { libmvec::Swiglu(n, ap, bp, yp); }});
      cases.push_back(std::move(c));
    }
  }
  // Softmax: 32 rows of each length.
  for (int64_t cols64 : softmax_cols) {
    const size_t rows = 32, cols = static_cast<size_t>(cols64), n = rows * cols;
    for (const char* op : {"softmax", "softmax_online"}) {
      if (!want(op)) continue;
      Case c = NewCase(op, absl::StrFormat("%dx%d", rows, cols), {{"rows", rows}, {"cols", cols}}, double(n), 8.0 * n);
      auto x = Random(n, -8, 8, rng);
      auto y = std::make_shared<Buffer>(n);
      c.keep = {x, y};
      c.y = y->data(), c.y_size = n;
      const float* xp = x->data();
      float* yp = y->data();
      const bool online = std::string(op) == "softmax_online";
      c.check = [=](const float* out) {  // the bound of softmax.h
        double worst = 0;
        for (size_t r = 0; r < rows; ++r) {
          const float* xr = xp + r * cols;
          double m = -INFINITY, sum = 0;
          for (size_t i = 0; i < cols; ++i) m = std::max(m, double{xr[i]});
          for (size_t i = 0; i < cols; ++i) sum += std::exp(xr[i] - m);
          double spread = 0;
          for (size_t i = 0; i < cols; ++i) spread = std::max(spread, m - xr[i]);
          for (size_t i = 0; i < cols; ++i) {
            const double exact = std::exp(xr[i] - m) / sum;
            const double tol = kernels::SoftmaxErrorBound(exact, m - xr[i], spread, cols, online);
            worst = std::max(worst, std::fabs(out[r * cols + i] - exact) / tol);
          }
        }
        return worst;
      };
      for (const auto* v : Supported(kernels::SoftmaxVariants())) {
        auto fn = std::string(op) == "softmax" ? v->softmax : v->softmax_online;
        c.impls.push_back({std::string(v->name), ImplOf(v->isa), std::string(kernels::IsaName(v->isa)), [=] { fn(rows, cols, xp, cols, yp, cols); }});
      }
      if (libmvec::Available() && std::string(op) == "softmax") {
        c.impls.push_back({"libmvec_avx512", "libmvec", "avx512", [=] { libmvec::Softmax(rows, cols, xp, yp); }});
      }
      cases.push_back(std::move(c));
    }
  }
  // LayerNorm / RMSNorm: the 32 x 512 and the GPT-2 model shapes (Small d = 128 at a
  // 64-token prompt, Medium d = 256 at its 128-token context).
  const std::pair<size_t, size_t> norm_shapes[] = {{32, 512}, {64, 128}, {128, 256}};
  for (auto [rows, cols] : norm_shapes) {
    for (const char* op : {"layernorm", "rmsnorm"}) {
      if (!want(op)) continue;
      const size_t n = rows * cols;
      Case c = NewCase(op, absl::StrFormat("%dx%d", rows, cols), {{"rows", rows}, {"cols", cols}}, double(n), 8.0 * n);
      auto x = Random(n, -3, 5, rng), w = Random(cols, 0.5, 1.5, rng), b = Random(cols, -1, 1, rng);
      auto y = std::make_shared<Buffer>(n);
      c.keep = {x, w, b, y};
      c.y = y->data(), c.y_size = n;
      const float *xp = x->data(), *wp = w->data(), *bp = b->data();
      float* yp = y->data();
      const bool rms = std::string(op) == "rmsnorm";
      c.check = [=](const float* out) {  // the bound of norm.h
        double worst = 0;
        for (size_t r = 0; r < rows; ++r) {
          const float* xr = xp + r * cols;
          double m = 0, v = 0;
          for (size_t i = 0; i < cols; ++i) m += xr[i];
          m = rms ? 0.0 : m / cols;
          for (size_t i = 0; i < cols; ++i) v += (xr[i] - m) * (xr[i] - m);
          const double s = 1.0 / std::sqrt(v / cols + 1e-5);
          for (size_t i = 0; i < cols; ++i) {
            const double xhat = (xr[i] - m) * s, bias = rms ? 0.0 : bp[i];
            const double tol = kernels::NormErrorBound(wp[i], xhat, bias, cols);
            worst = std::max(worst, std::fabs(out[r * cols + i] - (xhat * wp[i] + bias)) / tol);
          }
        }
        return worst;
      };
      for (const auto* v : Supported(kernels::NormVariants())) {
        auto ln = v->layernorm;
        auto rn = v->rmsnorm;
        c.impls.push_back({std::string(v->name), ImplOf(v->isa), std::string(kernels::IsaName(v->isa)),
                           rms ? std::function<void()>([=] { rn(rows, cols, xp, cols, wp, 1e-5f, yp, cols, nullptr); })
                               : std::function<void()>([=] { ln(rows, cols, xp, cols, wp, bp, 1e-5f, yp, cols, nullptr, nullptr); })});
      }
      cases.push_back(std::move(c));
    }
  }
  // Add and broadcast add: exact results (one rounding each).
  for (int64_t s : sizes) {
    const size_t n = static_cast<size_t>(s);
    for (const char* op : {"add", "broadcast_add"}) {
      if (!want(op)) continue;
      const bool bcast = std::string(op) == "broadcast_add";
      const size_t cols = bcast ? std::min<size_t>(512, n) : n, rows = bcast ? n / cols : 1;
      const size_t total = rows * cols;
      Case c = NewCase(op, bcast ? absl::StrFormat("%dx%d", rows, cols) : absl::StrCat("n=", n),
             bcast ? Json{{"rows", rows}, {"cols", cols}} : Json{{"n", n}}, double(total),
             bcast ? 8.0 * total + 4.0 * cols : 12.0 * total);
      // Over many rows the bias row is re-read from L1 and the traffic is a copy's (x in, y out);
      // a single row is an add of two equal arrays, both loads per vector real: a triad's mix.
      c.inputs = bcast && rows > 1 ? 1 : 2;
      auto a = Random(total, -10, 10, rng), b = Random(bcast ? cols : total, -10, 10, rng);
      auto y = std::make_shared<Buffer>(total);
      c.keep = {a, b, y};
      c.y = y->data(), c.y_size = total;
      const float *ap = a->data(), *bp = b->data();
      float* yp = y->data();
      c.check = [=](const float* out) {
        for (size_t i = 0; i < total; ++i) {
          if (out[i] != ap[i] + bp[bcast ? i % cols : i]) return static_cast<double>(INFINITY);
        }
        return 0.0;
      };
      for (const auto* v : Supported(kernels::ElementwiseVariants())) {
        auto add = v->add;
        auto bad = v->broadcast_add;
        c.impls.push_back({std::string(v->name), ImplOf(v->isa), std::string(kernels::IsaName(v->isa)),
                           bcast ? std::function<void()>([=] { bad(rows, cols, ap, cols, bp, yp, cols); })
                                 : std::function<void()>([=] { add(n, ap, bp, yp); })});
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

int Run(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const bool quick = QuickFromFlags();
  const harness::MeasureOptions measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  std::vector<std::string> size_items = absl::GetFlag(FLAGS_sizes);
  std::vector<std::string> cols_items = absl::GetFlag(FLAGS_softmax_cols);
  if (quick) {
    size_items = {"1000", "10000"};
    cols_items = {"256"};
  }
  auto sizes = ParseIntList("sizes", size_items, 1, int64_t{1} << 28);
  if (!sizes.ok()) ExitWithUsageError(std::string(sizes.status().message()));
  auto softmax_cols = ParseIntList("softmax_cols", cols_items, 1, int64_t{1} << 20);
  if (!softmax_cols.ok()) ExitWithUsageError(std::string(softmax_cols.status().message()));
  auto compiled = CompileFilter("ops", absl::GetFlag(FLAGS_ops));
  if (!compiled.ok()) ExitWithUsageError(std::string(compiled.status().message()));
  const NameFilter ops = std::move(*compiled);

  const harness::OutputOptions output =
      OutputOptionsFromFlagsOrExit();
  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "activation_sweep: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const harness::Topology& topo = **topology;
  const std::vector<int> core = CoresFromFlagsOrExit(topo, 1);
  const harness::PinResult pin = topo.PinThisThreadToCore(core[0]);
  if (!pin.ok) std::fprintf(stderr, "activation_sweep: warning: not pinned: %s\n", pin.error.c_str());

  Json record = NewRecord(kSuite, argc, argv, topo);
  Json env = record["env"];  // completed here, stored back below
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["peers"] = {{"libmvec", libmvec::Available() ? Json("glibc libmvec, AVX-512 entry points (_ZGVeN16v_*)")
                                                   : Json("not run: needs avx512")},
                  {"std", "the scalar variant of each family (plain C++, std:: functions)"}};
  env["pinning"] = {{"policy", absl::StrCat("one thread on core ", core[0])},
                    {"pinned", pin.ok ? Json(pin.os_cpu) : Json(pin.error)}};
  env["ceiling"] =
      "the bandwidth kernel with the case's stream mix, timed on the same number of bytes in the "
      "same run (kernels/peak/bandwidth.h): triad a = b + s c for two-input ops (add, swiglu), "
      "copy y = x for one-input ops; rows also carry pct_triad";
  record["env"] = env;
  record["rows"] = Json::array();

  std::vector<Case> cases = BuildCases(*sizes, *softmax_cols, ops, absl::GetFlag(FLAGS_seed));
  if (cases.empty()) ExitWithUsageError("nothing to run: no op matches --ops");
  size_t total = 0;
  for (const Case& c : cases) total += c.impls.size();

  // Ceilings per stream mix and working-set size, measured once each, best sample: the triad
  // (3 arrays of bytes / 12 floats) for two inputs, the copy (2 arrays of bytes / 8) for one. A
  // one-input op cannot reach the triad's GB/s in L2: a copy measures ~80% of it there (the
  // store's read-for-ownership is a larger share of its traffic).
  std::map<std::pair<int, int64_t>, double> ceilings;  // (inputs, bytes) -> GB/s
  auto ceiling_for = [&](double bytes, int inputs) {
    const size_t per = static_cast<size_t>(4 * (inputs + 1));
    const size_t n = std::max<size_t>(64, (static_cast<size_t>(bytes) / per + 63) / 64 * 64);
    const std::pair<int, int64_t> key{inputs, static_cast<int64_t>(per * n)};
    if (auto it = ceilings.find(key); it != ceilings.end()) return it->second;
    Buffer a(n), b(n), c(n);
    for (size_t i = 0; i < n; ++i) b[i] = 1.0f, c[i] = 2.0f, a[i] = 0.0f;
    const harness::Measurement m = harness::Measure(
        [&] {
          if (inputs == 2) {
            kernels::TriadF32(n, 0.5f, b.data(), c.data(), a.data());
          } else {
            kernels::CopyF32(n, b.data(), a.data());
          }
        },
        measure);
    return ceilings[key] = static_cast<double>(per * n) / m.summary.min;  // bytes/ns = GB/s
  };

  int wrong = 0;
  size_t done = 0;
  std::vector<std::vector<std::string>> table;
  std::fprintf(stderr, "%-10s %-15s %-11s %-26s %-10s %10s %8s %8s %6s  %s\n", "progress", "op",
               "shape", "variant", "impl", "ns/elem", "GB/s", "%ceil", "MAD%", "check");
  for (Case& c : cases) {
    const double ceiling = ceiling_for(c.bytes, c.inputs);
    const double triad = ceiling_for(c.bytes, 2);
    // The row's fields that do not depend on timing.
    auto row_of = [&](const Impl& im, double ratio) {
      Json j;
      j["name"] = absl::StrCat(c.op, "/", im.variant, "/", c.label, "/t1");
      j["op"] = c.op;
      j["variant"] = im.variant;
      j["impl"] = im.impl;
      j["isa"] = im.isa;
      j["shape"] = c.shape;
      j["threads"] = 1;
      j["pinned"] = pin.ok ? Json::array({pin.os_cpu}) : Json({{"error", pin.error}});
      j["elements"] = c.elements;
      j["bytes"] = c.bytes;
      const bool ok = ratio <= 1.0;
      j["check"] = {{"ok", ok}, {"max_err_ratio", std::isinf(ratio) ? Json("inf") : Json(ratio)}};
      if (!ok) {
        j["check"]["detail"] = im.impl == "kernel-lab"
                                   ? "outside the bound stated in the kernel's header; not timed"
                                   : "a peer, outside kernel-lab's bound; timed anyway";
      }
      return j;
    };
    // Check before time: a kernel-lab row outside its bound is recorded and never timed. A peer
    // outside kernel-lab's bound is not wrong by its own contract (libmvec promises 4 ulp), so
    // it is timed and its row says so.
    struct Pending {
      const Impl* impl;
      double ratio;
      std::unique_ptr<harness::Sampler> sampler;
    };
    std::vector<Pending> pending;
    std::vector<harness::RoundEntry> entries;
    for (const Impl& im : c.impls) {
      std::fill(c.y, c.y + c.y_size, NAN);
      im.call();
      const double ratio = c.check(c.y);
      if (!(ratio <= 1.0) && im.impl == "kernel-lab") {
        ++wrong;
        ++done;
        record["rows"].push_back(row_of(im, ratio));
        std::fprintf(stderr, "[%zu/%zu] %-15s %-11s %-26s %-10s  WRONG (%.3g), not timed\n", done,
                     total, c.op.c_str(), c.label.c_str(), im.variant.c_str(), im.impl.c_str(),
                     ratio);
        table.push_back({c.op, c.label, im.variant, im.impl, "—", "—", "—", "—", "0",
                         absl::StrFormat("WRONG (%.3g), not timed", ratio), "—"});
        continue;
      }
      pending.push_back({&im, ratio, std::make_unique<harness::Sampler>(im.call, measure)});
    }
    for (Pending& p : pending) entries.push_back({p.sampler.get(), 0, nullptr});
    const std::vector<harness::Measurement> measured = harness::SampleInRounds(entries);
    for (size_t i = 0; i < pending.size(); ++i) {
      const Pending& p = pending[i];
      const harness::Measurement& m = measured[i];
      const double ns = m.summary.median;
      Json j = row_of(*p.impl, p.ratio);
      const Json timing = harness::TimingJson(m);  // items() must not outlive it
      for (const auto& [key, v] : timing.items()) j[key] = v;
      j["ns_per_element"] = ns / c.elements;
      j["gbs"] = c.bytes / ns;
      j["ceiling_gbs"] = ceiling;
      j["ceiling_kernel"] = c.inputs == 2 ? "triad" : "copy";
      j["pct_ceiling"] = 100.0 * (c.bytes / ns) / ceiling;
      j["pct_triad"] = 100.0 * (c.bytes / ns) / triad;
      j["gflops"] = nullptr;
      j["pct_peak"] = nullptr;
      const bool ok = p.ratio <= 1.0;
      const double mad_pct = 100.0 * m.summary.mad / m.summary.median;
      j["unstable"] = harness::IsUnstable(m.summary);
      record["rows"].push_back(j);
      ++done;
      const std::string check = ok ? absl::StrFormat("ok (%.2f)", p.ratio)
                                   : absl::StrFormat("%s (%.3g)", p.impl->impl == "kernel-lab" ? "WRONG" : "outside bound", p.ratio);
      std::fprintf(stderr, "[%zu/%zu] %-15s %-11s %-26s %-10s %10.4f %8.1f %8.1f %6.1f  %s%s\n", done, total,
                   c.op.c_str(), c.label.c_str(), p.impl->variant.c_str(), p.impl->impl.c_str(),
                   ns / c.elements, c.bytes / ns, 100.0 * (c.bytes / ns) / ceiling, mad_pct,
                   check.c_str(), harness::IsUnstable(m.summary) ? "  unstable" : "");
      table.push_back({c.op, c.label, p.impl->variant, p.impl->impl, Fmt(ns / c.elements, 4),
                       Fmt(c.bytes / ns, 1), Fmt(100.0 * (c.bytes / ns) / ceiling, 1),
                       Fmt(mad_pct, 1) + (harness::IsUnstable(m.summary) ? " unstable" : ""),
                       absl::StrCat(m.samples_ns.size()), check,
                       j["alloc"]["bytes"].is_number() ? Fmt(j["alloc"]["bytes"].get<double>(), 0) : "not counted"});
    }
  }

  // Markdown: a summary (best kernel-lab vs best peer per case), then every row.
  std::string md = absl::StrFormat("# activation_sweep %s\n\n`%s`\n\n", record["run_id"].get<std::string>(),
                                   record["command"].get<std::string>());
  md += absl::StrFormat(
      "CPU: %s, best ISA %s; 1 thread pinned to core 0. Times are medians; ns/element = median / "
      "elements; GB/s counts each input and output byte once; %% ceiling divides by the bandwidth "
      "of the kernel with the same stream mix on the same working set in this run (triad for "
      "add and swiglu, copy for one-input ops; table at the end). Check = largest error / the "
      "bound in the kernel's header (<= 1 passes).\n\n",
      env["cpu_model"].is_string() ? env["cpu_model"].get<std::string>() : "unknown",
      env["best_isa"].get<std::string>());
  std::vector<std::vector<std::string>> summary;
  std::map<std::string, std::map<std::string, double>> best;  // case -> impl -> ns/element
  std::vector<std::string> order;
  for (const Json& r : record["rows"]) {
    if (!r.contains("ns_per_element")) continue;  // a wrong row, not timed
    std::string shape_key = r["op"].get<std::string>() + " " + r["shape"].dump();
    if (!best.count(shape_key)) order.push_back(shape_key);
    double& b = best[shape_key].try_emplace(r["impl"].get<std::string>(), INFINITY).first->second;
    b = std::min(b, r["ns_per_element"].get<double>());
  }
  for (const std::string& k : order) {
    auto& m = best[k];
    auto get = [&](const char* impl) { return m.count(impl) ? m[impl] : NAN; };
    const double ours = get("kernel-lab"), mvec = get("libmvec"), scalar = get("std");
    summary.push_back({k, Fmt(ours, 4), std::isnan(mvec) ? "—" : Fmt(mvec, 4), Fmt(scalar, 4),
                       std::isnan(mvec) ? "—" : Fmt(mvec / ours, 2) + "x", Fmt(scalar / ours, 1) + "x"});
  }
  md += "## Best kernel-lab variant vs peers (ns/element, lower is better)\n\n";
  md += harness::MarkdownTable({"op shape", "kernel-lab", "libmvec", "std", "libmvec / ours", "std / ours"},
                               {false, true, true, true, true, true}, summary);
  md += "\n## Every row\n\n";
  md += harness::MarkdownTable({"op", "shape", "variant", "impl", "ns/elem", "GB/s", "% ceiling", "MAD %", "reps",
                                "check", "alloc B/call"},
                               {false, false, false, false, true, true, true, true, true, false, true}, table);
  md += "\n## Bandwidth ceilings measured in this run\n\n";
  std::vector<std::vector<std::string>> ceil_rows;
  for (auto [key, gbs] : ceilings) {
    ceil_rows.push_back({key.first == 2 ? "triad" : "copy",
                         absl::StrFormat("%.1f KiB", key.second / 1024.0), Fmt(gbs, 1)});
  }
  md += harness::MarkdownTable({"kernel", "working set", "GB/s (best sample)"}, {false, true, true},
                               ceil_rows);
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("activation_sweep, %d rows, sizes %s", record["rows"].size(),
                                    absl::StrJoin(*sizes, ",")),
                    wrong, "kernel-lab row(s) outside their bound");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Run(argc, argv); }
