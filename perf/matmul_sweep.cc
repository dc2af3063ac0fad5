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
#include <filesystem>
#include <limits>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/aligned_buffer.h"
#include "harness/env.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/record_reader.h"
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
#include "perf/child_process.h"
#include "perf/measuring.h"
#include "perf/peers.h"
#include "perf/suite.h"

ABSL_FLAG(std::vector<std::string>, sizes,
          std::vector<std::string>({"64", "128", "256", "512", "1024", "2048"}),
          "Square sizes n (m = n = k), comma-separated.");
ABSL_FLAG(std::string, shapes, "square",
          "'square' (n x n x n for each of --sizes, A and B row-major), 'transformer' (M = 1, 8, "
          "64 times the K x N of the GPT-2 Small/Medium linear layers, Y = X W^T with W stored "
          "(N, K) as the models call it) or 'backward' (the same layers' backward pass over 256 "
          "rows, as training calls it: dX = dY W, NN, and dW = dY^T X, TN).");
ABSL_FLAG(std::vector<std::string>, threads, {"1"},
          "Thread counts, comma-separated; one table per count. Serial variants run only at 1.");
ABSL_FLAG(std::string, variants, ".*",
          "Regular expression (ECMAScript, whole name) selecting kernel-lab variants by name; "
          "'sgemm_auto' is the public Sgemm entry point with its shape heuristic.");
ABSL_FLAG(std::vector<std::string>, peers,
          std::vector<std::string>({"openblas", "blis", "onednn", "libxsmm"}),
          "Peer libraries measured in the same run (openblas, blis, onednn, libxsmm), or 'none'. "
          "libxsmm runs only where it uses its own JIT kernels (m n k <= 64^3, a layout it "
          "generates) on one thread; its skipped rows say why.");
ABSL_FLAG(std::string, openblas_coretype, "best",
          "OPENBLAS_CORETYPE for the OpenBLAS peer: 'best' (time, each in a child process at "
          "n = 512 and 1024 on 1 thread and checked, OpenBLAS's own choice, the environment's "
          "and the newest core type of the CPU's ISA, and keep the fastest correct; with --quick, "
          "in tests and under CI, as 'auto'), 'auto' (SkylakeX with AVX-512, "
          "Haswell with AVX2: Debian's OpenBLAS 0.3.21 falls back to generic Prescott kernels on "
          "CPUs newer than it; an OPENBLAS_CORETYPE in the environment wins), 'detect' "
          "(OpenBLAS's own choice), or a core name. What was chosen, and the trials, are recorded "
          "in env.peers.openblas.");
ABSL_FLAG(std::string, blocking, "",
          "Cache blocking MC,KC,NC for every blocked variant (default: derived from the cache "
          "sizes per micro-kernel; recorded per row).");
ABSL_FLAG(int64_t, naive_max_size, 512,
          "naive_ijk runs only up to this n (it takes minutes at 2048); the table says when it "
          "was skipped.");
ABSL_FLAG(bool, interleave, true,
          "At 1 thread, sample the implementations of a shape in rounds (one sample each per "
          "round), so drift and interference hit all alike; --nointerleave measures them one "
          "after another. Multi-thread tables with peers cannot share rounds: a threaded "
          "library's idle workers spin for up to ~0.1 s after a call (OpenBLAS, GNU OpenMP) and "
          "would take the cores from whichever implementation sampled next; they are sampled in "
          "--passes alternating blocks instead. With --peers=none they are interleaved too (the "
          "way to compare our threaded variants).");
ABSL_FLAG(int32_t, passes, 3,
          "Multi-thread tables with peers: each implementation takes its samples in this many "
          "blocks, in alternating passes (ABC ABC ...), each block after a 0.1 s pause and a "
          "fresh warm-up, so that drift cannot land on one of them; 1: one after another.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the random inputs.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "matmul_sweep";
constexpr char kUsage[] =
    "Times every registered GEMM variant, Sgemm itself (sgemm_auto) and the peer libraries "
    "(OpenBLAS, BLIS, oneDNN) on square or transformer-layer shapes, each checked against an "
    "fp64 reference first, and publishes the tables under results/.\n\n"
    "  bazel run //perf:matmul_sweep -- [--sizes=64,128,...] [--shapes=square|transformer|backward]\n"
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
  } else if (s.shapes == "backward") {
    // matmul_backward (kernels/gemm/gemm_backward.cc) on the same layers for a batch of `rows`
    // token rows (train_bench's GPT steps are 32 x 64 = 2048 rows; 256 keeps the sweep short and
    // is in the same m65+ class): dX (rows x K) = dY (rows x N) W (N x K), and
    // dW (N x K) = dY^T X with dY stored (rows, N), X (rows, K).
    const int64_t rows = quick ? 64 : 256;
    const std::pair<int64_t, int64_t> kn[] = {{128, 384}, {128, 512}, {512, 128}, {128, 256},
                                              {256, 768}, {256, 1024}, {1024, 256}, {256, 512}};
    for (const auto& [k, n] : kn) {
      s.cases.push_back({rows, k, n, kernels::Trans::kNo, absl::StrFormat("%dx%dx%d", rows, n, k)});
      s.cases.push_back({n, k, rows, kernels::Trans::kNo, absl::StrFormat("%dx%dx%d/tn", n, rows, k),
                         kernels::Trans::kYes});
    }
  } else {
    ExitWithUsageError(absl::StrFormat("--shapes: '%s' is not 'square', 'transformer' or 'backward'", s.shapes));
  }
  auto parsed_threads = ParseIntList("threads", absl::GetFlag(FLAGS_threads), 1, 256);
  if (!parsed_threads.ok()) ExitWithUsageError(std::string(parsed_threads.status().message()));
  s.threads = *parsed_threads;
  s.measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  s.naive_max_size = absl::GetFlag(FLAGS_naive_max_size);
  s.interleave = absl::GetFlag(FLAGS_interleave);
  s.passes = absl::GetFlag(FLAGS_passes);
  if (s.passes < 1 || s.passes > 100) ExitWithUsageError("--passes must be in [1, 100]");
  s.seed = absl::GetFlag(FLAGS_seed);
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


// --openblas_coretype=best. OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, so each
// candidate runs in a child sweep of this binary (OpenBLAS only, n = 512 and 1024, 1 thread, every
// result checked): "detect" (OpenBLAS's own choice), the environment's, and the newest core type
// of the CPU's ISA. Returns {"chosen": the fastest correct one ("detect" or a name; "auto" when
// none ran), "why": a sentence for the record, "trials": {candidate: {"gflops": {n: ...}, "ok",
// "corename"} or {"error"}}}.
harness::Json TryOpenBlasCoretypes() {
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  const std::string from_env = env != nullptr ? env : "";
  std::vector<std::string> candidates = {"detect"};
  for (const std::string& c : {from_env, AutoOpenBlasCoretype()}) {
    if (!c.empty() && std::find(candidates.begin(), candidates.end(), c) == candidates.end()) {
      candidates.push_back(c);
    }
  }
  const std::string tmp = std::filesystem::temp_directory_path() / absl::StrFormat("klab-coretype-%d", getpid());
  harness::Json trials = harness::Json::object();
  std::string best;
  double best_time = INFINITY;
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::filesystem::create_directories(tmp, ec);
  for (const std::string& c : candidates) {
    std::fprintf(stderr, "matmul_sweep: OpenBLAS with OPENBLAS_CORETYPE %s ...\n",
                 c == "detect" ? "unset (its own choice)" : ("= " + c).c_str());
    if (c == "detect") {
      unsetenv("OPENBLAS_CORETYPE");
    } else {
      setenv("OPENBLAS_CORETYPE", c.c_str(), 1);
    }
    const std::string out = tmp + "/" + c;
    const int status = RunChild({self, "--peers=openblas", "--variants=no-variant",
                                 "--sizes=512,1024", "--threads=1", "--openblas_coretype=detect",
                                 "--min_reps=5", "--min_time=0.05", "--out=" + out, "--format=json"},
                                out + ".log", Now() + 120);
    auto record = harness::ReadRecord(out + "/matmul_sweep.json");
    if (status != 0 || !record.ok()) {
      trials[c] = {{"error", status == 0 ? "no record" : absl::StrFormat("exit status %d (WRONG results?)", status)}};
      continue;
    }
    harness::Json gflops = harness::Json::object();
    double log_time = 0;
    bool ok = true;
    for (const harness::Json& row : (*record)["rows"]) {
      if (row.value("impl", "") != "openblas") continue;
      ok = ok && row.contains("check") && row["check"].value("ok", false) && row.contains("time_ns");
      if (!ok) break;
      gflops[absl::StrCat(row["shape"]["n"].get<int64_t>())] = row["gflops"];
      log_time += std::log(row["time_ns"]["median"].get<double>());
    }
    trials[c] = {{"ok", ok && !gflops.empty()}, {"gflops", gflops},
                 {"corename", (*record)["env"]["peers"]["openblas"].value("kernel", "?")}};
    if (ok && !gflops.empty() && log_time < best_time) best_time = log_time, best = c;
  }
  std::filesystem::remove_all(tmp, ec);
  if (env != nullptr) {
    setenv("OPENBLAS_CORETYPE", env, 1);
  } else {
    unsetenv("OPENBLAS_CORETYPE");
  }
  if (best.empty()) {
    return {{"chosen", "auto"}, {"why", "--openblas_coretype=best: no trial ran correctly; 'auto'"},
            {"trials", trials}};
  }
  std::string why = absl::StrFormat("--openblas_coretype=best: the fastest correct of %d trials "
                                    "(n = 512, 1024, 1 thread, each in its own process): %s",
                                    candidates.size(), best == "detect" ? "OpenBLAS's own choice" : best);
  if (!from_env.empty() && from_env != best) {
    why += absl::StrFormat(" (the environment's OPENBLAS_CORETYPE=%s was %s)", from_env,
                           trials[from_env].value("ok", false) ? "slower" : "wrong or failed");
  }
  return {{"chosen", best}, {"why", why}, {"trials", trials}};
}

// The peers named by --peers, loaded before this thread is pinned: libraries that start worker
// threads at load time must not inherit a one-CPU mask, or their "2-thread" runs share one core.
std::vector<std::unique_ptr<PeerGemm>> LoadPeers(harness::Json& env) {
  std::vector<std::unique_ptr<PeerGemm>> peers;
  env["peers"] = harness::Json::object();
  std::vector<std::string> names = absl::GetFlag(FLAGS_peers);
  if (names == std::vector<std::string>{"none"}) names.clear();
  PeerOptions options;
  std::string coretype = absl::GetFlag(FLAGS_openblas_coretype);
  harness::Json coretype_trials;
  if (coretype == "best") {
    // Tests and CI never change the environment's OPENBLAS_CORETYPE, and a quick run has no time
    // for the trials.
    const bool use_env = QuickFromFlags() || std::getenv("CI") != nullptr || std::getenv("TEST_TMPDIR") != nullptr;
    const bool wanted = std::find(names.begin(), names.end(), "openblas") != names.end();
    if (use_env || !wanted) {
      coretype = "auto";
    } else {
      coretype_trials = TryOpenBlasCoretypes();
      coretype = coretype_trials.value("chosen", "auto");
      unsetenv("OPENBLAS_CORETYPE");  // the environment's was one of the trials
    }
  }
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
    if (name == "openblas" && !coretype_trials.is_null()) {
      env["peers"][name]["kernel_chosen_by"] = coretype_trials["why"];
      env["peers"][name]["coretype_trials"] = coretype_trials["trials"];
    }
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

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (std::string(kUsage) + "\n" + MeasureDefaultsHelp(kDefaults)).c_str());
  Settings settings = ReadSettingsOrExit();
  const Shard shard = ShardFromFlagsOrExit();
  kernels::SetBlockingOverride(settings.blocking);
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  const harness::Topology& topo = *topology;
  harness::Json record = NewRecord(kSuite, argc, argv, topo);
  // Square and transformer runs are kept apart: results/<machine>/latest/matmul_sweep-transformer.md.
  if (settings.shapes != "square") record["mode"] = settings.shapes;
  KeepShard(shard, &settings.cases, &record);
  harness::Json& env = record["env"];
  int most_threads = 1;
  for (int64_t t : settings.threads) most_threads = std::max<int>(most_threads, static_cast<int>(t));
  const std::vector<int> core_order = CoresFromFlagsOrExit(topo, most_threads);
  const std::vector<std::unique_ptr<PeerGemm>> peers = LoadPeers(env);
  const harness::PinResult pin = PinMeasuringThread(kSuite, topo, core_order[0]);
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
                                  : settings.shapes + " shapes",
      absl::StrJoin(settings.threads, ","));
  return PublishRun(kSuite, output, record, md, summary, sweep.wrong(), "case(s) gave WRONG results",
                    Charts(record));
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
