// //perf:peak — the machine's ceilings, measured: the FMA peak per core and for all cores (many
// independent accumulators, AVX2 and AVX-512), and the read and triad bandwidth at working sets
// sized from the caches hwloc reports (L1, L2, L3, DRAM), on one core and on all. Published like
// any suite; its env block carries peak_gflops_per_core and bandwidth_gbs (docs/results-schema.md) for the
// other suites' roofline and % of peak.
//
//   bazel run //perf:peak -- [--quick] [--out=DIR | --no_publish]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/flop_event.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/peak/peak.h"
#include "kernels/threading/thread_pool.h"
#include "perf/measuring.h"
#include "perf/suite.h"

ABSL_FLAG(int64_t, dram_mib, 1024, "Working set of the DRAM case, MiB per core.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "peak";
constexpr char kUsage[] =
    "Measures the machine's ceilings: FMA peak (1 core, all cores) and read/triad bandwidth at\n"
    "L1, L2, L3 and DRAM working sets (from hwloc's cache sizes), 1 core and all cores.\n"
    "  bazel run //perf:peak -- [--quick] [--out=DIR | --no_publish]\n"
    "--quick: L1 and L2 working sets only.\n";

// Samples of >= 5 ms, 15 of them and >= 0.3 s per case: ceilings are best samples, so many.
constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 15, .min_sample_s = 0.005, .min_time_s = 0.3},
    .quick = {.min_reps = 3, .min_sample_s = 0.0005, .min_time_s = 0.01}};

using harness::Json;
using Table = std::vector<std::vector<std::string>>;

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

// The run's rows and table, and where its threads run.
struct Rows {
  Json& rows;
  Table table;
  std::vector<int> cpus;  // OS CPU of each participant
  // A row of the case `row` from its measurement: the ceiling (best sample) and the median.
  void Add(Json row, const harness::Measurement& m, const std::string& value_name,
           double value_best, double value_median, const std::string& unit) {
    const Json timing = harness::TimingJson(m);
    for (const auto& [key, v] : timing.items()) row[key] = v;
    row[value_name] = value_best;
    row[value_name + "_median"] = value_median;
    table.push_back({row["name"].get<std::string>(), Fmt(value_best, 1) + " " + unit,
                     Fmt(value_median, 1) + " " + unit, absl::StrCat(m.samples_ns.size()),
                     MadCell(m.summary)});
    std::fprintf(stderr, "%-40s %10.1f %s (median %.1f)\n", row["name"].get<std::string>().c_str(),
                 value_best, unit.c_str(), value_median);
    rows.push_back(std::move(row));
  }
  std::vector<int> Pinned(int threads) const { return {cpus.begin(), cpus.begin() + threads}; }
};

// FMA peak: each ISA's kernel on 1 core and on all. Returns the best per-core peak.
double FmaRows(Rows& rows, int cores, kernels::ThreadPool& pool, const harness::MeasureOptions& o) {
  double per_core = 0;
  for (const kernels::FmaPeakKernel& k : kernels::FmaPeakKernels()) {
    if (!kernels::CpuSupports(k.isa)) continue;
    for (int threads : {1, cores}) {
      const FmaPeakResult peak = MeasureFmaPeakOf(k, threads, &pool, o);
      Json row = {{"name", absl::StrFormat("fma_peak/%s/t%d", k.name, threads)},
                  {"op", "fma_peak"}, {"variant", std::string(k.name)}, {"impl", "kernel-lab"},
                  {"isa", std::string(kernels::IsaName(k.isa))}, {"threads", threads},
                  {"pinned", rows.Pinned(threads)}, {"flops", peak.flops}};
      rows.Add(row, peak.m, "gflops", peak.gflops, peak.gflops_median, "GFLOP/s");
      if (threads == 1) per_core = std::max(per_core, peak.gflops);
      if (cores == 1) break;
    }
  }
  return per_core;
}

// Bandwidth: working sets per core from the caches (half of L1d and of L2, so the arrays and the
// stack fit; four L2s for L3, when the L3 is that large; --dram_mib beyond everything), read and
// triad, 1 core and all. Returns env.bandwidth_gbs: level -> {read, triad, *_all_cores}.
Json BandwidthRows(Rows& rows, const harness::CacheInfo& caches, int cores, bool quick,
                   kernels::ThreadPool& pool, const harness::MeasureOptions& o) {
  std::vector<std::pair<std::string, int64_t>> levels;
  if (caches.l1d > 0) levels.push_back({"l1", caches.l1d / 2});
  if (caches.l2 > 0) levels.push_back({"l2", caches.l2 / 2});
  if (!quick) {
    if (caches.l3 > 8 * caches.l2 && caches.l2 > 0) levels.push_back({"l3", 4 * caches.l2});
    levels.push_back({"dram", absl::GetFlag(FLAGS_dram_mib) << 20});
  }
  Json bandwidth = Json::object();
  for (const auto& [level, bytes] : levels) {
    for (int threads : {1, cores}) {
      for (const bool read : {true, false}) {
        // Per participant: the read array is the whole working set; the triad's three share it.
        const size_t n = read ? std::max<int64_t>(256, bytes / 4 / 256 * 256)
                              : std::max<int64_t>(64, bytes / 12 / 64 * 64);
        const double per_pass = read ? n * 4.0 : n * 12.0;
        // Passes per call: at least 4 MiB per participant, so a fork-join of the pool (about a
        // microsecond) is noise against the work even for an L1 working set.
        const int passes = static_cast<int>(std::max(1.0, (4 << 20) / per_pass));
        const BandwidthResult r = MeasureBandwidth(read ? Stream::kRead : Stream::kTriad, n,
                                                   threads, &pool, passes, o);
        const std::string op = read ? "read" : "triad";
        Json row = {{"name", absl::StrFormat("%s/%s/t%d", op, level, threads)}, {"op", op},
                    {"variant", read ? "f32_read" : "f32_triad"}, {"impl", "kernel-lab"},
                    {"shape", {{"level", level}, {"bytes_per_core", static_cast<int64_t>(per_pass)}}},
                    {"threads", threads}, {"pinned", rows.Pinned(threads)}, {"bytes", r.bytes}};
        rows.Add(row, r.m, "gbs", r.gbs, r.gbs_median, "GB/s");
        bandwidth[level][threads == 1 ? op : op + "_all_cores"] = r.gbs;
      }
      if (cores == 1) break;
    }
  }
  return bandwidth;
}

// The FLOP event checked against the widest FMA kernel's exact count (harness/flop_event.h).
harness::FlopCalibration CalibrateFlops() {
  const kernels::FmaPeakKernel* widest = kernels::WidestFmaPeakKernel();
  harness::FlopCalibration calibration;
  calibration.reason = "no FMA kernel for this CPU";
  if (widest == nullptr) return calibration;
  constexpr int64_t kCalibrationIters = 1'000'000;
  volatile float sink = 0;
  return harness::CalibrateFlopEvent(
      [&] { sink = widest->fn(kCalibrationIters); },
      static_cast<double>(kCalibrationIters) * widest->flops_per_iteration,
      widest->isa == kernels::Isa::kAvx512 ? 512 : 256);
}

std::string CalibrationLine(const harness::FlopCalibration& c) {
  return c.ran ? absl::StrFormat("`%s` counted %.4g of the calibration kernel's %.4g FLOPs "
                                 "(ratio %.4f): %s",
                                 c.event, c.counted_flops, c.expected_flops, c.ratio,
                                 c.validated ? "validated" : "NOT validated")
               : absl::StrCat("not calibrated (", c.reason, ")");
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const bool quick = QuickFromFlags();
  const harness::MeasureOptions measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  const int64_t dram_mib = absl::GetFlag(FLAGS_dram_mib);
  if (dram_mib < 1 || dram_mib > 65536) ExitWithUsageError("--dram_mib must be in [1, 65536]");
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  const harness::Topology& topo = *topology;
  const int cores = std::max(1, topo.cores());
  const std::vector<int> order = CoresFromFlagsOrExit(topo, cores);
  const harness::PinResult pin = PinMeasuringThread(kSuite, topo, order[0]);
  Json record = NewRecord(kSuite, argc, argv, topo);
  record["rows"] = Json::array();
  Rows rows{record["rows"], {}, {}};
  for (int core : order) rows.cpus.push_back(topo.OsCpuOfCore(core));
  // One pool: participant i pinned to the i-th core of the order (the caller is participant 0).
  kernels::ThreadPool pool(cores, rows.cpus);
  Json& env = record["env"];
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["pinning"] = {{"policy", PinningDescription()}, {"cpus", rows.cpus}};
  const double peak_per_core = FmaRows(rows, cores, pool, measure);
  const harness::CacheInfo caches = topo.caches();
  env["bandwidth_gbs"] = BandwidthRows(rows, caches, cores, quick, pool, measure);
  env["peak_gflops_per_core"] = peak_per_core;
  const harness::FlopCalibration calibration = CalibrateFlops();
  env["flop_event"] = harness::FlopCalibrationJson(calibration);
  std::printf("FLOP event: %s\n", CalibrationLine(calibration).c_str());

  std::string md = absl::StrFormat("# peak %s\n\n`%s`\n\n", record["run_id"].get<std::string>(),
                                   record["command"].get<std::string>());
  md += absl::StrFormat(
      "CPU: %s, %d cores, caches L1d %d KiB, L2 %d KiB, L3 %d KiB (hwloc). Ceilings are the "
      "best sample (interference only lowers them); medians beside. FMA: %s independent "
      "accumulators per core; bandwidth: read = sum of one array, triad = a = b + s c (bytes "
      "count every array once), working sets per core.\n\n",
      env["cpu_model"].is_string() ? env["cpu_model"].get<std::string>() : "unknown", cores,
      caches.l1d / 1024, caches.l2 / 1024, caches.l3 / 1024, "12");
  md += harness::MarkdownTable({"case", "ceiling", "median", "reps", "MAD %"},
                               {false, true, true, true, true}, rows.table);
  md += "\nFLOP event " + CalibrationLine(calibration) + ".\n";
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("peak, %.1f GFLOP/s per core", peak_per_core), 0, "");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
