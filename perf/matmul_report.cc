// The report of //perf:matmul_sweep: its markdown tables and its charts.
#include "perf/matmul_sweep.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/compare.h"
#include "kernels/cpu/cpu.h"
#include "harness/layout.h"
#include "harness/env.h"
#include "harness/record_reader.h"
#include "harness/results.h"
#include "harness/svg_plot.h"
#include "perf/matmul_sweep.h"
#include "perf/measuring.h"

namespace klab::perf {
namespace {

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

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

// What may hold a peer back on this CPU, or "": a generic kernel (BLIS `generic`, OpenBLAS's
// pre-AVX cores), AVX2 kernels on an AVX-512 CPU, and whether the environment forced it. Said in
// the header so that "faster than the peer" is read with it.
std::string PeerHandicap(const std::string& name, const harness::Json& info) {
  const std::string kernel = info.value("kernel", "");
  std::string lower;
  for (char c : kernel) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool avx512 = kernels::CpuSupports(kernels::Isa::kAvx512);
  std::string why;
  if (lower == "generic" || lower == "prescott" || lower == "core2" || lower == "nehalem" ||
      lower == "katmai" || lower == "atom") {
    why = "a generic kernel (`" + kernel + "`): it does not know this CPU";
  } else if (avx512 && (lower == "haswell" || lower == "zen" || lower == "zen2" ||
                        lower == "zen3" || lower == "avx2" || lower == "sandybridge")) {
    why = "AVX2 kernels (`" + kernel + "`) on an AVX-512 CPU";
  }
  if (why.empty()) return "";
  const std::string chosen = info.value("kernel_chosen_by", "");
  if (name == "openblas" && chosen.find("from the environment") != std::string::npos) {
    why += "; the environment forced it (with OPENBLAS_CORETYPE unset the sweep sets `" +
           AutoOpenBlasCoretype() + "`, checked like every peer)";
  }
  return why;
}

// --openblas_coretype=best's trials, one line: each core type's GFLOP/s by n, and the choice.
std::string CoretypeTrialsLine(const harness::Json& info) {
  std::vector<std::string> parts;
  for (const auto& [name, t] : info["coretype_trials"].items()) {
    std::string cell = name == "detect" ? "its own choice" : name;
    if (t.contains("error")) {
      cell += ": " + t["error"].get<std::string>();
    } else {
      cell += absl::StrFormat(" (`%s`)", t.value("corename", "?"));
      std::vector<std::string> g;
      for (const auto& [n, v] : t["gflops"].items()) g.push_back(absl::StrFormat("%.0f at %s", v.get<double>(), n));
      cell += ": " + (t.value("ok", false) ? absl::StrJoin(g, ", ") + " GFLOP/s" : std::string("WRONG"));
    }
    parts.push_back(cell);
  }
  return absl::StrFormat("  - OpenBLAS core types tried, each in its own process, 1 thread: %s. %s\n",
                         absl::StrJoin(parts, "; "), info.value("kernel_chosen_by", ""));
}

// The run's header: machine, peak, counters, peers, commit, and what the numbers mean.
std::string Header(const harness::Json& record, const Settings& settings) {
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
  if (env.contains("tuning")) {
    md += absl::StrFormat("- Dispatcher (`sgemm_auto`): %s\n", env["tuning"].get<std::string>());
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
      const std::string handicap = PeerHandicap(name, info);
      md += absl::StrFormat("- Peer %s: kernel `%s`%s\n", name, info.value("kernel", "?"),
                            handicap.empty() ? "" : " — **" + handicap + "**");
      if (info.contains("coretype_trials")) md += CoretypeTrialsLine(info);
    }
  }
  md += absl::StrFormat("- git %s%s, %s\n\n", env["git_commit"].get<std::string>().substr(0, 12),
                        env["git_dirty"].is_boolean() && env["git_dirty"].get<bool>() ? " (dirty)" : "",
                        env["started"].get<std::string>());
  md += settings.shapes == "square" ? "Square problems n x n x n, A and B row-major. "
         : settings.shapes == "backward"
             ? "Backward shapes M x K x N of the same linear layers as training calls them "
               "(kernels::MatmulBackward): dX = dY W (NN, M = 256 token rows) and dW = dY^T X "
               "(`/tn`: A stored transposed, K = 256 rows). "
             : "Transformer shapes M x K x N: Y (M x N) = X (M x K) W^T with W stored (N, K), the "
              "layout of a linear layer; `linear_packed` is the call the models make "
              "(kernels::LinearThreaded), on W packed once before timing as a model packs it at load, "
              "the other rows take W as it is stored. ";
  md += "GFLOP/s from the median time (2MNK FLOP per call); `—` not run (reason below the "
        "table); WRONG failed the check against the fp64 reference and was not timed.\n\n";

  return md;
}

// One GFLOP/s table per thread count: a row per case, a column per implementation.
std::string ThreadTables(const std::vector<SweepRow>& rows, const std::vector<Impl>& impls,
                         const Settings& settings) {
  std::string md;
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

  return md;
}

std::string NotRun(const std::vector<SweepRow>& rows) {
  std::string md;
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

  return md;
}

std::string EveryRow(const harness::Json& record) {
  std::string md = "## Every row\n\n";
  std::vector<std::vector<std::string>> detail;
  for (const harness::Json& r : record["rows"]) {
    if (!r.contains("time_ns")) {  // failed its check: not timed
      detail.push_back({r["name"].get<std::string>(), r["impl"].get<std::string>(), "—", "—", "—",
                        "—", "0", "WRONG: " + r["check"].value("detail", std::string()), "—"});
      continue;
    }
    const harness::Json& t = r["time_ns"];
    detail.push_back(
        {r["name"].get<std::string>(), r["impl"].get<std::string>(),
         Fmt(r["gflops"].get<double>(), 2),
         r["pct_peak"].is_number() ? Fmt(r["pct_peak"].get<double>(), 1) : "—",
         Fmt(t["median"].get<double>() * 1e-6, 4),
         MadCell({.median = t["median"].get<double>(), .mad = t["mad"].get<double>()}),
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

}  // namespace

std::string RenderMarkdown(const harness::Json& record, const std::vector<SweepRow>& rows,
                           const std::vector<Impl>& impls, const Settings& settings,
                           const std::vector<ReadCeiling>& ceilings) {
  return Header(record, settings) + ThreadTables(rows, impls, settings) +
         RenderReadCeilings(rows, ceilings) + NotRun(rows) + EveryRow(record);
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
         harness::LineChartSvg({absl::StrFormat("sgemm, square n x n x n, %d thread%s, %s (%s) "
                                                "(dashed: peer libraries)",
                                                threads, threads > 1 ? "s" : "",
                                                env.value("cpu_model", "unknown CPU"),
                                                env.value("machine", "?")),
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
        auto peak_run =
            harness::ReadRecord(harness::RecordPath(harness::RunDir(*root, *it), "peak"));
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

}  // namespace klab::perf
