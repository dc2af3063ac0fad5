// //perf:model_bench — whole models from the lab's kernels, end to end: the report's two GPT-2s
// (gpt2-0.5M and gpt2-3.5M, its "Small" and "Medium", created from their seed) and stories260K
// (Llama, models/data), generating (tgN: N tokens one position at a time, with the KV cache and
// without it) and prefilling (ppN: a prompt of N tokens as one batch), on 1 and 2 threads. Rows
// in llama-bench's manner (tokens/s mean +- sd, median, best, repetitions) with latency per
// token, time to first token, bytes allocated per token, KV-cache bytes, creation time, GFLOP/s
// and weight traffic against the bandwidth ceiling; PyTorch beside each (model_bench_peer.cc);
// then the hot paths of one forward and the scaling of time with model size and threads
// (model_bench_report.cc). Published to results/.
//
//   bazel run //perf:model_bench -- [--models=gpt2-0.5M,stories260K] [--threads=1,2] [--quick]
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/alloc_counter.h"
#include "harness/env.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/linear/linear.h"
#include "models/gpt2.h"
#include "models/language_model.h"
#include "models/load_model.h"
#include "perf/measuring.h"
#include "perf/model_bench.h"
#include "perf/pytorch_peer.h"
#include "perf/suite.h"

ABSL_FLAG(std::string, models_dir, "",
          "Folder of the model files named by --models (default: models/data of the workspace).");
ABSL_FLAG(std::vector<std::string>, models,
          std::vector<std::string>({"gpt2-0.5M", "gpt2-3.5M", "stories260K"}),
          "Models to run: gpt2-0.5M and gpt2-3.5M (the report's GPT-2 Small and Medium, created "
          "from their seed), stories260K (models/data). gpt2-small and gpt2-medium are "
          "deprecated names of the first two.");
ABSL_FLAG(std::vector<std::string>, model, {},
          "Model files to run instead of --models (comma-separated): llama2.c version-0 or GPT-2 "
          "files, the architecture read from the file; each row is named by the file's stem.");
ABSL_FLAG(std::vector<std::string>, tests, std::vector<std::string>({"tg25", "tg128", "pp64"}),
          "Tests: tgN generates N tokens from a 1-token prompt, ppN prefills an N-token prompt; "
          "N is capped at the model's context.");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "Thread counts (the GEMM pool; threads pinned to cores in compact order).");
ABSL_FLAG(bool, no_cache_rows, true, "Also run the tg tests without the KV cache.");
ABSL_FLAG(bool, pytorch, true,
          "Also run PyTorch as a peer (perf/pytorch_peer.py: the same model in plain PyTorch with "
          "a KV cache, pinned to the same cores, its thread pools set to each thread count), "
          "checked against our greedy ids and timed in blocks alternating with ours.");
ABSL_FLAG(std::string, python, "/usr/bin/python3",
          "The Python that has PyTorch (Debian's python3-torch).");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "model_bench";
constexpr char kUsage[] =
    "Times whole models (gpt2-0.5M, gpt2-3.5M, stories260K, or --model files) in tokens/s.\n"
    "  bazel run //perf:model_bench -- [--models=gpt2-0.5M,...] [--tests=tg25,tg128,pp64]\n"
    "      [--threads=1,2] [--models_dir=DIR] [--model=FILE,...] [--quick]\n"
    "Rows: tokens/s (mean +- sd, median, best), ms/token, time to first token, bytes allocated\n"
    "per token, KV cache, creation time, GFLOP/s, weight GB/s and % of the read ceiling; then\n"
    "hot paths and scaling with model size and threads.\n"
    "--quick: tg25 and pp64 only.\n";

// A sample is one whole test (tens of microseconds or more), so no batching; >= 0.5 s per case.
constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 15, .min_sample_s = 0, .min_time_s = 0.5, .warmup_s = 0.1},
    .quick = {.min_reps = 3, .min_sample_s = 0, .min_time_s = 0.02, .warmup_s = 0.01}};

const ModelSpec kModels[] = {
    {"gpt2-0.5M", "", models::Gpt2Config::Gpt2_0_5M()},   // the report's "GPT-2 Small"
    {"gpt2-3.5M", "", models::Gpt2Config::Gpt2_3_5M()},   // the report's "GPT-2 Medium"
    {"stories260K", "stories260K.bin", std::nullopt}};

absl::StatusOr<std::vector<Test>> ParseTests(const std::vector<std::string>& items) {
  std::vector<Test> tests;
  for (const std::string& item : items) {
    int n = 0;
    const bool pp = item.rfind("pp", 0) == 0;
    if ((!pp && item.rfind("tg", 0) != 0) || !absl::SimpleAtoi(item.substr(2), &n) || n < 1 ||
        n > 8192) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--tests: '%s' is not tgN or ppN with N in [1, 8192]", item));
    }
    tests.push_back({item, pp, n, true});
  }
  return tests;
}

// A path relative to where `bazel run` was started (BUILD_WORKING_DIRECTORY), made absolute.
std::string FromWorkingDirectory(const std::string& path) {
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  std::string out = wd != nullptr && !path.empty() && path[0] != '/'
                        ? (std::filesystem::path(wd) / path).string()
                        : path;
  std::error_code ec;
  return std::filesystem::absolute(out, ec).string();
}

// --model files (named by their stem), else the --models names.
std::vector<ModelSpec> SpecsOrExit() {
  std::vector<ModelSpec> specs;
  for (const std::string& item : absl::GetFlag(FLAGS_model)) {
    if (item.empty()) ExitWithUsageError("--model: an empty path");
    specs.push_back({std::filesystem::path(item).stem().string(), FromWorkingDirectory(item),
                     std::nullopt});
  }
  if (!specs.empty()) return specs;
  for (std::string name : absl::GetFlag(FLAGS_models)) {
    if (name == "gpt2-small" || name == "gpt2-medium") {
      const std::string now = name == "gpt2-small" ? "gpt2-0.5M" : "gpt2-3.5M";
      std::fprintf(stderr,
                   "model_bench: --models=%s is deprecated: say %s (its size; GPT-2 %s elsewhere "
                   "means a far larger model)\n",
                   name.c_str(), now.c_str(), name.substr(5).c_str());
      name = now;
    }
    const auto found = std::find_if(std::begin(kModels), std::end(kModels),
                                     [&](const ModelSpec& s) { return s.name == name; });
    if (found == std::end(kModels)) {
      ExitWithUsageError(absl::StrFormat(
          "--models: unknown model '%s' (gpt2-0.5M, gpt2-3.5M, stories260K)", name));
    }
    specs.push_back(*found);
  }
  if (specs.empty()) ExitWithUsageError("--models: the list is empty");
  return specs;
}

Settings ReadSettingsOrExit() {
  Settings s;
  s.quick = QuickFromFlags();
  s.measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  s.no_cache_rows = absl::GetFlag(FLAGS_no_cache_rows);
  s.pytorch = absl::GetFlag(FLAGS_pytorch);
  s.python = absl::GetFlag(FLAGS_python);
  auto threads = ParseIntList("threads", absl::GetFlag(FLAGS_threads), 1, 64);
  if (!threads.ok()) ExitWithUsageError(std::string(threads.status().message()));
  s.threads = *threads;
  for (int64_t t : s.threads) s.max_threads = std::max<int>(s.max_threads, static_cast<int>(t));
  auto tests = ParseTests(s.quick ? std::vector<std::string>{"tg25", "pp64"} : absl::GetFlag(FLAGS_tests));
  if (!tests.ok()) ExitWithUsageError(std::string(tests.status().message()));
  s.tests = *tests;
  s.specs = SpecsOrExit();
  s.dir = absl::GetFlag(FLAGS_models_dir).empty()
              ? (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data").string()
              : FromWorkingDirectory(absl::GetFlag(FLAGS_models_dir));
  return s;
}

// The model's file: in --models_dir, else the repository's own copy (models/data) when
// --models_dir was not given; empty when there is none.
std::string PathOf(const ModelSpec& spec, const Settings& s) {
  if (spec.gpt2) return "(created from seed 1)";
  if (spec.file.rfind('/', 0) == 0) return std::filesystem::exists(spec.file) ? spec.file : "";
  const std::string path = (std::filesystem::path(s.dir) / spec.file).string();
  if (std::filesystem::exists(path)) return path;
  const std::string in_repo =
      (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data" / spec.file).string();
  return absl::GetFlag(FLAGS_models_dir).empty() && std::filesystem::exists(in_repo) ? in_repo : "";
}

// Creation: reading and laying out the file (or creating from the seed), median of several;
// then once more under the allocation counter for what the model holds.
absl::StatusOr<Loaded> LoadMeasured(const ModelSpec& spec, const std::string& path,
                                    const Settings& s) {
  auto load = [&]() -> absl::StatusOr<std::unique_ptr<LanguageModel>> {
    if (!spec.gpt2) return models::LoadModelFile(path);
    auto m = models::Gpt2Model::Create(*spec.gpt2, 1);
    if (!m.ok()) return m.status();
    return std::unique_ptr<LanguageModel>(std::move(*m));
  };
  harness::MeasureOptions create_opts = s.measure;
  create_opts.min_reps = s.quick ? 3 : 9;
  create_opts.min_time_s = s.quick ? 0.01 : 0.1;
  Loaded out;
  out.path = path;
  absl::Status status;
  const harness::Measurement creation = harness::Measure([&] {
    auto m = load();
    if (m.ok()) out.model = std::move(*m); else status = m.status();
  }, create_opts);
  if (!status.ok()) return status;
  out.creation_ms = creation.summary.median / 1e6;
  if (harness::AllocCounterActive()) {
    out.model.reset();
    harness::ResetPeakLiveBytes();
    const int64_t before = harness::LiveBytes();
    auto again = load();
    if (!again.ok()) return again.status();
    out.model = std::move(*again);
    out.memory = {{"model_bytes", harness::LiveBytes() - before},
                  {"creation_peak_bytes", harness::PeakLiveBytes() - before}};
  }
  // A GPT-2 read from a file (--model) can also be created in memory from its config and the
  // xorshift seed; the report's two are created so to begin with.
  out.creation_from_seed_ms = spec.gpt2 ? out.creation_ms : NAN;
  if (const auto* gpt2 = dynamic_cast<const models::Gpt2Model*>(out.model.get());
      gpt2 != nullptr && !spec.gpt2) {
    const models::Gpt2Config config = gpt2->config();
    out.creation_from_seed_ms = harness::Measure([&] {
      if (!models::Gpt2Model::Create(config, 1).ok()) std::abort();  // a valid file's config
    }, create_opts).summary.median / 1e6;
  }
  return out;
}

// Check before timing: greedy tokens with and without the cache agree over 64 steps, with
// finite logits. Returns the failure, or "" when they agree.
std::string CheckCachedEqualsUncached(LanguageModel& model) {
  const Test longest{"check", false, std::min(64, model.context()), true};
  Test uncached = longest;
  uncached.kv_cache = false;
  TestBody a(&model, longest), b(&model, uncached);
  a.set_check_finite();
  b.set_check_finite();
  a();
  b();
  for (const TestBody* body : {&a, &b}) {
    if (!body->status().ok()) return std::string(body->status().message());
  }
  return a.sequence() == b.sequence() ? "" : "cached and uncached greedy tokens differ";
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const Settings settings = ReadSettingsOrExit();
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  const harness::Topology& topo = *topology;
  const std::vector<int> cores = CoresFromFlagsOrExit(topo, settings.max_threads);
  const harness::PinResult pin = PinMeasuringThread(kSuite, topo, cores[0]);

  Json record = NewRecord(kSuite, argc, argv, topo);
  Json& env = record["env"];
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["peak"] = MeasureFmaPeak();
  env["models_dir"] = settings.dir;
  env["pinning"] = {{"policy", PinningDescription()},
                    {"cores", cores},
                    {"main", pin.ok ? Json(pin.os_cpu) : Json(pin.error)}};
  env["ceiling"] =
      "read of the model's own packed linear weights as one decode step reads them "
      "(kernels::LinearReadThreaded: same bytes, same split over the row's threads, only sums), "
      "sampled in the same rounds as the model's tests (rows impl read-kernel; the report's "
      "drift control); best sample";
  record["rows"] = Json::array();
  BenchReport report;
  std::fprintf(stderr, "%-12s %-6s %-3s %-3s %12s %10s %10s %8s %12s %s\n", "model", "test", "kv",
               "thr", "tok/s", "ms/token", "B/token", "GFLOP/s", "MAD%", "check");
  for (const ModelSpec& spec : settings.specs) {
    const std::string path = PathOf(spec, settings);
    if (path.empty()) {
      const std::string wanted = (std::filesystem::path(settings.dir) / spec.file).string();
      std::fprintf(stderr, "model_bench: skipping %s: %s not found (--models_dir)\n",
                   spec.name.c_str(), wanted.c_str());
      report.skipped.push_back({spec.name, wanted + " not found"});
      continue;
    }
    absl::StatusOr<Loaded> loaded = LoadMeasured(spec, path, settings);
    if (!loaded.ok()) {
      std::fprintf(stderr, "model_bench: %s: %s\n", spec.name.c_str(),
                   std::string(loaded.status().message()).c_str());
      return 1;
    }
    const std::string failed = CheckCachedEqualsUncached(*loaded->model);
    if (!failed.empty()) {
      std::fprintf(stderr, "model_bench: %s: %s\n", spec.name.c_str(), failed.c_str());
      ++report.wrong;
      if (failed != "cached and uncached greedy tokens differ") {
        report.skipped.push_back({spec.name, "refused its input or made non-finite logits (stderr)"});
        continue;
      }
    }
    ModelRun run(spec, std::move(*loaded), settings, topo, cores, record["rows"], report);
    run.Run(failed.empty(), argv[0]);
    record["hot_paths"][spec.name] = run.hot;
  }
  if (report.table.empty()) {
    // Nothing ran (every model skipped): say so and publish nothing, rather than an empty table
    // with exit 0.
    std::fprintf(stderr, "model_bench: no model was benchmarked (%d skipped); nothing published\n",
                 static_cast<int>(report.skipped.size()));
    return 1;
  }
  std::string md = BenchMarkdown(record, report, settings.max_threads, PinningDescription());
  const auto [chart, cases] = TokensChart(record);
  md += "\n## Tokens/s, ours and PyTorch's (`model_bench_tokens.svg`)\n\nCases on the chart's x "
        "axis: " + cases + ".\n";
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("model_bench, %d rows", record["rows"].size()), report.wrong,
                    "model(s) whose cached and uncached greedy tokens differ or PyTorch peers "
                    "whose ids differ from ours",
                    {{"model_bench_tokens.svg", chart}});
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
