// //perf:matmul_sweep — every registered GEMM variant and the peer libraries on square problems,
// checked against the fp64 oracle, then timed; one table per thread count, published to results/.
//
//   bazel run //perf:matmul_sweep -- --sizes=64,256,1024 --threads=1,2 --variants='loop_ikj.*'
//
// The path of one case (docs/design.md): allocate aligned inputs and first-touch them on the pinned
// thread; run the implementation once and check it against the reference (a wrong result is
// reported as wrong and never timed); warm up; time repetitions until both a minimum count and a
// minimum time are reached; record software counters and allocations around them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/aligned_buffer.h"
#include "harness/env.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/peak/peak.h"
#include "kernels/testing/gemm_reference.h"
#include "common/cli.h"
#include "kernels/linear/linear.h"
#include "perf/matmul_sweep.h"
#include "perf/measuring.h"
#include "perf/peers.h"
#include "perf/suite.h"

ABSL_FLAG(std::vector<std::string>, sizes,
          std::vector<std::string>({"64", "128", "256", "512", "1024", "2048"}),
          "Square sizes n (m = n = k), comma-separated.");
ABSL_FLAG(std::string, shapes, "square",
          "'square' (n x n x n for each of --sizes, A and B row-major) or 'transformer' (M = 1, 8, "
          "64 times the K x N of the GPT-2 Small/Medium linear layers, Y = X W^T with W stored "
          "(N, K) as the models call it).");
ABSL_FLAG(std::vector<std::string>, threads, {"1"},
          "Thread counts, comma-separated; one table per count. Serial variants run only at 1.");
ABSL_FLAG(std::string, variants, ".*",
          "Regular expression (ECMAScript, whole name) selecting kernel-lab variants by name; "
          "'sgemm_auto' is the public Sgemm entry point with its shape heuristic.");
ABSL_FLAG(std::vector<std::string>, peers,
          std::vector<std::string>({"openblas", "blis", "onednn"}),
          "Peer libraries measured in the same run (openblas, blis, onednn), or 'none'.");
ABSL_FLAG(std::string, openblas_coretype, "auto",
          "OPENBLAS_CORETYPE for the OpenBLAS peer: 'auto' (SkylakeX with AVX-512, Haswell with "
          "AVX2: Debian's OpenBLAS 0.3.21 falls back to generic Prescott kernels on CPUs newer "
          "than it), 'detect' (OpenBLAS's own choice), or a core name. An OPENBLAS_CORETYPE "
          "already in the environment wins. The chosen kernel is recorded in env.peers.");
ABSL_FLAG(std::string, blocking, "",
          "Cache blocking MC,KC,NC for every blocked variant (default: derived from the cache "
          "sizes per micro-kernel; recorded per row).");
ABSL_FLAG(int64_t, naive_max_size, 512,
          "naive_ijk runs only up to this n (it takes minutes at 2048); the table says when it "
          "was skipped.");
ABSL_FLAG(bool, interleave, true,
          "At 1 thread, sample the implementations of a shape in rounds (one sample each per "
          "round), so drift and interference hit all alike; --nointerleave measures them one "
          "after another. Multi-thread tables with peers are always measured one after another: "
          "a threaded library's idle workers spin for up to ~0.1 s after a call (OpenBLAS, GNU "
          "OpenMP) and would take the cores from whichever implementation sampled next; with "
          "--peers=none they are interleaved too (the way to compare our threaded variants).");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the random inputs.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "matmul_sweep";
constexpr char kUsage[] =
    "Times every registered GEMM variant, Sgemm itself (sgemm_auto) and the peer libraries "
    "(OpenBLAS, BLIS, oneDNN) on square or transformer-layer shapes, each checked against an "
    "fp64 reference first, and publishes the tables under results/.\n\n"
    "  bazel run //perf:matmul_sweep -- [--sizes=64,128,...] [--shapes=square|transformer]\n"
    "      [--threads=1,2] [--variants=REGEX] [--peers=openblas,blis,onednn|none]\n"
    "      [--blocking=MC,KC,NC] [--quick] [--out=DIR | --no_publish]";

// Samples of >= 5 ms (small sizes timed in batches), 9 of them and >= 0.1 s per case.
constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 9, .min_sample_s = 0.005, .min_time_s = 0.1},
    .quick = {.min_reps = 3, .min_sample_s = 0.0005, .min_time_s = 0.01, .warmup_s = 0.005}};

Settings ReadSettingsOrExit() {
  Settings s;
  const bool quick = QuickFromFlags();
  std::vector<std::string> sizes = absl::GetFlag(FLAGS_sizes);
  const bool sizes_default = sizes == std::vector<std::string>{"64", "128", "256", "512", "1024", "2048"};
  if (quick && sizes_default) sizes = {"64", "128"};
  auto parsed_sizes = ParseIntList("sizes", sizes, 1, 16384);
  if (!parsed_sizes.ok()) ExitWithUsageError(std::string(parsed_sizes.status().message()));
  s.sizes = *parsed_sizes;
  s.shapes = absl::GetFlag(FLAGS_shapes);
  if (s.shapes == "square") {
    for (int64_t n : s.sizes) s.cases.push_back({n, n, n, kernels::Trans::kNo, absl::StrCat(n)});
  } else if (s.shapes == "transformer") {
    // K x N of the linear layers of GPT-2 Small (d = 128) and Medium (d = 256): qkv, head
    // (V = 512), attention projection / MLP down, MLP up.
    const std::pair<int64_t, int64_t> kn[] = {{128, 384},  {128, 512}, {512, 128}, {128, 256},
                                              {256, 768},  {256, 1024}, {1024, 256}, {256, 512}};
    const std::vector<int64_t> ms = quick ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{1, 8, 64};
    for (int64_t m : ms) {
      for (const auto& [k, n] : kn) {
        s.cases.push_back({m, n, k, kernels::Trans::kYes, absl::StrFormat("%dx%dx%d", m, k, n)});
      }
    }
  } else {
    ExitWithUsageError(absl::StrFormat("--shapes: '%s' is not 'square' or 'transformer'", s.shapes));
  }
  auto parsed_threads = ParseIntList("threads", absl::GetFlag(FLAGS_threads), 1, 256);
  if (!parsed_threads.ok()) ExitWithUsageError(std::string(parsed_threads.status().message()));
  s.threads = *parsed_threads;
  s.measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  s.naive_max_size = absl::GetFlag(FLAGS_naive_max_size);
  s.interleave = absl::GetFlag(FLAGS_interleave);
  const std::string blocking = absl::GetFlag(FLAGS_blocking);
  if (!blocking.empty()) {
    auto parsed = ParseIntList("blocking", absl::StrSplit(blocking, ','), 1, 1 << 16);
    if (!parsed.ok()) ExitWithUsageError(std::string(parsed.status().message()));
    if (parsed->size() != 3) ExitWithUsageError("--blocking takes three numbers: MC,KC,NC");
    s.blocking = kernels::Blocking{static_cast<int>((*parsed)[0]), static_cast<int>((*parsed)[1]),
                                   static_cast<int>((*parsed)[2])};
  }
  for (const std::string& name : absl::GetFlag(FLAGS_peers)) {
    const std::vector<std::string> known = PeerNames();
    if (name != "none" && std::find(known.begin(), known.end(), name) == known.end()) {
      ExitWithUsageError(absl::StrFormat("--peers: unknown peer '%s' (known: %s, or none)", name,
                                         absl::StrJoin(known, ", ")));
    }
  }
  auto filter = CompileFilter("variants", absl::GetFlag(FLAGS_variants));
  if (!filter.ok()) ExitWithUsageError(std::string(filter.status().message()));
  return s;
}

void FillRandom(harness::AlignedBuffer& buf, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = dist(rng);
}

// The peers named by --peers, loaded before this thread is pinned: libraries that start worker
// threads at load time must not inherit a one-CPU mask, or their "2-thread" runs share one core.
std::vector<std::unique_ptr<PeerGemm>> LoadPeers(harness::Json& env) {
  std::vector<std::unique_ptr<PeerGemm>> peers;
  env["peers"] = harness::Json::object();
  std::vector<std::string> names = absl::GetFlag(FLAGS_peers);
  if (names == std::vector<std::string>{"none"}) names.clear();
  PeerOptions options;
  const std::string coretype = absl::GetFlag(FLAGS_openblas_coretype);
  options.openblas_coretype =
      coretype == "auto" ? AutoOpenBlasCoretype() : (coretype == "detect" ? "" : coretype);
  for (const std::string& name : names) {
    auto peer = LoadPeer(name, options);
    if (!peer.ok()) {
      std::fprintf(stderr, "matmul_sweep: WARNING: peer %s not measured: %s\n", name.c_str(),
                   std::string(peer.status().message()).c_str());
      env["peers"][name] = {{"error", std::string(peer.status().message())}};
      continue;
    }
    env["peers"][name] = (*peer)->Info();
    peers.push_back(std::move(*peer));
  }
  return peers;
}

// Supported registry variants matching --variants, Sgemm itself, the models' linear call
// (transformer shapes), then the peers.
std::vector<Impl> ImplsOf(const Settings& settings,
                          const std::vector<std::unique_ptr<PeerGemm>>& peers) {
  const NameFilter filter = *CompileFilter("variants", absl::GetFlag(FLAGS_variants));
  std::vector<Impl> impls;
  for (const kernels::GemmVariant& v : kernels::GemmVariants()) {
    if (!filter.Matches(v.name)) continue;
    if (!kernels::CpuSupports(v.isa)) {
      std::fprintf(stderr, "matmul_sweep: %s needs %s, which this CPU lacks: not run\n",
                   std::string(v.name).c_str(), std::string(kernels::IsaName(v.isa)).c_str());
      continue;
    }
    impls.push_back({.variant = std::string(v.name), .impl = "kernel-lab",
                     .isa = std::string(kernels::IsaName(v.isa)), .kind = Impl::Kind::kVariant,
                     .max_threads = v.max_threads, .variant_ptr = &v});
  }
  if (filter.Matches("sgemm_auto")) {  // the variant it picks is recorded per row ("chose")
    impls.push_back({.variant = "sgemm_auto", .impl = "kernel-lab",
                     .isa = std::string(kernels::IsaName(kernels::BestIsa())),
                     .kind = Impl::Kind::kSgemm});
  }
  if (settings.shapes == "transformer" && filter.Matches("linear_packed")) {
    impls.push_back({.variant = "linear_packed", .impl = "kernel-lab",
                     .isa = std::string(kernels::IsaName(kernels::BestLinear().isa)),
                     .kind = Impl::Kind::kLinear});
  }
  for (const auto& peer : peers) {
    impls.push_back({.variant = std::string(peer->name()), .impl = std::string(peer->name()),
                     .isa = "library", .kind = Impl::Kind::kPeer, .peer = peer.get()});
  }
  return impls;
}

// The inputs of one case, first-touched on the pinned thread; C starts as NaN since beta = 0
// must not read it. W packed for linear_packed and the M = 1 read ceiling on first use.
struct CaseData {
  CaseData(const Case& cs, uint64_t seed)
      : a(cs.m * cs.k), b(cs.k * cs.n), c(cs.m * cs.n),
        args{kernels::Trans::kNo, cs.trans_b, cs.m, cs.n, cs.k, 1.0f, a.data(), cs.k,
             b.data(), cs.trans_b == kernels::Trans::kNo ? cs.n : cs.k, 0.0f, c.data(), cs.n} {
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

// The sweep over thread counts and cases; rows accumulate into the record and the tables.
class Sweep {
 public:
  Sweep(const Settings& settings, const std::vector<Impl>& impls, const harness::Topology& topo,
        const std::vector<int>& core_order, bool have_peers, double peak, harness::Json& rows)
      : settings_(settings), impls_(impls), topo_(topo), core_order_(core_order),
        have_peers_(have_peers), peak_(peak), rows_(rows),
        progress_(static_cast<int>(settings.threads.size() * settings.cases.size() * impls.size())) {}

  void RunThreads(int64_t threads);
  int wrong() const { return wrong_; }
  std::vector<SweepRow>& table_rows() { return table_rows_; }
  std::vector<ReadCeiling>& ceilings() { return ceilings_; }
  harness::Json& ceiling_json() { return ceiling_json_; }

 private:
  std::optional<std::string> SkipReason(const Impl& im, const Case& cs, int64_t threads) const;
  Implementation Declare(const Impl& im, const Case& cs, CaseData& d, int64_t threads);
  void RunCase(const Case& cs, int64_t threads, bool interleave);
  void Record(const Impl& im, const Case& cs, int64_t threads, Outcome& o, bool interleave);
  harness::PinResult PinFor(const Impl& im, int64_t threads) const;

  const Settings& settings_;
  const std::vector<Impl>& impls_;
  const harness::Topology& topo_;
  const std::vector<int>& core_order_;
  const bool have_peers_;
  const double peak_;
  harness::Json& rows_;
  Progress progress_;
  int wrong_ = 0;
  std::vector<SweepRow> table_rows_;
  std::vector<ReadCeiling> ceilings_;
  harness::Json ceiling_json_ = harness::Json::array();
};

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
  if (im.variant == "naive_ijk" && std::max({cs.m, cs.n, cs.k}) > settings_.naive_max_size) {
    return absl::StrFormat("naive above %d (--naive_max_size to include)", settings_.naive_max_size);
  }
  return std::nullopt;
}

// The row fields known before timing, the body, and the check against the fp64 reference.
Implementation Sweep::Declare(const Impl& im, const Case& cs, CaseData& d, int64_t threads) {
  const kernels::SgemmArgs& args = d.args;
  harness::Json j;
  j["name"] = absl::StrFormat("sgemm/%s/%dx%dx%d%s/t%d", im.variant, cs.m, cs.n, cs.k,
                              cs.trans_b == kernels::Trans::kYes ? "/nt" : "", threads);
  j["op"] = "sgemm";
  j["variant"] = im.variant;
  j["impl"] = im.impl;
  j["isa"] = im.isa;
  j["shape"] = {{"m", cs.m}, {"n", cs.n}, {"k", cs.k}};
  j["layout"] = cs.trans_b == kernels::Trans::kYes ? "NT" : "NN";
  j["threads"] = threads;
  if (im.kind == Impl::Kind::kLinear) {
    j["weights"] = "packed once before timing (kernels::PackLinearWeights), as a model is";
  }
  if (im.kind == Impl::Kind::kSgemm) j["chose"] = std::string(kernels::ChooseGemmVariant(args).name);
  if (im.variant_ptr != nullptr && im.variant_ptr->blocked) {
    const kernels::Blocking blk = kernels::EffectiveBlocking(im.variant_ptr->mr, im.variant_ptr->nr);
    j["blocking"] = {{"mc", blk.mc}, {"kc", blk.kc}, {"nc", blk.nc},
                     {"mr", im.variant_ptr->mr}, {"nr", im.variant_ptr->nr},
                     {"source", settings_.blocking ? "--blocking" : "derived from cpuid caches"}};
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
  CaseData d(cs, absl::GetFlag(FLAGS_seed));
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
  const bool ceiling = cs.m == 1 && cs.trans_b == kernels::Trans::kYes;
  if (ceiling) {
    decls.push_back({.call = [&d] {
      volatile float sink = kernels::LinearReadThreaded(1, d.args.n, d.args.k, d.Packed());
      (void)sink;
    }});
  }
  std::vector<Outcome> outcomes = CheckThenTime(decls, settings_.measure, interleave);
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
  std::fprintf(stderr, "%-9s %-6d %9s  %-18s %-10s %9.2f %7.1f %10.4f %12s %5d  ok (%.2f)\n",
               progress_.Next().c_str(), static_cast<int>(threads), cs.label.c_str(),
               im.variant.c_str(), im.impl.c_str(), row.gflops, pct_peak,
               o.m->summary.median * 1e-6, MadCell(o.m->summary).c_str(),
               static_cast<int>(o.m->samples_ns.size()), o.check.max_err_ratio);
  rows_.push_back(std::move(j));
  table_rows_.push_back(row);
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (std::string(kUsage) + "\n" + MeasureDefaultsHelp(kDefaults)).c_str());
  const Settings settings = ReadSettingsOrExit();
  kernels::SetBlockingOverride(settings.blocking);
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "matmul_sweep: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const harness::Topology& topo = **topology;
  harness::Json record = NewRecord(kSuite, argc, argv, topo);
  harness::Json& env = record["env"];
  const std::vector<std::unique_ptr<PeerGemm>> peers = LoadPeers(env);
  int most_threads = 1;
  for (int64_t t : settings.threads) most_threads = std::max<int>(most_threads, static_cast<int>(t));
  const std::vector<int> core_order = CoresFromFlagsOrExit(topo, most_threads);
  const harness::PinResult pin = topo.PinThisThreadToCore(core_order[0]);
  if (!pin.ok) std::fprintf(stderr, "matmul_sweep: warning: not pinned: %s\n", pin.error.c_str());
  std::fprintf(stderr, "matmul_sweep: measuring the FMA peak ...\n");
  env["peak"] = MeasureFmaPeak();
  env["peak_gflops_per_core"] = env["peak"]["gflops"];
  env["bandwidth_gbs"] = nullptr;  // measured by //perf:peak, not by this suite
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["pinning"] = {{"policy", PinningDescription() +
                                ": t threads on the first t cores of the order, the measuring "
                                "thread on them; the peak on the first"},
                     {"cores", core_order},
                     {"peak_pinned", pin.ok ? harness::Json(pin.os_cpu) : harness::Json(pin.error)}};
  const std::vector<Impl> impls = ImplsOf(settings, peers);
  if (impls.empty()) ExitWithUsageError("nothing to run: no variant matches --variants and no peer");
  record["rows"] = harness::Json::array();
  const double peak = env["peak"]["gflops"].is_number() ? env["peak"]["gflops"].get<double>() : 0;
  Sweep sweep(settings, impls, topo, core_order, !peers.empty(), peak, record["rows"]);
  std::fprintf(stderr, "%-9s %-6s %9s  %-18s %-10s %9s %7s %10s %12s %5s  %s\n", "progress",
               "thr", "shape", "variant", "impl", "GFLOP/s", "%peak", "median ms", "MAD%", "reps",
               "check");
  for (int64_t threads : settings.threads) {
    for (const auto& p : peers) p->SetThreads(static_cast<int>(threads));
    sweep.RunThreads(threads);
  }
  record["skipped"] = harness::Json::array();
  for (const SweepRow& r : sweep.table_rows()) {
    if (r.status.rfind("skipped", 0) == 0) {
      record["skipped"].push_back({{"variant", r.variant}, {"shape", r.shape},
                                   {"threads", r.threads}, {"reason", r.status.substr(9)}});
    }
  }
  if (!sweep.ceilings().empty()) record["read_ceilings"] = sweep.ceiling_json();
  const std::string md = RenderMarkdown(record, sweep.table_rows(), impls, settings, sweep.ceilings());
  const std::string summary = absl::StrFormat(
      "matmul_sweep, %d rows, %s, threads %s", record["rows"].size(),
      settings.shapes == "square" ? "sizes " + absl::StrJoin(settings.sizes, ",")
                                  : std::string("transformer shapes"),
      absl::StrJoin(settings.threads, ","));
  return PublishRun(kSuite, output, record, md, summary, sweep.wrong(), "case(s) gave WRONG results",
                    Charts(record));
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
