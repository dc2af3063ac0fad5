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
#include "harness/svg_plot.h"
#include "harness/compare.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/peak/peak.h"
#include "kernels/testing/gemm_reference.h"
#include "common/cli.h"
#include "kernels/linear/linear.h"
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

// One implementation in the sweep: a registered variant or a peer.
struct Impl {
  std::string variant;  // registry name, or the peer's name
  std::string impl;     // "kernel-lab" or the peer's name
  std::string isa;      // the variant's ISA; "library" for peers
  int max_threads;
  const kernels::GemmVariant* variant_ptr = nullptr;
  PeerGemm* peer = nullptr;
  // kernels::LinearThreaded on W packed once before timing (transformer shapes only): the call
  // the models make, whose weights are packed when a model is loaded.
  bool linear = false;
  // Not a GEMM: the read ceiling of an M = 1 case (kernels::LinearReadThreaded over the packed
  // W: the same bytes, split over the threads as linear_packed splits them), sampled in the
  // same rounds as the implementations.
  bool read_ceiling = false;
};

// The read ceiling measured for one M = 1 case.
struct ReadCeiling {
  int64_t threads;
  std::string shape;
  double weight_bytes, gbs;
};

// One problem of the sweep.
struct Case {
  int64_t m, n, k;
  kernels::Trans trans_b;
  std::string label;  // "512" for squares, "1x128x384" (M x K x N) for transformer shapes
};

struct Settings {
  std::vector<int64_t> sizes;
  std::vector<Case> cases;
  std::string shapes;
  std::vector<int64_t> threads;
  harness::MeasureOptions measure;
  int64_t naive_max_size;
  std::optional<kernels::Blocking> blocking;
  bool interleave = true;
};

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

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct SweepRow {
  int64_t threads;
  std::string shape;  // Case::label
  std::string variant, impl;
  double gflops = std::nan("");
  std::string status;  // "ok", "WRONG", "skipped: why"
};

// M = 1 is a stream of the weights: each case's weight GB/s (4 N K bytes per call) for the best
// kernel-lab row and the best peer, against the read ceiling sampled in the same rounds.
std::string RenderReadCeilings(const std::vector<SweepRow>& rows,
                               const std::vector<ReadCeiling>& ceilings) {
  if (ceilings.empty()) return "";
  std::string md =
      "## M = 1: the weights streamed, against the read ceiling\n\n"
      "GB/s of W (4 N K bytes per call; the compulsory traffic) from the median time. The ceiling "
      "reads the same packed bytes with the same split over the threads and only sums them "
      "(`kernels::LinearReadThreaded`), sampled in the same rounds: the bandwidth these weights "
      "can stream at from wherever the calls leave them (L2 here for every shape).\n\n";
  std::vector<std::vector<std::string>> table;
  for (const ReadCeiling& c : ceilings) {
    const SweepRow* best_ours = nullptr;
    const SweepRow* best_peer = nullptr;
    for (const SweepRow& r : rows) {
      if (r.threads != c.threads || r.shape != c.shape || r.status != "ok") continue;
      const SweepRow*& best = r.impl == "kernel-lab" ? best_ours : best_peer;
      if (best == nullptr || r.gflops > best->gflops) best = &r;
    }
    // M = 1: 2 N K FLOP and 4 N K bytes of W per call, so GB/s of W = 2 x GFLOP/s.
    auto cells = [&](const SweepRow* r) -> std::vector<std::string> {
      if (r == nullptr) return {"—", "—", "—"};
      const double gbs = 2.0 * r->gflops;
      return {r->impl == "kernel-lab" ? r->variant : r->impl, Fmt(gbs, 1),
              Fmt(100.0 * gbs / c.gbs, 1) + "%"};
    };
    std::vector<std::string> line = {absl::StrCat(c.threads), c.shape, Fmt(c.weight_bytes / 1024, 0),
                                     Fmt(c.gbs, 1)};
    for (const auto& v : cells(best_ours)) line.push_back(v);
    for (const auto& v : cells(best_peer)) line.push_back(v);
    table.push_back(line);
  }
  md += harness::MarkdownTable({"threads", "M x K x N", "W KiB", "read ceiling GB/s", "best kernel-lab",
                                "GB/s", "% of ceiling", "best peer", "GB/s", "% of ceiling"},
                               {true, false, true, true, false, true, true, false, true, true}, table);
  return md + "\n";
}

std::string RenderMarkdown(const harness::Json& record, const std::vector<SweepRow>& rows,
                           const std::vector<Impl>& impls, const Settings& settings,
                           const std::vector<ReadCeiling>& ceilings) {
  const harness::Json& env = record["env"];
  std::string md = absl::StrFormat("# matmul_sweep — %s\n\n", record["run_id"].get<std::string>());
  md += absl::StrFormat("`%s`\n\n", record["command"].get<std::string>());
  md += absl::StrFormat("- CPU: %s, %d cores, ISA %s\n", env["cpu_model"].get<std::string>(),
                        env["cores"].get<int>(),
                        absl::StrJoin(env["isa"].get<std::vector<std::string>>(), " "));
  const harness::Json& peak = env["peak"];
  if (peak["gflops"].is_number()) {
    md += absl::StrFormat("- Peak (measured by this run, %s): %.1f GFLOP/s per core\n",
                          peak["kernel"].get<std::string>(), peak["gflops"].get<double>());
  }
  const harness::Json& counters = env["counters"];
  md += absl::StrFormat("- Hardware counters: %s\n",
                        counters["hardware"].get<bool>()
                            ? "available"
                            : "unavailable — " + counters["reason"].get<std::string>());
  for (const auto& [name, info] : env["peers"].items()) {
    if (info.contains("error")) {
      md += absl::StrFormat("- Peer %s: not loaded (%s)\n", name, info["error"].get<std::string>());
    } else {
      md += absl::StrFormat("- Peer %s: kernel `%s`\n", name, info["kernel"].get<std::string>());
    }
  }
  md += absl::StrFormat("- git %s%s, %s\n\n", env["git_commit"].get<std::string>().substr(0, 12),
                        env["git_dirty"].is_boolean() && env["git_dirty"].get<bool>() ? " (dirty)" : "",
                        env["started"].get<std::string>());
  md += settings.shapes == "square"
            ? "Square problems n x n x n, A and B row-major. "
            : "Transformer shapes M x K x N: Y (M x N) = X (M x K) W^T with W stored (N, K), the "
              "layout of a linear layer; `linear_packed` is the call the models make "
              "(kernels::LinearThreaded), on W packed once before timing as a model packs it at load, "
              "the other rows take W as it is stored. ";
  md += "GFLOP/s from the median time (2MNK FLOP per call); `—` not run (reason below the "
        "table); WRONG failed the check against the fp64 reference and was not timed.\n\n";

  for (int64_t t : settings.threads) {
    md += absl::StrFormat("## %d thread%s — GFLOP/s\n\n", t, t == 1 ? "" : "s");
    std::vector<std::string> header = {settings.shapes == "square" ? "n" : "M x K x N"};
    std::vector<bool> numeric = {true};
    std::vector<const Impl*> cols;
    std::vector<std::string> serial;
    for (const Impl& im : impls) {
      if (im.max_threads < t) {
        serial.push_back(im.variant);
        continue;
      }
      cols.push_back(&im);
      header.push_back(im.impl == "kernel-lab" ? im.variant : im.impl);
      numeric.push_back(true);
    }
    header.push_back("best kernel-lab / best peer");
    numeric.push_back(true);
    std::vector<std::vector<std::string>> table;
    for (const Case& cs : settings.cases) {
      std::vector<std::string> line = {cs.label};
      double best_ours = 0, best_peer = 0;
      for (const Impl* im : cols) {
        std::string cell = "—";
        for (const SweepRow& r : rows) {
          if (r.threads != t || r.shape != cs.label || r.variant != im->variant || r.impl != im->impl) continue;
          if (r.status == "ok") {
            cell = Fmt(r.gflops, r.gflops < 10 ? 2 : 1);
            (im->impl == "kernel-lab" ? best_ours : best_peer) =
                std::max(im->impl == "kernel-lab" ? best_ours : best_peer, r.gflops);
          } else if (r.status == "WRONG") {
            cell = "WRONG";
          }
        }
        line.push_back(cell);
      }
      line.push_back(best_ours > 0 && best_peer > 0 ? Fmt(best_ours / best_peer, 3) + "x" : "—");
      table.push_back(line);
    }
    md += harness::MarkdownTable(header, numeric, table) + "\n";
    if (!serial.empty()) {
      md += absl::StrFormat("Serial variants, run at 1 thread only: %s.\n\n",
                            absl::StrJoin(serial, ", "));
    }
  }

  md += RenderReadCeilings(rows, ceilings);

  std::vector<std::vector<std::string>> skipped;
  for (const SweepRow& r : rows) {
    if (r.status.rfind("skipped", 0) == 0 && r.status != "skipped: serial variant") {
      skipped.push_back({absl::StrCat(r.threads), r.shape, r.variant, r.status.substr(9)});
    }
  }
  if (!skipped.empty()) {
    md += "### Not run\n\n" +
          harness::MarkdownTable({"threads", "shape", "variant", "why"}, {true, false, false, false},
                                 skipped) +
          "\n";
  }

  md += "## Every row\n\n";
  std::vector<std::vector<std::string>> detail;
  for (const harness::Json& r : record["rows"]) {
    const harness::Json& t = r["time_ns"];
    detail.push_back(
        {r["name"].get<std::string>(), r["impl"].get<std::string>(),
         Fmt(r["gflops"].get<double>(), 2),
         r["pct_peak"].is_number() ? Fmt(r["pct_peak"].get<double>(), 1) : "—",
         Fmt(t["median"].get<double>() * 1e-6, 4),
         Fmt(100.0 * t["mad"].get<double>() / t["median"].get<double>(), 1) +
             (r.value("unstable", false) ? " unstable" : ""),
         absl::StrCat(r["reps"].get<int>()),
         r["check"]["ok"].get<bool>()
             ? absl::StrFormat("ok (%.2f)", r["check"]["max_err_ratio"].get<double>())
             : "WRONG",
         r["alloc"]["bytes"].is_number()
             ? absl::StrFormat("%.0f", r["alloc"]["bytes"].get<double>())
             : "not counted"});
  }
  md += harness::MarkdownTable({"case", "impl", "GFLOP/s", "% peak", "median ms", "MAD %", "reps",
                                "check (max err / bound)", "alloc B/call"},
                               {false, false, true, true, true, true, true, false, true}, detail);
  return md;
}

// The run's charts: GFLOP/s vs n per variant and peer for each thread count (square shapes, the
// measured peak x threads as the reference line), and a roofline of every square case under the
// peak and the bandwidths of the newest //perf:peak run on this host, when there is one.
std::vector<std::pair<std::string, std::string>> Charts(const harness::Json& record) {
  std::vector<std::pair<std::string, std::string>> files;
  const harness::Json& env = record["env"];
  const double peak = env.contains("peak") && env["peak"]["gflops"].is_number()
                          ? env["peak"]["gflops"].get<double>()
                          : 0;
  std::map<int64_t, std::map<std::string, harness::PlotSeries>> by_threads;
  std::map<std::string, harness::PlotSeries> roofline;
  for (const harness::Json& r : record["rows"]) {
    if (!r.contains("shape") || !r["gflops"].is_number()) continue;
    const harness::Json& sh = r["shape"];
    if (!(sh["m"] == sh["n"] && sh["n"] == sh["k"])) continue;
    const int64_t threads = r["threads"].get<int64_t>();
    const std::string variant = r["variant"].get<std::string>();
    harness::PlotSeries& s = by_threads[threads][variant];
    s.name = variant;
    s.dashed = r["impl"].get<std::string>() != "kernel-lab";
    s.points.push_back({sh["n"].get<double>(), r["gflops"].get<double>()});
    if (threads == 1 && r["bytes"].is_number() && r["bytes"].get<double>() > 0) {
      harness::PlotSeries& p = roofline[variant];
      p.name = variant;
      p.points.push_back({r["flops"].get<double>() / r["bytes"].get<double>(),
                          r["gflops"].get<double>()});
    }
  }
  for (const auto& [threads, series_map] : by_threads) {
    std::vector<harness::PlotSeries> series;
    for (const auto& [name, s] : series_map) series.push_back(s);
    std::vector<harness::ReferenceLine> refs;
    if (peak > 0) {
      refs.push_back({absl::StrFormat("measured peak x %d = %.0f GFLOP/s", threads, peak * threads),
                      peak * threads});
    }
    files.push_back(
        {absl::StrFormat("matmul_sweep_gflops_t%d.svg", threads),
         harness::LineChartSvg({absl::StrFormat("sgemm, square n x n x n, %d thread%s (dashed: "
                                                "peer libraries)",
                                                threads, threads > 1 ? "s" : ""),
                                "n", "GFLOP/s", true, false},
                               series, refs)});
  }
  if (peak > 0 && !roofline.empty()) {
    // Bandwidth ceilings from the newest //perf:peak run on the same kind of machine (CPU
    // model, cores, caches, ISA), named in the title; none when there is no such run.
    std::vector<std::pair<std::string, double>> ceilings;
    std::string source = "no //perf:peak run on this machine: peak only";
    auto root = harness::DefaultResultsRoot();
    if (root.ok()) {
      const std::vector<std::string> runs = harness::ListRuns(*root, "peak");
      for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
        auto peak_run = harness::ReadRecord(*root + "/runs/" + *it + "/peak.json");
        if (!peak_run.ok() || !harness::SameMachine((*peak_run)["env"], env)) continue;
        const harness::Json& bw = (*peak_run)["env"]["bandwidth_gbs"];
        for (const char* level : {"l1", "l2", "l3", "dram"}) {
          if (bw.contains(level) && bw[level].contains("read")) {
            ceilings.push_back({absl::StrCat(level, " read"), bw[level]["read"].get<double>()});
          }
        }
        source = "bandwidths from peak run " + *it;
        break;
      }
    }
    std::vector<harness::PlotSeries> points;
    for (const auto& [name, p] : roofline) points.push_back(p);
    files.push_back(
        {"matmul_sweep_roofline.svg",
         harness::RooflineSvg(absl::StrFormat("sgemm roofline, 1 thread, %s (%s)",
                                              env.value("cpu_model", "unknown CPU"), source),
                              peak, ceilings, points)});
  }
  return files;
}

int Run(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (std::string(kUsage) + "\n" + MeasureDefaultsHelp(kDefaults)).c_str());
  const Settings settings = ReadSettingsOrExit();
  kernels::SetBlockingOverride(settings.blocking);
  const NameFilter variant_filter = *CompileFilter("variants", absl::GetFlag(FLAGS_variants));

  const harness::OutputOptions output =
      OutputOptionsFromFlagsOrExit();

  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "matmul_sweep: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const harness::Topology& topo = **topology;

  harness::Json record = NewRecord(kSuite, argc, argv, topo);
  harness::Json env = record["env"];  // completed below, stored back before the rows

  // Peers are loaded (below) before this thread is pinned: libraries that start worker threads at
  // load time must not inherit a one-CPU mask, or their "2-thread" runs share one core.
  std::vector<std::unique_ptr<PeerGemm>> peers;
  env["peers"] = harness::Json::object();
  std::vector<std::string> peer_names = absl::GetFlag(FLAGS_peers);
  if (peer_names == std::vector<std::string>{"none"}) peer_names.clear();
  PeerOptions peer_options;
  const std::string coretype = absl::GetFlag(FLAGS_openblas_coretype);
  peer_options.openblas_coretype =
      coretype == "auto" ? AutoOpenBlasCoretype() : (coretype == "detect" ? "" : coretype);
  for (const std::string& name : peer_names) {
    auto peer = LoadPeer(name, peer_options);
    if (!peer.ok()) {
      std::fprintf(stderr, "matmul_sweep: WARNING: peer %s not measured: %s\n", name.c_str(),
                   std::string(peer.status().message()).c_str());
      env["peers"][name] = {{"error", std::string(peer.status().message())}};
      continue;
    }
    env["peers"][name] = (*peer)->Info();
    peers.push_back(std::move(*peer));
  }

  int most_threads = 1;
  for (int64_t t : settings.threads) most_threads = std::max<int>(most_threads, static_cast<int>(t));
  const std::vector<int> core_order = CoresFromFlagsOrExit(topo, most_threads);
  const harness::PinResult pin = topo.PinThisThreadToCore(core_order[0]);
  if (!pin.ok) std::fprintf(stderr, "matmul_sweep: warning: not pinned: %s\n", pin.error.c_str());
  std::fprintf(stderr, "matmul_sweep: measuring the FMA peak ...\n");
  env["peak"] = MeasureFmaPeak();
  env["peak_gflops_per_core"] = env["peak"]["gflops"];
  env["bandwidth_gbs"] = nullptr;  // measured by //perf:peak (harness issue), not by this suite
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["pinning"] = {{"policy", PinningDescription() +
                                ": t threads on the first t cores of the order, the measuring "
                                "thread on them; the peak on the first"},
                     {"cores", core_order},
                     {"peak_pinned", pin.ok ? harness::Json(pin.os_cpu) : harness::Json(pin.error)}};

  // Implementations: supported registry variants matching --variants, then the peers.
  std::vector<Impl> impls;
  for (const kernels::GemmVariant& v : kernels::GemmVariants()) {
    if (!variant_filter.Matches(v.name)) continue;
    if (!kernels::CpuSupports(v.isa)) {
      std::fprintf(stderr, "matmul_sweep: %s needs %s, which this CPU lacks: not run\n",
                   std::string(v.name).c_str(), std::string(kernels::IsaName(v.isa)).c_str());
      continue;
    }
    impls.push_back({std::string(v.name), "kernel-lab", std::string(kernels::IsaName(v.isa)),
                     v.max_threads, &v, nullptr});
  }
  // Sgemm itself: the variant its shape heuristic picks (recorded per row as "chose").
  if (variant_filter.Matches("sgemm_auto")) {
    impls.push_back({"sgemm_auto", "kernel-lab", std::string(kernels::IsaName(kernels::BestIsa())),
                     1 << 20, nullptr, nullptr});
  }
  if (settings.shapes == "transformer" && variant_filter.Matches("linear_packed")) {
    impls.push_back({"linear_packed", "kernel-lab", std::string(kernels::IsaName(kernels::BestLinear().isa)),
                     1 << 20, nullptr, nullptr, /*linear=*/true});
  }
  for (const auto& peer : peers) {
    impls.push_back({std::string(peer->name()), std::string(peer->name()), "library", 1 << 20,
                     nullptr, peer.get()});
  }
  if (impls.empty()) ExitWithUsageError("nothing to run: no variant matches --variants and no peer");
  record["env"] = env;
  record["rows"] = harness::Json::array();

  const double peak = env["peak"]["gflops"].is_number() ? env["peak"]["gflops"].get<double>() : 0;
  std::vector<SweepRow> rows;
  std::vector<ReadCeiling> ceilings;
  harness::Json read_ceilings = harness::Json::array();  // into record at the end: record's
                                                          // members are referenced until then
  const Impl ceiling_impl{"read_ceiling", "ceiling", std::string(kernels::IsaName(kernels::BestLinear().isa)),
                          1 << 20, nullptr, nullptr, false, /*read_ceiling=*/true};
  const int total = static_cast<int>(settings.threads.size() * settings.cases.size() * impls.size());
  int done = 0, wrong = 0;
  std::fprintf(stderr, "%-9s %-6s %9s  %-18s %-10s %9s %7s %10s %6s %5s  %s\n", "progress",
               "thr", "shape", "variant", "impl", "GFLOP/s", "%peak", "median ms", "MAD%", "reps",
               "check");
  for (int64_t threads : settings.threads) {
    // Our own threaded variants can share rounds: our pool's workers wait for the next call on
    // their own cores. A threaded peer's cannot (see --interleave).
    const bool interleave = settings.interleave && (threads == 1 || peers.empty());
    for (auto& p : peers) p->SetThreads(static_cast<int>(threads));
    // Our threaded variants: a pool of `threads` workers on the same cores, worker i on core i.
    {
      std::vector<int> cpus;
      for (int core : std::vector<int>(core_order.begin(), core_order.begin() + threads)) {
        cpus.push_back(topo.OsCpuOfCore(core));
      }
      kernels::SetGemmThreads(static_cast<int>(threads), cpus);
    }
    if (threads > topo.cores()) {
      std::fprintf(stderr, "matmul_sweep: warning: %d threads on %d cores (oversubscribed)\n",
                   static_cast<int>(threads), topo.cores());
    }
    // Peers: the measuring thread is bound to all t cores, and the worker threads a library
    // creates from it inherit that set. Ours: the measuring thread is participant 0 of the GEMM
    // pool, bound to core 0, and worker i is bound to core i.
    const std::vector<int> cores(core_order.begin(), core_order.begin() + threads);
    auto pin_for = [&](const Impl& im) {
      const harness::PinResult r =
          im.peer != nullptr ? topo.PinThisThreadToCores(cores) : topo.PinThisThreadToCore(cores[0]);
      if (!r.ok) {
        std::fprintf(stderr, "matmul_sweep: warning: not pinned for %s on %d threads: %s\n",
                     im.variant.c_str(), static_cast<int>(threads), r.error.c_str());
      }
      return r;
    };
    for (const Case& cs : settings.cases) {
      const int64_t m = cs.m, n = cs.n, k = cs.k;
      // Inputs first-touched here, on the pinned thread; C0 is NaN since beta = 0 must not read it.
      harness::AlignedBuffer a(m * k), b(k * n), c(m * n);
      FillRandom(a, absl::GetFlag(FLAGS_seed) * 3 + n + 7 * m);
      FillRandom(b, absl::GetFlag(FLAGS_seed) * 3 + n + 7 * m + 1);
      std::fill(c.data(), c.data() + c.size(), std::numeric_limits<float>::quiet_NaN());
      const int64_t ldb = cs.trans_b == kernels::Trans::kNo ? n : k;
      kernels::SgemmArgs args{kernels::Trans::kNo, cs.trans_b, m, n, k, 1.0f, a.data(), k,
                              b.data(), ldb, 0.0f, c.data(), n};
      std::unique_ptr<kernels::testing::GemmReference> reference;
      // W packed for linear_packed and the M = 1 read ceiling (transformer shapes store W as
      // (N, K)), once per case, outside the timing.
      std::unique_ptr<harness::AlignedBuffer> packed_w;
      auto packed_weights = [&]() -> const float* {
        if (packed_w == nullptr) {
          packed_w = std::make_unique<harness::AlignedBuffer>(kernels::PackedLinearSize(n, k));
          kernels::PackLinearWeights(n, k, b.data(), k, packed_w->data());
        }
        return packed_w->data();
      };
      const double flops = 2.0 * m * n * k;
      const double bytes = 4.0 * (m * k + k * n + m * n);  // compulsory: read A and B, write C
      // Phase 1: skip rules and the correctness check of every implementation.
      struct Pending {
        const Impl* im;
        harness::Json row_json;
        SweepRow row;
        std::function<void()> call;
        double max_err_ratio;
      };
      std::vector<Pending> pending;
      for (const Impl& im : impls) {
        SweepRow row{threads, cs.label, im.variant, im.impl, std::nan(""), ""};
        if (im.max_threads < threads) {
          row.status = "skipped: serial variant";
          rows.push_back(row);
          ++done;
          continue;
        }
        if (im.variant == "naive_ijk" && std::max({m, n, k}) > settings.naive_max_size) {
          row.status = absl::StrFormat("skipped: naive above %d (--naive_max_size to include)",
                                       settings.naive_max_size);
          rows.push_back(row);
          ++done;
          continue;
        }
        if (reference == nullptr) {
          if (m * n * k >= (int64_t{1} << 30)) {
            std::fprintf(stderr, "          computing the fp64 reference for %s ...\n", cs.label.c_str());
          }
          reference = std::make_unique<kernels::testing::GemmReference>(args);
        }
        const Impl* imp = &im;
        const float* packed = im.linear ? packed_weights() : nullptr;
        std::function<void()> call = [imp, &args, packed] {
          if (imp->linear) {
            kernels::LinearThreaded(args.m, args.n, args.k, args.a, args.lda, packed, nullptr,
                                    args.c, args.ldc, /*accumulate=*/false);
          } else if (imp->peer != nullptr) {
            imp->peer->Sgemm(args);
          } else if (imp->variant_ptr != nullptr) {
            imp->variant_ptr->fn(args);
          } else {
            (void)kernels::Sgemm(args.trans_a, args.trans_b, args.m, args.n, args.k, args.alpha,
                                 args.a, args.lda, args.b, args.ldb, args.beta, args.c, args.ldc);
          }
        };
        const harness::PinResult tpin = pin_for(im);
        std::fill(c.data(), c.data() + c.size(), std::numeric_limits<float>::quiet_NaN());
        call();
        const kernels::testing::GemmCheck check = reference->Check(c.data(), n);
        harness::Json j;
        j["name"] = absl::StrFormat("sgemm/%s/%dx%dx%d%s/t%d", im.variant, m, n, k,
                                    cs.trans_b == kernels::Trans::kYes ? "/nt" : "", threads);
        j["op"] = "sgemm";
        j["variant"] = im.variant;
        j["impl"] = im.impl;
        j["isa"] = im.isa;
        j["shape"] = {{"m", m}, {"n", n}, {"k", k}};
        j["layout"] = cs.trans_b == kernels::Trans::kYes ? "NT" : "NN";
        j["threads"] = threads;
        if (im.linear) j["weights"] = "packed once before timing (kernels::PackLinearWeights), as a model is";
        if (im.variant == "sgemm_auto") j["chose"] = std::string(kernels::ChooseGemmVariant(args).name);
        if (im.variant_ptr != nullptr && im.variant_ptr->blocked) {
          const kernels::Blocking blk =
              kernels::EffectiveBlocking(im.variant_ptr->mr, im.variant_ptr->nr);
          j["blocking"] = {{"mc", blk.mc}, {"kc", blk.kc}, {"nc", blk.nc},
                           {"mr", im.variant_ptr->mr}, {"nr", im.variant_ptr->nr},
                           {"source", settings.blocking ? "--blocking" : "derived from cpuid caches"}};
        }
        if (!tpin.ok) {
          j["pinned"] = {{"error", tpin.error}};
        } else if (im.peer == nullptr && im.max_threads > 1) {
          j["pinned"] = kernels::GemmThreadPool().cpus();  // caller on core 0, worker i on core i
        } else {
          j["pinned"] = tpin.os_cpus;
        }
        j["flops"] = flops;
        j["bytes"] = bytes;
        if (!check.ok) {
          ++wrong;
          ++done;
          row.status = "WRONG";
          std::fprintf(stderr, "[%d/%d] %-6d %9s  %-18s %-10s  WRONG, not timed: %s\n", done, total,
                       static_cast<int>(threads), cs.label.c_str(), im.variant.c_str(),
                       im.impl.c_str(), check.Describe().c_str());
          j["check"] = {{"ok", false}, {"max_err_ratio", check.max_err_ratio},
                        {"detail", check.Describe()}};
          record["rows"].push_back(j);
          rows.push_back(row);
          continue;
        }
        pending.push_back({&im, std::move(j), row, std::move(call), check.max_err_ratio});
      }
      if (m == 1 && cs.trans_b == kernels::Trans::kYes) {
        const float* packed = packed_weights();
        pending.push_back({&ceiling_impl, harness::Json(),
                           SweepRow{threads, cs.label, "read_ceiling", "ceiling", std::nan(""), ""},
                           [packed, n, k] {
                             volatile float sink = kernels::LinearReadThreaded(1, n, k, packed);
                             (void)sink;
                           },
                           0.0});
      }

      // Phase 2: warm up each, then take samples in rounds (one sample of every unfinished
      // implementation per round), so interference on this shared machine lands on all alike.
      // Peers run pinned to all the row's cores, ours from the first (the pool pins the rest).
      std::vector<std::unique_ptr<harness::Sampler>> samplers;
      std::vector<harness::RoundEntry> entries;
      for (Pending& pd : pending) {
        samplers.push_back(std::make_unique<harness::Sampler>(pd.call, settings.measure));
        const Impl* im = pd.im;
        entries.push_back({samplers.back().get(), im->peer != nullptr ? 1 : 0,
                           [&pin_for, im] { pin_for(*im); }});
      }
      const std::vector<harness::Measurement> measured =
          harness::SampleInRounds(entries, interleave);

      // Phase 3: rows.
      for (size_t i = 0; i < pending.size(); ++i) {
        Pending& pd = pending[i];
        const harness::Measurement& meas = measured[i];
        if (pd.im->read_ceiling) {
          const double weight_bytes = 4.0 * n * k;
          const double gbs = weight_bytes / meas.summary.median;
          ceilings.push_back({threads, cs.label, weight_bytes, gbs});
          harness::Json cj = {{"threads", threads}, {"shape", {{"m", m}, {"n", n}, {"k", k}}},
                              {"kernel", "kernels::LinearReadThreaded"}, {"bytes", weight_bytes},
                              {"gbs", gbs}};
          const harness::Json timing = harness::TimingJson(meas);
          for (const auto& [key, v] : timing.items()) cj[key] = v;
          read_ceilings.push_back(cj);
          std::fprintf(stderr, "          %-6d %9s  read ceiling %.1f GB/s (%.0f KiB of W)\n",
                       static_cast<int>(threads), cs.label.c_str(), gbs, weight_bytes / 1024);
          continue;
        }
        harness::Json& j = pd.row_json;
        const harness::Json timing = harness::TimingJson(meas);
        for (const auto& [key, v] : timing.items()) j[key] = v;
        const double seconds = meas.summary.median * 1e-9;
        pd.row.gflops = flops / seconds * 1e-9;
        pd.row.status = "ok";
        j["gflops"] = pd.row.gflops;
        j["pct_peak"] = peak > 0 ? harness::Json(100.0 * pd.row.gflops / (peak * threads)) : harness::Json(nullptr);
        j["gbs"] = bytes / seconds * 1e-9;
        j["check"] = {{"ok", true}, {"max_err_ratio", pd.max_err_ratio}};
        j["interleaved"] = interleave;
        record["rows"].push_back(j);
        rows.push_back(pd.row);
        ++done;
        const double mad_pct = 100.0 * meas.summary.mad / meas.summary.median;
        const std::string progress = absl::StrFormat("[%d/%d]", done, total);
        std::fprintf(stderr, "%-9s %-6d %9s  %-18s %-10s %9.2f %7.1f %10.4f %6.1f %5d  ok (%.2f)%s\n",
                     progress.c_str(), static_cast<int>(threads), cs.label.c_str(),
                     pd.im->variant.c_str(), pd.im->impl.c_str(), pd.row.gflops,
                     peak > 0 ? 100.0 * pd.row.gflops / (peak * threads) : 0.0,
                     meas.summary.median * 1e-6, mad_pct, static_cast<int>(meas.samples_ns.size()),
                     pd.max_err_ratio,
                     harness::IsUnstable(meas.summary) ? "  unstable (MAD > 5%)" : "");
      }
    }
  }
  record["skipped"] = harness::Json::array();
  for (const SweepRow& r : rows) {
    if (r.status.rfind("skipped", 0) == 0) {
      record["skipped"].push_back({{"variant", r.variant}, {"shape", r.shape}, {"threads", r.threads},
                                   {"reason", r.status.substr(9)}});
    }
  }

  if (!ceilings.empty()) record["read_ceilings"] = read_ceilings;
  const std::string md = RenderMarkdown(record, rows, impls, settings, ceilings);
  const std::string summary = absl::StrFormat(
      "matmul_sweep, %d rows, %s, threads %s", record["rows"].size(),
      settings.shapes == "square" ? "sizes " + absl::StrJoin(settings.sizes, ",")
                                  : std::string("transformer shapes"),
      absl::StrJoin(settings.threads, ","));
  return PublishRun(kSuite, output, record, md, summary, wrong, "case(s) gave WRONG results",
                    Charts(record));
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Run(argc, argv); }
