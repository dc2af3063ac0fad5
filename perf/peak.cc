// //perf:peak — the machine's ceilings, measured: the FMA peak per core and for all cores (many
// independent accumulators, AVX2 and AVX-512), and the read and triad bandwidth at working sets
// sized from the caches hwloc reports (L1, L2, L3, DRAM), on one core and on all. Published like
// any suite; its env block carries peak_gflops_per_core and bandwidth_gbs (docs/results-schema.md) for the
// other suites' roofline and % of peak.
//
//   bazel run //perf:peak -- [--quick] [--out=DIR | --no_publish]
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/aligned_buffer.h"
#include "harness/flop_event.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/peak/peak.h"
#include "kernels/threading/thread_pool.h"
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

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct Level {
  std::string name;
  int64_t bytes;  // working set per core
};

int Run(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const bool quick = QuickFromFlags();
  const harness::MeasureOptions measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  const int64_t dram_mib = absl::GetFlag(FLAGS_dram_mib);
  if (dram_mib < 1 || dram_mib > 65536) ExitWithUsageError("--dram_mib must be in [1, 65536]");
  const harness::OutputOptions output =
      OutputOptionsFromFlagsOrExit();
  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "peak: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const harness::Topology& topo = **topology;
  const int cores = std::max(1, topo.cores());
  const std::vector<int> order = CoresFromFlagsOrExit(topo, cores);
  const harness::PinResult pin = topo.PinThisThreadToCore(order[0]);
  if (!pin.ok) std::fprintf(stderr, "peak: warning: not pinned: %s\n", pin.error.c_str());
  // One pool: participant i pinned to the i-th core of the order (the caller is participant 0).
  std::vector<int> cpus;
  for (int core : order) cpus.push_back(topo.OsCpuOfCore(core));
  kernels::ThreadPool pool(cores, cpus);


  Json record = NewRecord(kSuite, argc, argv, topo);
  Json env = record["env"];
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["pinning"] = {{"policy", PinningDescription()},
                    {"cpus", cpus}};
  record["rows"] = Json::array();
  std::vector<std::vector<std::string>> table;

  // A case runs `work(participant)` on `threads` participants at once; the sample is the wall
  // time of the slowest. Returns the best and median sample (ns per call).
  auto time_case = [&](int threads, const std::function<void(int)>& work) {
    std::function<void()> body = [&] {
      if (threads == 1) {
        work(0);
      } else {
        pool.Run([&](int id) {
          if (id < threads) work(id);
        });
      }
    };
    return harness::Measure(body, measure);
  };
  auto add_row = [&](Json row, const harness::Measurement& m, const std::string& value_name,
                     double value_best, double value_median, const std::string& unit) {
    const Json timing = harness::TimingJson(m);
    for (const auto& [key, v] : timing.items()) row[key] = v;
    row[value_name] = value_best;
    row[value_name + "_median"] = value_median;
    const double mad_pct = 100.0 * m.summary.mad / m.summary.median;
    row["unstable"] = harness::IsUnstable(m.summary);
    table.push_back({row["name"].get<std::string>(), Fmt(value_best, 1) + " " + unit,
                     Fmt(value_median, 1) + " " + unit, absl::StrCat(m.samples_ns.size()),
                     Fmt(mad_pct, 1) + (harness::IsUnstable(m.summary) ? " unstable" : "")});
    std::fprintf(stderr, "%-40s %10.1f %s (median %.1f)\n", row["name"].get<std::string>().c_str(),
                 value_best, unit.c_str(), value_median);
    record["rows"].push_back(row);
  };

  // FMA peak: each ISA's kernel on 1 core and on all.
  double peak_per_core = 0;
  for (const kernels::FmaPeakKernel& k : kernels::FmaPeakKernels()) {
    if (!kernels::CpuSupports(k.isa)) continue;
    for (int threads : {1, cores}) {
      const FmaPeakResult peak = MeasureFmaPeakOf(k, threads, &pool, measure);
      Json row;
      row["name"] = absl::StrFormat("fma_peak/%s/t%d", k.name, threads);
      row["op"] = "fma_peak";
      row["variant"] = std::string(k.name);
      row["impl"] = "kernel-lab";
      row["isa"] = std::string(kernels::IsaName(k.isa));
      row["threads"] = threads;
      row["pinned"] = std::vector<int>(cpus.begin(), cpus.begin() + threads);
      row["flops"] = peak.flops;
      add_row(row, peak.m, "gflops", peak.gflops, peak.gflops_median, "GFLOP/s");
      if (threads == 1) peak_per_core = std::max(peak_per_core, peak.gflops);
      if (cores == 1) break;
    }
  }

  // Bandwidth: working sets per core from the caches (half of L1d and of L2, so the arrays and
  // the stack fit; four L2s for L3, when the L3 is that large; --dram_mib beyond everything).
  const harness::CacheInfo caches = topo.caches();
  std::vector<Level> levels;
  if (caches.l1d > 0) levels.push_back({"l1", caches.l1d / 2});
  if (caches.l2 > 0) levels.push_back({"l2", caches.l2 / 2});
  if (!quick) {
    if (caches.l3 > 8 * caches.l2 && caches.l2 > 0) levels.push_back({"l3", 4 * caches.l2});
    levels.push_back({"dram", dram_mib << 20});
  }
  Json bandwidth = Json::object();
  for (const Level& level : levels) {
    for (int threads : {1, cores}) {
      // Per participant: the read array is the whole working set; the triad's three arrays
      // share it.
      const size_t read_n = std::max<size_t>(256, level.bytes / 4 / 256 * 256);
      const size_t triad_n = std::max<size_t>(64, level.bytes / 12 / 64 * 64);
      std::vector<std::unique_ptr<harness::AlignedBuffer>> a, b, c;
      std::vector<float> sink(threads);
      // First touch on the participant that will use the memory.
      a.resize(threads);
      b.resize(threads);
      c.resize(threads);
      auto allocate = [&](int id) {
        a[id] = std::make_unique<harness::AlignedBuffer>(std::max(read_n, triad_n));
        b[id] = std::make_unique<harness::AlignedBuffer>(triad_n);
        c[id] = std::make_unique<harness::AlignedBuffer>(triad_n);
        for (size_t i = 0; i < a[id]->size(); ++i) (*a[id])[i] = 1.0f;
        for (size_t i = 0; i < triad_n; ++i) (*b[id])[i] = 1.0f, (*c[id])[i] = 2.0f;
      };
      if (threads == 1) {
        allocate(0);
      } else {
        pool.Run([&](int id) { allocate(id); });
      }
      for (const char* op : {"read", "triad"}) {
        const bool read = std::string(op) == "read";
        const double per_pass = read ? read_n * 4.0 : triad_n * 12.0;
        // Passes per call: at least 4 MiB per participant, so a fork-join of the pool (about a
        // microsecond) is noise against the work even for an L1 working set.
        const int passes = static_cast<int>(std::max(1.0, (4 << 20) / per_pass));
        const double bytes = per_pass * passes * threads;
        const harness::Measurement m = time_case(threads, [&](int id) {
          for (int r = 0; r < passes; ++r) {
            if (read) {
              sink[id] += kernels::ReadF32(read_n, a[id]->data());
            } else {
              kernels::TriadF32(triad_n, 0.5f, b[id]->data(), c[id]->data(), a[id]->data());
            }
          }
        });
        Json row;
        row["name"] = absl::StrFormat("%s/%s/t%d", op, level.name, threads);
        row["op"] = op;
        row["variant"] = read ? "f32_read" : "f32_triad";
        row["impl"] = "kernel-lab";
        row["shape"] = {{"level", level.name}, {"bytes_per_core", read ? read_n * 4 : triad_n * 12}};
        row["threads"] = threads;
        row["pinned"] = std::vector<int>(cpus.begin(), cpus.begin() + threads);
        row["bytes"] = bytes;
        add_row(row, m, "gbs", bytes / m.summary.min, bytes / m.summary.median, "GB/s");
        if (threads == 1) {
          bandwidth[level.name][op] = bytes / m.summary.min;
        } else {
          bandwidth[level.name][absl::StrCat(op, "_all_cores")] = bytes / m.summary.min;
        }
      }
      if (cores == 1) break;
    }
  }
  env["peak_gflops_per_core"] = peak_per_core;
  env["bandwidth_gbs"] = bandwidth;

  // The FLOP event checked against the widest FMA kernel's exact count (harness/flop_event.h).
  const kernels::FmaPeakKernel* widest = kernels::WidestFmaPeakKernel();
  harness::FlopCalibration calibration;
  calibration.reason = "no FMA kernel for this CPU";
  if (widest != nullptr) {
    constexpr int64_t kCalibrationIters = 1'000'000;
    volatile float sink = 0;
    calibration = harness::CalibrateFlopEvent(
        [&] { sink = widest->fn(kCalibrationIters); },
        static_cast<double>(kCalibrationIters) * widest->flops_per_iteration,
        widest->isa == kernels::Isa::kAvx512 ? 512 : 256);
  }
  env["flop_event"] = harness::FlopCalibrationJson(calibration);
  std::printf("FLOP event: %s\n",
              calibration.ran
                  ? absl::StrFormat("%s counted %.4g of %.4g FLOPs (ratio %.4f): %s",
                                    calibration.event, calibration.counted_flops,
                                    calibration.expected_flops, calibration.ratio,
                                    calibration.validated ? "validated" : "NOT validated")
                        .c_str()
                  : absl::StrCat("not calibrated: ", calibration.reason).c_str());
  record["env"] = env;

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
                               {false, true, true, true, true}, table);
  md += calibration.ran
            ? absl::StrFormat("\nFLOP event `%s`: counted %.4g of the calibration kernel's %.4g "
                              "FLOPs (ratio %.4f): %s.\n",
                              calibration.event, calibration.counted_flops,
                              calibration.expected_flops, calibration.ratio,
                              calibration.validated ? "validated" : "NOT validated")
            : absl::StrCat("\nFLOP event: not calibrated (", calibration.reason, ").\n");
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("peak, %.1f GFLOP/s per core", peak_per_core), 0, "");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Run(argc, argv); }
