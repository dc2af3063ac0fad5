// //perf:activation_sweep — every elementwise/normalisation op of kernels/ (GELU tanh and erf,
// SiLU, SwiGLU, softmax, LayerNorm, RMSNorm, add, broadcast add) and every variant of it, beside
// libmvec and plain scalar C++ (`std`), checked against double before timing, then timed with
// the implementations of a case sampled in rounds; ns/element, GB/s and % of the bandwidth of
// the same stream mix measured on the same working set in the same run. Published to results/.
// The cases (and the op table) are in activation_cases.cc.
//
//   bazel run //perf:activation_sweep -- --sizes=1000,1000000 --ops='gelu.*|softmax'
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cli.h"
#include "harness/aligned_buffer.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "perf/activation_cases.h"
#include "perf/libmvec_peer.h"
#include "perf/measuring.h"
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
using Table = std::vector<std::vector<std::string>>;

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct Settings {
  ActivationSizes sizes;
  NameFilter ops;
  harness::MeasureOptions measure;
};

Settings ReadSettingsOrExit() {
  std::vector<std::string> size_items = absl::GetFlag(FLAGS_sizes);
  std::vector<std::string> cols_items = absl::GetFlag(FLAGS_softmax_cols);
  if (QuickFromFlags()) {
    size_items = {"1000", "10000"};
    cols_items = {"256"};
  }
  auto sizes = ParseIntList("sizes", size_items, 1, int64_t{1} << 28);
  if (!sizes.ok()) ExitWithUsageError(std::string(sizes.status().message()));
  auto softmax_cols = ParseIntList("softmax_cols", cols_items, 1, int64_t{1} << 20);
  if (!softmax_cols.ok()) ExitWithUsageError(std::string(softmax_cols.status().message()));
  auto ops = CompileFilter("ops", absl::GetFlag(FLAGS_ops));
  if (!ops.ok()) ExitWithUsageError(std::string(ops.status().message()));
  return {{*sizes, *softmax_cols}, std::move(*ops), MeasureOptionsFromFlagsOrExit(kDefaults)};
}

// Bandwidth ceilings per stream mix and working-set size, measured once each, best sample: the
// triad (3 arrays of bytes / 12 floats) for two inputs, the copy (2 arrays of bytes / 8) for
// one. A one-input op cannot reach the triad's GB/s in L2: a copy measures ~80% of it there (the
// store's read-for-ownership is a larger share of its traffic).
class Ceilings {
 public:
  explicit Ceilings(const harness::MeasureOptions& measure) : measure_(measure) {}
  double For(double bytes, int inputs) {
    const size_t per = static_cast<size_t>(4 * (inputs + 1));
    const size_t n = std::max<size_t>(64, (static_cast<size_t>(bytes) / per + 63) / 64 * 64);
    const std::pair<int, int64_t> key{inputs, static_cast<int64_t>(per * n)};
    if (auto it = gbs_.find(key); it != gbs_.end()) return it->second;
    return gbs_[key] = MeasureBandwidth(inputs == 2 ? Stream::kTriad : Stream::kCopy, n, 1,
                                        nullptr, 1, measure_).gbs;
  }
  Table Rows() const {
    Table rows;
    for (const auto& [key, gbs] : gbs_) {
      rows.push_back({key.first == 2 ? "triad" : "copy",
                      absl::StrFormat("%.1f KiB", key.second / 1024.0), Fmt(gbs, 1)});
    }
    return rows;
  }

 private:
  harness::MeasureOptions measure_;
  std::map<std::pair<int, int64_t>, double> gbs_;  // (inputs, bytes) -> GB/s
};

// What every case shares: where rows go and how far the run is.
struct Run {
  Json& rows;
  Table& table;
  Progress& progress;
  int wrong = 0;
};

// The implementations of one case as the measuring layer's declarations.
std::vector<Implementation> ImplementationsOf(ActivationCase& c, const Json& pinned) {
  std::vector<Implementation> impls;
  for (const ActivationImpl& im : c.impls) {
    Implementation d;
    d.row = {{"name", absl::StrCat(c.op, "/", im.variant, "/", c.label, "/t1")},
             {"op", c.op}, {"variant", im.variant}, {"impl", im.impl}, {"isa", im.isa},
             {"shape", c.shape}, {"threads", 1}, {"pinned", pinned},
             {"elements", c.elements}, {"bytes", c.bytes}};
    d.call = im.call;
    const bool ours = im.impl == "kernel-lab";
    d.check = [&c, call = im.call, ours] {
      std::fill(c.y, c.y + c.y_size, NAN);
      call();
      CheckResult r;
      r.max_err_ratio = c.check(c.y);
      r.ok = r.max_err_ratio <= 1.0;
      if (!r.ok) {
        r.time_anyway = !ours;
        r.detail = ours ? "outside the bound stated in the kernel's header; not timed"
                        : "a peer, outside kernel-lab's bound; timed anyway";
      }
      return r;
    };
    impls.push_back(std::move(d));
  }
  return impls;
}

void RunCase(ActivationCase& c, const Json& pinned, const harness::MeasureOptions& measure,
             Ceilings& ceilings, Run& run) {
  const double ceiling = ceilings.For(c.bytes, c.inputs), triad = ceilings.For(c.bytes, 2);
  for (Outcome& o : CheckThenTime(ImplementationsOf(c, pinned), measure, /*interleave=*/true)) {
    const std::string variant = o.row["variant"], impl = o.row["impl"];
    const std::string check =
        o.check.ok ? absl::StrFormat("ok (%.2f)", o.check.max_err_ratio)
                   : absl::StrFormat("%s (%.3g)", impl == "kernel-lab" ? "WRONG" : "outside bound",
                                     o.check.max_err_ratio);
    if (!o.m) {  // wrong: recorded, never timed
      ++run.wrong;
      std::fprintf(stderr, "%-10s %-15s %-11s %-26s %-10s  %s, not timed\n", run.progress.Next().c_str(),
                   c.op.c_str(), c.label.c_str(), variant.c_str(), impl.c_str(), check.c_str());
      run.table.push_back({c.op, c.label, variant, impl, "—", "—", "—", "—", "0", check + ", not timed", "—"});
      run.rows.push_back(o.row);
      continue;
    }
    const double ns = o.m->summary.median, gbs = c.bytes / ns;
    Json& j = o.row;
    j["ns_per_element"] = ns / c.elements;
    j["gbs"] = gbs;
    j["ceiling_gbs"] = ceiling;
    j["ceiling_kernel"] = c.inputs == 2 ? "triad" : "copy";
    j["pct_ceiling"] = 100.0 * gbs / ceiling;
    j["pct_triad"] = 100.0 * gbs / triad;
    j["gflops"] = nullptr;
    j["pct_peak"] = nullptr;
    const std::string mad = MadCell(o.m->summary);
    std::fprintf(stderr, "%-10s %-15s %-11s %-26s %-10s %10.4f %8.1f %8.1f %12s  %s\n",
                 run.progress.Next().c_str(), c.op.c_str(), c.label.c_str(), variant.c_str(),
                 impl.c_str(), ns / c.elements, gbs, 100.0 * gbs / ceiling, mad.c_str(), check.c_str());
    run.table.push_back({c.op, c.label, variant, impl, Fmt(ns / c.elements, 4), Fmt(gbs, 1),
                         Fmt(100.0 * gbs / ceiling, 1), mad, absl::StrCat(o.m->samples_ns.size()), check,
                         j["alloc"]["bytes"].is_number() ? Fmt(j["alloc"]["bytes"].get<double>(), 0)
                                                         : "not counted"});
    run.rows.push_back(std::move(j));
  }
}

// Best kernel-lab variant against each peer, per case (ns/element).
Table SummaryRows(const Json& rows) {
  std::map<std::string, std::map<std::string, double>> best;  // case -> impl -> ns/element
  std::vector<std::string> order;
  for (const Json& r : rows) {
    if (!r.contains("ns_per_element")) continue;  // a wrong row, not timed
    const std::string key = r["op"].get<std::string>() + " " + r["shape"].dump();
    if (!best.count(key)) order.push_back(key);
    double& b = best[key].try_emplace(r["impl"].get<std::string>(), INFINITY).first->second;
    b = std::min(b, r["ns_per_element"].get<double>());
  }
  Table out;
  for (const std::string& k : order) {
    auto& m = best[k];
    auto get = [&](const char* impl) { return m.count(impl) ? m[impl] : NAN; };
    const double ours = get("kernel-lab"), mvec = get("libmvec"), scalar = get("std");
    out.push_back({k, Fmt(ours, 4), std::isnan(mvec) ? "—" : Fmt(mvec, 4), Fmt(scalar, 4),
                   std::isnan(mvec) ? "—" : Fmt(mvec / ours, 2) + "x", Fmt(scalar / ours, 1) + "x"});
  }
  return out;
}

std::string Markdown(const Json& record, const Table& table, const Table& ceilings) {
  const Json& env = record["env"];
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
  md += "## Best kernel-lab variant vs peers (ns/element, lower is better)\n\n";
  md += harness::MarkdownTable({"op shape", "kernel-lab", "libmvec", "std", "libmvec / ours", "std / ours"},
                               {false, true, true, true, true, true}, SummaryRows(record["rows"]));
  md += "\n## Every row\n\n";
  md += harness::MarkdownTable({"op", "shape", "variant", "impl", "ns/elem", "GB/s", "% ceiling", "MAD %", "reps",
                                "check", "alloc B/call"},
                               {false, false, false, false, true, true, true, true, true, false, true}, table);
  md += "\n## Bandwidth ceilings measured in this run\n\n";
  md += harness::MarkdownTable({"kernel", "working set", "GB/s (best sample)"}, {false, true, true},
                               ceilings);
  return md;
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const Settings settings = ReadSettingsOrExit();
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  const harness::Topology& topo = *topology;
  const std::vector<int> core = CoresFromFlagsOrExit(topo, 1);
  const harness::PinResult pin = PinMeasuringThread(kSuite, topo, core[0]);

  Json record = NewRecord(kSuite, argc, argv, topo);
  Json& env = record["env"];
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
  record["rows"] = Json::array();

  std::vector<ActivationCase> cases =
      BuildActivationCases(settings.sizes, settings.ops, absl::GetFlag(FLAGS_seed));
  if (cases.empty()) ExitWithUsageError("nothing to run: no op matches --ops");
  KeepShard(ShardFromFlagsOrExit(), &cases, &record);
  int total = 0;
  for (const ActivationCase& c : cases) total += static_cast<int>(c.impls.size());
  Progress progress(total);
  Table table;
  Run run{record["rows"], table, progress};
  Ceilings ceilings(settings.measure);
  const Json pinned = pin.ok ? Json::array({pin.os_cpu}) : Json({{"error", pin.error}});
  std::fprintf(stderr, "%-10s %-15s %-11s %-26s %-10s %10s %8s %8s %12s  %s\n", "progress", "op",
               "shape", "variant", "impl", "ns/elem", "GB/s", "%ceil", "MAD%", "check");
  for (ActivationCase& c : cases) RunCase(c, pinned, settings.measure, ceilings, run);
  return PublishRun(kSuite, output, record, Markdown(record, table, ceilings.Rows()),
                    absl::StrFormat("activation_sweep, %d rows, sizes %s", record["rows"].size(),
                                    absl::StrJoin(settings.sizes.sizes, ",")),
                    run.wrong, "kernel-lab row(s) outside their bound");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
