#include "perf/suite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/cli.h"
#include "harness/aligned_buffer.h"
#include "harness/compare.h"
#include "harness/env.h"
#include "harness/layout.h"
#include "harness/measure.h"
#include "kernels/cpu/cpu.h"
#include "kernels/tuning/tuning.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/peak/peak.h"

ABSL_FLAG(std::string, out, "",
          "Write <key>.json/.md (see --format) into this folder instead of publishing under results/ (a\n"
          "relative path is taken from where `bazel run` was started).");
ABSL_FLAG(std::string, results, "",
          "Publish into this results folder instead of the repository's results/ (a relative path "
          "is taken from where `bazel run` was started).");
ABSL_FLAG(std::string, shard, "1/1",
          "Run shard i of n (i/n): every case whose index is i-1 modulo n, for a fleet's batch "
          "jobs; //tools:compare --merge joins the shards of one machine. matmul_sweep and "
          "activation_sweep shard their cases; the other suites run whole.");
ABSL_FLAG(std::string, format, "md,json",
          "Files to write under --out: any of md, json, csv (comma-separated). Published runs keep "
          "the gzipped record and the tables always, and add <key>.csv when csv is named.");
ABSL_FLAG(bool, no_publish, false, "Write no files (CI, smoke tests).");
ABSL_FLAG(std::string, pinning, "compact",
          "Where the threads go: compact (cores 0, 1, ...) or scatter (across packages first).");
ABSL_FLAG(std::string, cpus, "",
          "Explicit core list for the threads, e.g. 1,0 (overrides --pinning; the first is the "
          "measuring thread's).");
// The measurement flags: unset means the suite's default (its --help lists them).
ABSL_FLAG(bool, quick, false,
          "Smoke run: the suite's short case list, and its quick defaults for every measurement "
          "flag not given.");
ABSL_FLAG(std::optional<int32_t>, min_reps, std::nullopt,
          "Minimum timed samples per case, 1-100000.");
ABSL_FLAG(std::optional<double>, min_time, std::nullopt,
          "Minimum total timed seconds per case, 0-3600.");
ABSL_FLAG(std::optional<double>, min_sample_time, std::nullopt,
          "Minimum seconds per sample, 0-1: shorter calls are timed in batches.");
ABSL_FLAG(std::optional<double>, max_time, std::nullopt,
          "Seconds after which a case with slow samples stops (once it has 3 samples), "
          "0.001-86400.");

namespace klab::perf {
namespace {
// /proc/stat when the record was started, for the steal time during the run.
harness::CpuTimes g_cpu_times_at_start;
}  // namespace

std::vector<int> CoresFromFlagsOrExit(const harness::Topology& topology, int threads) {
  const std::string policy = absl::GetFlag(FLAGS_pinning), cpus = absl::GetFlag(FLAGS_cpus);
  if (policy != "compact" && policy != "scatter") {
    ExitWithUsageError("--pinning must be compact or scatter, not '" + policy + "'");
  }
  if (cpus.empty()) return topology.CoresFor(policy, threads);
  auto parsed = ParseCpuList(cpus, topology.cores());
  if (!parsed.ok()) ExitWithUsageError(std::string(parsed.status().message()));
  std::vector<int> cores = std::move(*parsed);
  if (static_cast<int>(cores.size()) < threads) {
    ExitWithUsageError(absl::StrFormat("--cpus lists %d cores for %d threads", cores.size(),
                                       threads));
  }
  cores.resize(threads);
  return cores;
}

Shard ShardFromFlagsOrExit() {
  const std::string text = absl::GetFlag(FLAGS_shard);
  const std::vector<std::string> parts = absl::StrSplit(text, '/');
  Shard shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) ||
      !absl::SimpleAtoi(parts[1], &shard.count) || shard.count < 1 || shard.count > 10000 ||
      shard.index < 1 || shard.index > shard.count) {
    ExitWithUsageError("--shard: '" + text + "' is not i/n with 1 <= i <= n (e.g. 2/4)");
  }
  return shard;
}

bool QuickFromFlags() { return absl::GetFlag(FLAGS_quick); }

harness::MeasureOptions MeasureOptionsFromFlagsOrExit(const MeasureDefaults& defaults) {
  harness::MeasureOptions o = QuickFromFlags() ? defaults.quick : defaults.full;
  // Each given flag replaces its field, after a range check; names as on the command line.
  auto take = [](const char* name, auto given, auto lo, auto hi, auto& field) {
    if (!given.has_value()) return;
    if (!(*given >= lo && *given <= hi)) {  // also refuses NaN
      ExitWithUsageError(absl::StrCat("--", name, "=", *given, " is outside [", lo, ", ", hi,
                                      "]"));
    }
    field = *given;
  };
  take("min_reps", absl::GetFlag(FLAGS_min_reps), 1, 100000, o.min_reps);
  take("min_time", absl::GetFlag(FLAGS_min_time), 0.0, 3600.0, o.min_time_s);
  take("min_sample_time", absl::GetFlag(FLAGS_min_sample_time), 0.0, 1.0, o.min_sample_s);
  take("max_time", absl::GetFlag(FLAGS_max_time), 0.001, 86400.0, o.max_time_s);
  o.max_reps = std::max(o.max_reps, o.min_reps);  // never cap what the user asked for
  return o;
}

std::string MeasureDefaultsHelp(const MeasureDefaults& d) {
  auto line = [](const harness::MeasureOptions& o) {
    return absl::StrFormat("--min_reps=%d --min_time=%g --min_sample_time=%g --max_time=%g",
                           o.min_reps, o.min_time_s, o.min_sample_s, o.max_time_s);
  };
  return absl::StrCat("\nMeasurement defaults of this suite (a flag given wins):\n  ",
                      line(d.full), "\n  with --quick: ", line(d.quick), "\n");
}

std::unique_ptr<harness::Topology> LoadTopologyOrExit(const char* suite) {
  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "%s: %s\n", suite, std::string(topology.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*topology);
}

harness::PinResult PinMeasuringThread(const char* suite, const harness::Topology& topology,
                                      int core) {
  const harness::PinResult pin = topology.PinThisThreadToCore(core);
  if (!pin.ok) std::fprintf(stderr, "%s: warning: not pinned: %s\n", suite, pin.error.c_str());
  return pin;
}

std::string PinningDescription() {
  const std::string cpus = absl::GetFlag(FLAGS_cpus);
  return cpus.empty() ? absl::GetFlag(FLAGS_pinning) : "--cpus=" + cpus;
}

harness::OutputOptions OutputOptionsFromFlagsOrExit() {
  harness::OutputOptions output;
  output.publish = !absl::GetFlag(FLAGS_no_publish);
  output.out_dir = harness::UserPath(absl::GetFlag(FLAGS_out));
  output.results_root = harness::UserPath(absl::GetFlag(FLAGS_results));
  if (!output.publish && !output.out_dir.empty()) {
    ExitWithUsageError("--out and --no_publish contradict each other");
  }
  if (!output.out_dir.empty() && !output.results_root.empty()) {
    ExitWithUsageError("--out and --results contradict each other (write here, or publish there)");
  }
  ShardFromFlagsOrExit();  // its syntax, in every suite (matmul_sweep and activation_sweep use it)
  output.formats = {.md = false, .json = false, .csv = false};
  for (absl::string_view f : absl::StrSplit(absl::GetFlag(FLAGS_format), ',')) {
    if (f == "md") output.formats.md = true;
    else if (f == "json") output.formats.json = true;
    else if (f == "csv") output.formats.csv = true;
    else ExitWithUsageError("--format: '" + std::string(f) + "' is not one of md, json, csv");
  }
  if (output.publish && output.out_dir.empty() && output.results_root.empty()) {
    auto root = harness::DefaultResultsRoot();
    if (!root.ok()) ExitWithUsageError(std::string(root.status().message()));
    output.results_root = *root;
  }
  // Where the files will go must be writable before anything is measured.
  if (output.publish) {
    const std::string dir = output.out_dir.empty() ? output.results_root : output.out_dir;
    const absl::Status writable = harness::CheckWritableFolder(dir);
    if (!writable.ok()) {
      ExitWithUsageError(std::string(output.out_dir.empty() ? "results/: " : "--out: ") +
                         std::string(writable.message()));
    }
  }
  return output;
}

harness::Json NewRecord(const std::string& suite, int argc, char** argv,
                        const harness::Topology& topology) {
  g_cpu_times_at_start = harness::ReadCpuTimes();
  harness::Json record;
  record["schema"] = harness::kResultsSchema;
  record["suite"] = suite;
  harness::Json env = harness::CaptureEnvironment(&topology, kernels::CpuFeatureFlags());
  const harness::GitState git = harness::ReadGitState(harness::WorkspaceDirectory());
  record["run_id"] = harness::MakeRunId(env["started"].get<std::string>(), harness::ShortHostname(),
                                        git.short_commit);
  record["command"] = CommandLine(argc, argv, "//perf:" + suite);
  // A quick run measures other (smaller) cases under the same row names: it is compared only
  // with quick runs, a full run only with full ones.
  record["quick"] = QuickFromFlags();
  // The tuning profile in force (kernels/tuning): which choices every row's dispatcher made by.
  env["tuning"] = kernels::ActiveTuningName();
  record["env"] = std::move(env);
  return record;
}

FmaPeakResult MeasureFmaPeakOf(const kernels::FmaPeakKernel& kernel, int threads,
                               kernels::ThreadPool* pool, const harness::MeasureOptions& options) {
  constexpr int64_t kIters = 100'000;  // ~0.7 ms at 180 GFLOP/s: a fork-join is noise
  std::vector<float> sink(std::max(threads, 1));
  std::function<void()> body = [&] { sink[0] = kernel.fn(kIters); };
  if (threads > 1) {
    body = [&] {
      pool->Run([&](int id) {
        if (id < threads) sink[id] = kernel.fn(kIters);
      });
    };
  }
  FmaPeakResult r;
  r.m = harness::Measure(body, options);
  r.flops = static_cast<double>(kIters) * kernel.flops_per_iteration * std::max(threads, 1);
  r.gflops = r.flops / r.m.summary.min;
  r.gflops_median = r.flops / r.m.summary.median;
  return r;
}

BandwidthResult MeasureBandwidth(Stream stream, size_t n, int threads, kernels::ThreadPool* pool,
                                 int passes, const harness::MeasureOptions& options) {
  threads = std::max(threads, 1);
  const int arrays = stream == Stream::kRead ? 1 : stream == Stream::kCopy ? 2 : 3;
  std::vector<std::unique_ptr<harness::AlignedBuffer>> x(threads), y(threads), z(threads);
  std::vector<float> sink(threads);
  auto on_each = [&](const std::function<void(int)>& work) {
    if (threads == 1) {
      work(0);
    } else {
      pool->Run([&](int id) {
        if (id < threads) work(id);
      });
    }
  };
  on_each([&](int id) {  // first touch on the participant that uses the memory
    x[id] = std::make_unique<harness::AlignedBuffer>(n);
    y[id] = std::make_unique<harness::AlignedBuffer>(n);
    z[id] = std::make_unique<harness::AlignedBuffer>(n);
    for (size_t i = 0; i < n; ++i) (*x[id])[i] = 1.0f, (*y[id])[i] = 2.0f, (*z[id])[i] = 0.0f;
  });
  BandwidthResult r;
  r.m = harness::Measure([&] {
    on_each([&](int id) {
      for (int p = 0; p < passes; ++p) {
        switch (stream) {
          case Stream::kRead: sink[id] += kernels::ReadF32(n, x[id]->data()); break;
          case Stream::kCopy: kernels::CopyF32(n, x[id]->data(), z[id]->data()); break;
          case Stream::kTriad:
            kernels::TriadF32(n, 0.5f, x[id]->data(), y[id]->data(), z[id]->data());
            break;
        }
      }
    });
  }, options);
  r.bytes = 4.0 * arrays * static_cast<double>(n) * passes * threads;
  r.gbs = r.bytes / r.m.summary.min;
  r.gbs_median = r.bytes / r.m.summary.median;
  return r;
}

harness::Json MeasureFmaPeak() {
  const kernels::FmaPeakKernel* best = nullptr;
  for (const kernels::FmaPeakKernel& k : kernels::FmaPeakKernels()) {
    if (kernels::CpuSupports(k.isa)) best = &k;
  }
  if (best == nullptr) return {{"gflops", nullptr}, {"kernel", "none (no AVX2)"}};
  const FmaPeakResult r = MeasureFmaPeakOf(
      *best, 1, nullptr, {.min_reps = 21, .min_time_s = 0.1, .warmup_s = 0.05});
  return {{"gflops", r.gflops},
          {"gflops_median", r.gflops_median},
          {"kernel", best->name},
          {"reps", r.m.samples_ns.size()}};
}

int PublishRun(const std::string& suite, const harness::OutputOptions& output,
               const harness::Json& finished, const std::string& markdown,
               const std::string& summary_line, int wrong_rows, const std::string& wrong_what,
               const std::vector<std::pair<std::string, std::string>>& extra_files) {
  // The conditions the run met: stolen CPU time (a VM's neighbours) and load, measured over the
  // whole run, so a reader can tell a slow machine from slow code.
  harness::Json record = finished;
  record["env"]["during_run"] = harness::RunConditions(g_cpu_times_at_start);
  std::printf("%s", markdown.c_str());
  std::fprintf(stderr, "%s: during the run: %s\n", suite.c_str(),
               record["env"]["during_run"].dump().c_str());
  // The index line names the machine the run measured (every host is "vm").
  const std::string machine = record["env"].value("machine", std::string());
  const std::string index_line = machine.empty() ? summary_line : machine + ": " + summary_line;
  auto written = harness::WriteRun(output, record, markdown, index_line, extra_files);
  if (!written.ok()) {
    std::fprintf(stderr, "%s: could not write results: %s\n", suite.c_str(),
                 std::string(written.status().message()).c_str());
    return 1;
  }
  for (const std::string& repair : written->repairs) {
    std::fprintf(stderr, "%s: results/: %s\n", suite.c_str(), repair.c_str());
  }
  if (!written->dir.empty()) {
    std::fprintf(stderr, "%s: wrote %s\n", suite.c_str(), written->dir.c_str());
  }
  // Published into results/: compare with the previous run of this suite on the same kind of
  // machine (harness::PreviousRun with the record: SameMachine, not the host name).
  if (!written->dir.empty() && output.out_dir.empty()) {
    const std::string run_id = written->run_id;
    record["run_id"] = run_id;
    const std::string host = record["env"].value("host", "");
    std::vector<std::string> warnings;
    const std::string key = harness::RecordKey(record);
    const std::string previous_id =
        harness::PreviousRun(output.results_root, key, run_id, host, &record, &warnings);
    for (const std::string& w : warnings) {
      std::fprintf(stderr, "%s: warning: %s\n", suite.c_str(), w.c_str());
    }
    if (previous_id.empty()) {
      std::fprintf(stderr, "%s: the first %s run on this machine (%s); no report\n",
                   suite.c_str(), suite.c_str(), machine.c_str());
    } else {
      auto previous = harness::ReadRecord(
          harness::RecordPath(harness::RunDir(output.results_root, previous_id), key));
      const harness::CompareOptions options;
      auto comparison = previous.ok() ? harness::CompareRuns(record, *previous, options)
                                      : absl::StatusOr<harness::Comparison>(previous.status());
      if (!comparison.ok()) {
        std::fprintf(stderr, "%s: no report: %s\n", suite.c_str(),
                     std::string(comparison.status().message()).c_str());
      } else {
        const std::string path = written->dir + "/report.md";
        absl::Status s = harness::WriteFileAtomic(
            path, harness::ReportMarkdown(record, *previous, *comparison, options));
        if (s.ok()) {
          s = harness::WriteFileAtomic(written->dir + "/report_changes.svg",
                                       harness::ReportChartSvg(*comparison, options, machine));
        }
        if (!s.ok()) {
          std::fprintf(stderr, "%s: could not write the report: %s\n", suite.c_str(),
                       std::string(s.message()).c_str());
          return 1;
        }
        std::fprintf(stderr, "%s: report vs %s: %d faster, %d slower, %d noise (%s)\n",
                     suite.c_str(), previous_id.c_str(), comparison->faster, comparison->slower,
                     comparison->noise, path.c_str());
      }
    }
  }
  if (wrong_rows > 0) {
    std::fprintf(stderr, "%s: %d %s\n", suite.c_str(), wrong_rows, wrong_what.c_str());
    return 1;
  }
  return 0;
}

}  // namespace klab::perf
