// The runner of //perf:matmul_sweep: each case's inputs, its implementations declared for the
// measuring layer (row fields, body, check against the fp64 reference), and their rows.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "harness/aligned_buffer.h"
#include "kernels/linear/linear.h"
#include "kernels/tuning/tuning.h"
#include "kernels/testing/gemm_reference.h"
#include "perf/matmul_sweep.h"

namespace klab::perf {
namespace {

void FillRandom(harness::AlignedBuffer& buf, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = dist(rng);
}

}  // namespace

// The inputs of one case, first-touched on the pinned thread; C starts as NaN since beta = 0
// must not read it. W packed for linear_packed and the M = 1 read ceiling on first use.
namespace {
// The GEMM of a case (alpha 1, beta 0, operands packed tight in their stored layout) on a, b, c.
kernels::SgemmArgs ArgsOf(const Case& cs, const float* a, const float* b, float* c) {
  return {cs.trans_a, cs.trans_b, cs.m, cs.n, cs.k, 1.0f, a,
          cs.trans_a == kernels::Trans::kNo ? cs.k : cs.m,
          b, cs.trans_b == kernels::Trans::kNo ? cs.n : cs.k, 0.0f, c, cs.n};
}
}  // namespace

struct CaseData {
  CaseData(const Case& cs, uint64_t seed)
      : a(cs.m * cs.k), b(cs.k * cs.n), c(cs.m * cs.n), args(ArgsOf(cs, a.data(), b.data(), c.data())) {
    FillRandom(a, seed * 3 + cs.n + 7 * cs.m);
    FillRandom(b, seed * 3 + cs.n + 7 * cs.m + 1);
    ResetC();
  }
  void ResetC() { std::fill(c.data(), c.data() + c.size(), std::numeric_limits<float>::quiet_NaN()); }
  const float* Packed() {
    if (packed == nullptr) {
      packed = std::make_unique<harness::AlignedBuffer>(kernels::PackedLinearSize(args.n, args.k));
      kernels::PackLinearWeights(args.n, args.k, b.data(), args.k, packed->data());
    }
    return packed->data();
  }
  const kernels::testing::GemmReference& Reference() {
    if (reference == nullptr) {
      if (args.m * args.n * args.k >= (int64_t{1} << 30)) {
        std::fprintf(stderr, "          computing the fp64 reference for %dx%dx%d ...\n",
                     static_cast<int>(args.m), static_cast<int>(args.n), static_cast<int>(args.k));
      }
      reference = std::make_unique<kernels::testing::GemmReference>(args);
    }
    return *reference;
  }
  harness::AlignedBuffer a, b, c;
  kernels::SgemmArgs args;
  std::unique_ptr<harness::AlignedBuffer> packed;
  std::unique_ptr<kernels::testing::GemmReference> reference;
};

std::string LayoutOf(const Case& cs) {
  return std::string(cs.trans_a == kernels::Trans::kYes ? "T" : "N") +
         (cs.trans_b == kernels::Trans::kYes ? "T" : "N");
}

namespace {

std::function<void()> CallOf(const Impl& im, CaseData& d) {
  const kernels::SgemmArgs& p = d.args;
  switch (im.kind) {
    case Impl::Kind::kLinear:
      return [&p, w = d.Packed()] {
        kernels::LinearThreaded(p.m, p.n, p.k, p.a, p.lda, w, nullptr, p.c, p.ldc, false);
      };
    case Impl::Kind::kPeer: return [&p, peer = im.peer] { peer->Sgemm(p); };
    case Impl::Kind::kVariant: return [&p, fn = im.variant_ptr->fn] { fn(p); };
    case Impl::Kind::kSgemm: break;
  }
  return [&p] {
    (void)kernels::Sgemm(p.trans_a, p.trans_b, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb,
                         p.beta, p.c, p.ldc);
  };
}

// Where a blocked variant's MC/KC/NC come from (kernels::EffectiveBlocking's order).
std::string BlockingSource(int mr, int nr) {
  if (kernels::BlockingOverride()) return "--blocking";
  const kernels::TuningProfile* t = kernels::ActiveTuning();
  if (t != nullptr && kernels::FindTunedBlocking(*t, mr, nr) != nullptr) {
    return "tuning profile: " + t->source;
  }
  return "derived from cpuid caches";
}

}  // namespace

// Peers: the measuring thread is bound to all t cores, and the worker threads a library creates
// from it inherit that set. Ours: the measuring thread is participant 0 of the GEMM pool, bound
// to core 0, and worker i is bound to core i.
harness::PinResult Sweep::PinFor(const Impl& im, int64_t threads) const {
  const std::vector<int> cores(core_order_.begin(), core_order_.begin() + threads);
  const harness::PinResult r = im.peer != nullptr ? topo_.PinThisThreadToCores(cores)
                                                  : topo_.PinThisThreadToCore(cores[0]);
  if (!r.ok) {
    std::fprintf(stderr, "matmul_sweep: warning: not pinned for %s on %d threads: %s\n",
                 im.variant.c_str(), static_cast<int>(threads), r.error.c_str());
  }
  return r;
}

void Sweep::RunThreads(int64_t threads) {
  // Our own threaded variants can share rounds: our pool's workers wait for the next call on
  // their own cores. A threaded peer's cannot (see --interleave).
  const bool interleave = settings_.interleave && (threads == 1 || !have_peers_);
  std::vector<int> cpus;
  for (int64_t i = 0; i < threads; ++i) cpus.push_back(topo_.OsCpuOfCore(core_order_[i]));
  kernels::SetGemmThreads(static_cast<int>(threads), cpus);
  if (threads > topo_.cores()) {
    std::fprintf(stderr, "matmul_sweep: warning: %d threads on %d cores (oversubscribed)\n",
                 static_cast<int>(threads), topo_.cores());
  }
  for (const Case& cs : settings_.cases) RunCase(cs, threads, interleave);
}

std::optional<std::string> Sweep::SkipReason(const Impl& im, const Case& cs,
                                             int64_t threads) const {
  if (im.max_threads < threads) return "serial variant";
  if (im.peer != nullptr) {
    const kernels::SgemmArgs args = ArgsOf(cs, nullptr, nullptr, nullptr);
    if (std::optional<std::string> why = im.peer->Unsupported(args, static_cast<int>(threads))) return why;
  }
  if (im.variant == "naive_ijk" && std::max({cs.m, cs.n, cs.k}) > settings_.naive_max_size) {
    return absl::StrFormat("naive above %d (--naive_max_size to include)", settings_.naive_max_size);
  }
  return std::nullopt;
}

// The row fields known before timing, the body, and the check against the fp64 reference.
Implementation Sweep::Declare(const Impl& im, const Case& cs, CaseData& d, int64_t threads) {
  const kernels::SgemmArgs& args = d.args;
  harness::Json j;
  const std::string layout = LayoutOf(cs);
  j["name"] = absl::StrFormat("sgemm/%s/%dx%dx%d%s/t%d", im.variant, cs.m, cs.n, cs.k,
                              layout == "NN" ? "" : "/" + absl::AsciiStrToLower(layout), threads);
  j["op"] = "sgemm";
  j["variant"] = im.variant;
  j["impl"] = im.impl;
  j["isa"] = im.isa;
  j["shape"] = {{"m", cs.m}, {"n", cs.n}, {"k", cs.k}};
  j["layout"] = layout;
  j["threads"] = threads;
  if (im.kind == Impl::Kind::kLinear) {
    j["weights"] = "packed once before timing (kernels::PackLinearWeights), as a model is";
  }
  if (im.kind == Impl::Kind::kSgemm) j["chose"] = std::string(kernels::ChooseGemmVariant(args).name);
  if (im.variant_ptr != nullptr && im.variant_ptr->blocked) {
    const kernels::Blocking blk = kernels::EffectiveBlocking(im.variant_ptr->mr, im.variant_ptr->nr);
    j["blocking"] = {{"mc", blk.mc}, {"kc", blk.kc}, {"nc", blk.nc},
                     {"mr", im.variant_ptr->mr}, {"nr", im.variant_ptr->nr},
                     {"source", BlockingSource(im.variant_ptr->mr, im.variant_ptr->nr)}};
  }
  const harness::PinResult pin = PinFor(im, threads);
  if (!pin.ok) {
    j["pinned"] = {{"error", pin.error}};
  } else if (im.peer == nullptr && im.max_threads > 1) {
    j["pinned"] = kernels::GemmThreadPool().cpus();  // caller on core 0, worker i on core i
  } else {
    j["pinned"] = pin.os_cpus;
  }
  j["flops"] = 2.0 * cs.m * cs.n * cs.k;
  j["bytes"] = 4.0 * (cs.m * cs.k + cs.k * cs.n + cs.m * cs.n);  // read A and B, write C
  Implementation decl{.row = std::move(j), .call = CallOf(im, d)};
  decl.check = [&d, call = decl.call] {
    d.ResetC();
    call();
    const kernels::testing::GemmCheck check = d.Reference().Check(d.c.data(), d.args.ldc);
    return CheckResult{.ok = check.ok, .max_err_ratio = check.max_err_ratio,
                       .detail = check.ok ? "" : check.Describe()};
  };
  // Peers run pinned to all the row's cores, ours from the first (the pool pins the rest).
  decl.group = im.peer != nullptr ? 1 : 0;
  decl.enter = [this, &im, threads] { PinFor(im, threads); };
  return decl;
}

void Sweep::RunCase(const Case& cs, int64_t threads, bool interleave) {
  CaseData d(cs, settings_.seed);
  std::vector<const Impl*> declared;
  std::vector<Implementation> decls;
  for (const Impl& im : impls_) {
    if (const auto why = SkipReason(im, cs, threads)) {
      table_rows_.push_back({threads, cs.label, im.variant, im.impl, std::nan(""), "skipped: " + *why});
      progress_.Skip();
      continue;
    }
    declared.push_back(&im);
    decls.push_back(Declare(im, cs, d, threads));
  }
  // The read ceiling of an M = 1 case: a control (nothing to check) in the same rounds.
  const bool ceiling = cs.m == 1 && LayoutOf(cs) == "NT";
  if (ceiling) {
    decls.push_back({.call = [&d] {
      volatile float sink = kernels::LinearReadThreaded(1, d.args.n, d.args.k, d.Packed());
      (void)sink;
    }});
  }
  std::vector<Outcome> outcomes = CheckThenTime(decls, settings_.measure, interleave, settings_.passes);
  for (size_t i = 0; i < declared.size(); ++i) Record(*declared[i], cs, threads, outcomes[i], interleave);
  if (!ceiling) return;
  const harness::Measurement& m = *outcomes.back().m;
  const double weight_bytes = 4.0 * cs.n * cs.k, gbs = weight_bytes / m.summary.median;
  ceilings_.push_back({threads, cs.label, weight_bytes, gbs});
  harness::Json cj = {{"threads", threads}, {"shape", {{"m", cs.m}, {"n", cs.n}, {"k", cs.k}}},
                      {"kernel", "kernels::LinearReadThreaded"}, {"bytes", weight_bytes}, {"gbs", gbs}};
  for (const auto& [key, v] : outcomes.back().row.items()) cj[key] = v;
  ceiling_json_.push_back(cj);
  std::fprintf(stderr, "          %-6d %9s  read ceiling %.1f GB/s (%.0f KiB of W)\n",
               static_cast<int>(threads), cs.label.c_str(), gbs, weight_bytes / 1024);
}

// The row of one checked implementation: WRONG (never timed), or its speed.
void Sweep::Record(const Impl& im, const Case& cs, int64_t threads, Outcome& o, bool interleave) {
  SweepRow row{threads, cs.label, im.variant, im.impl, std::nan(""), "WRONG"};
  if (!o.m) {
    ++wrong_;
    std::fprintf(stderr, "%-9s %-6d %9s  %-18s %-10s  WRONG, not timed: %s\n",
                 progress_.Next().c_str(), static_cast<int>(threads), cs.label.c_str(),
                 im.variant.c_str(), im.impl.c_str(), o.check.detail.c_str());
    rows_.push_back(std::move(o.row));
    table_rows_.push_back(row);
    return;
  }
  harness::Json& j = o.row;
  const double seconds = o.m->summary.median * 1e-9;
  row.gflops = j["flops"].get<double>() / seconds * 1e-9;
  row.status = "ok";
  const double pct_peak = peak_ > 0 ? 100.0 * row.gflops / (peak_ * threads) : 0.0;
  j["gflops"] = row.gflops;
  j["pct_peak"] = peak_ > 0 ? harness::Json(pct_peak) : harness::Json(nullptr);
  j["gbs"] = j["bytes"].get<double>() / seconds * 1e-9;
  j["interleaved"] = interleave;
  j["sampling"] = interleave ? "rounds"
                  : settings_.passes > 1 ? absl::StrFormat("alternating blocks, %d passes", settings_.passes)
                                         : "one after another";
  std::fprintf(stderr, "%-9s %-6d %9s  %-18s %-10s %9.2f %7.1f %10.4f %12s %5d  ok (%.2f)\n",
               progress_.Next().c_str(), static_cast<int>(threads), cs.label.c_str(),
               im.variant.c_str(), im.impl.c_str(), row.gflops, pct_peak,
               o.m->summary.median * 1e-6, MadCell(o.m->summary).c_str(),
               static_cast<int>(o.m->samples_ns.size()), o.check.max_err_ratio);
  rows_.push_back(std::move(j));
  table_rows_.push_back(row);
}

}  // namespace klab::perf
