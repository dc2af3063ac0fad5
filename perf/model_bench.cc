// //perf:model_bench — whole models from the lab's kernels, end to end: the report's two GPT-2s
// (gpt2-0.5M and gpt2-3.5M, its "Small" and "Medium", created from their seed) and stories260K
// (Llama, models/data), generating (tgN: N tokens one position at a
// time, with the KV cache and without it) and prefilling (ppN: a prompt of N tokens as one batch),
// on 1 and 2 threads. Rows in llama-bench's manner (tokens/s mean +- sd, median, best,
// repetitions) with latency per token, time to first token, bytes allocated per token, KV-cache
// bytes, creation time, GFLOP/s and weight traffic against the bandwidth ceiling; then the hot
// paths of one forward and the scaling of time with model size and threads. Published to results/.
//
//   bazel run //perf:model_bench -- [--models=gpt2-0.5M,stories260K] [--threads=1,2] [--quick]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cli.h"
#include "harness/alloc_counter.h"
#include "harness/env.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "harness/svg_plot.h"
#include "harness/topology.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/linear/linear.h"
#include "models/gpt2.h"
#include "models/language_model.h"
#include "models/llama.h"
#include "models/load_model.h"
#include "models/sampler.h"
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

using harness::Json;
using models::LanguageModel;

// A model to run: a GPT-2 configuration created in memory from the xorshift seed (bit-equal to
// the published gpt2_*_xorshift1.bin, so no file is needed), or a file.
struct ModelSpec {
  std::string name, file;
  std::optional<models::Gpt2Config> gpt2;  // created from seed 1 when set
};
const ModelSpec kModels[] = {
    {"gpt2-0.5M", "", models::Gpt2Config::Gpt2_0_5M()},   // the report's "GPT-2 Small"
    {"gpt2-3.5M", "", models::Gpt2Config::Gpt2_3_5M()},   // the report's "GPT-2 Medium"
    {"stories260K", "stories260K.bin", std::nullopt}};

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct Test {
  std::string name;  // as run: tg25, tg64, pp64, ...
  bool prefill;      // pp
  int tokens;
  bool kv_cache;
};

// The work of one test: a fixed token sequence, greedy decoding. The prompt's ids lie inside the
// model's vocabulary whatever its size (token 1, Llama's BOS, first where the vocabulary has it);
// a forward pass that refuses its input stops the test and is reported by status().
class TestBody {
 public:
  TestBody(LanguageModel* model, const Test& test) : model_(model), test_(test) {
    const int vocab = model->vocab_size();
    seq_.resize(test.tokens + 1);
    for (int i = 0; i <= test.tokens; ++i) {
      seq_[i] = i == 0 ? std::min(1, vocab - 1) : (i * 97 + 13) % vocab;
    }
  }
  void operator()() {
    if (!status_.ok()) return;
    LanguageModel& m = *model_;
    if (test_.prefill) {
      absl::StatusOr<float*> logits = m.Forward(seq_.data(), test_.tokens, 0);
      if (!logits.ok()) {
        status_ = logits.status();
        return;
      }
      last_ = models::Sampler::Argmax(*logits, m.vocab_size());
      return;
    }
    for (int pos = 0; pos < test_.tokens; ++pos) {
      absl::StatusOr<float*> logits = test_.kv_cache ? m.Forward(&seq_[pos], 1, pos)
                                                     : m.Forward(seq_.data(), pos + 1, 0);
      if (!logits.ok()) {
        status_ = logits.status();
        return;
      }
      if (check_finite_) CheckFinite(*logits, m.vocab_size(), pos);
      seq_[pos + 1] = models::Sampler::Argmax(*logits, m.vocab_size());
    }
  }
  // The check runs (not the timed ones) also require finite logits: finite weights can still
  // overflow float in the activations, and greedy tokens of NaN logits agree with each other.
  void set_check_finite() { check_finite_ = true; }
  const std::vector<int>& sequence() const { return seq_; }
  int last() const { return last_; }  // a prefill's argmax
  const absl::Status& status() const { return status_; }

 private:
  LanguageModel* model_;
  Test test_;
  std::vector<int> seq_;
  void CheckFinite(const float* logits, int n, int pos) {
    for (int i = 0; i < n && status_.ok(); ++i) {
      if (!std::isfinite(logits[i])) {
        status_ = absl::InvalidArgumentError(absl::StrFormat(
            "logit %d at position %d is %g: the model's activations overflow float", i, pos,
            logits[i]));
      }
    }
  }

  int last_ = 0;
  bool check_finite_ = false;
  absl::Status status_;
};

// PyTorch beside one model at one thread count. For each test with the KV cache: its greedy ids
// must equal ours (else its row says WRONG and its times are not taken); then blocks of our runs
// and its runs alternate, so drift on this shared machine hits both alike, and the ratio of the
// medians of those blocks is the "x PyTorch" of our row.
struct PeerOutcome {
  std::map<std::string, double> speedup;  // test name -> PyTorch median / ours, same blocks
  std::vector<Json> rows;
  std::vector<std::vector<std::string>> table;
  std::string why_not;  // set when the peer could not run at all
};

PeerOutcome RunPyTorchPeer(LanguageModel& model, const std::string& name, const std::string& file,
                           const std::vector<Test>& runs, int64_t t, int used,
                           const std::vector<int>& cpus,
                           const std::function<void()>& use_our_threads,
                           const std::function<void()>& park_our_threads,
                           const harness::MeasureOptions& measure, bool quick,
                           const std::string& script) {
  PeerOutcome out;
  park_our_threads();
  auto peer = PyTorchPeer::Start(absl::GetFlag(FLAGS_python), script, file, used, cpus);
  if (!peer.ok()) {
    out.why_not = std::string(peer.status().message());
    return out;
  }
  const Json& ready = (*peer)->ready();
  const int blocks = quick ? 2 : 5;
  const int per_block = quick ? 2 : std::max(3, measure.min_reps / blocks);
  for (const Test& test : runs) {
    if (!test.kv_cache) continue;  // PyTorch without a cache is not a comparison anyone makes
    TestBody ours(&model, test);
    use_our_threads();
    ours();
    park_our_threads();
    auto ids = (*peer)->Ids(test.prefill, test.tokens);
    if (!ids.ok()) {
      out.why_not = std::string(ids.status().message());
      return out;
    }
    const std::vector<int>& seq = ours.sequence();
    const std::vector<int> expected =
        test.prefill ? std::vector<int>{ours.last()}
                     : std::vector<int>(seq.begin(), seq.begin() + test.tokens + 1);
    const bool same = *ids == expected;
    std::vector<double> ours_ns, peer_ns;
    if (same) {
      for (int b = 0; b < blocks; ++b) {
        use_our_threads();
        for (int r = 0; r < per_block; ++r) {
          const auto start = std::chrono::steady_clock::now();
          ours();
          ours_ns.push_back(
              std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
                  .count());
        }
        // Our pool's workers spin between runs: parked while the peer runs, so its threads have
        // the cores to themselves.
        park_our_threads();
        auto ns = (*peer)->Time(test.prefill, test.tokens, per_block);
        if (!ns.ok()) {
          out.why_not = std::string(ns.status().message());
          return out;
        }
        peer_ns.insert(peer_ns.end(), ns->begin(), ns->end());
      }
    }
    harness::Measurement m;
    m.samples_ns = peer_ns;
    m.summary = harness::Summarize(peer_ns);
    m.stopped_by = "alternating blocks";
    const double n = test.tokens;
    const double median_s = m.summary.median / 1e9;
    Json j;
    j["name"] = absl::StrFormat("model/%s/%s/kv/t%d/pytorch", name, test.name, t);
    j["op"] = "model";
    j["model"] = name;
    j["shape"] = {{"model", name}};
    j["impl"] = "pytorch";
    j["variant"] = absl::StrFormat("torch %s", ready.value("torch", "?"));
    j["peer_config"] = ready;
    j["test"] = test.name;
    j["kv_cache"] = true;
    j["threads"] = t;
    j["threads_used"] = used;
    j["pinned"] = cpus;
    j["check"] = {{"ok", same}, {"what", "greedy ids equal ours"}};
    if (same) {
      const Json timing = harness::TimingJson(m);
      for (const auto& [key, v] : timing.items()) {
        if (key != "alloc" && key != "counters") j[key] = v;
      }
      j["tokens"] = test.tokens;
      j["tokens_per_s"] = n / median_s;
      j["latency_ms_per_token"] = median_s * 1e3 / n;
      const double ours_median = harness::Summarize(ours_ns).median;
      out.speedup[test.name] = m.summary.median / ours_median;
      j["ours_median_ns_same_blocks"] = ours_median;
    }
    out.rows.push_back(j);
    out.table.push_back(
        {name, Fmt(model.params() / 1e6, 3) + " M", Fmt(model.params() * 4 / 1e6, 2), "pytorch",
         used == t ? absl::StrCat(t) : absl::StrFormat("%d (%d used)", t, used), test.name, "on",
         same ? Fmt(n / median_s, 0) : "WRONG", "—",
         "—", "—", absl::StrCat(peer_ns.size()), same ? Fmt(median_s * 1e3 / n, 4) : "—", "—",
         "—", "—", "—", "—", "—", "—", "—",
         same ? Fmt(100.0 * m.summary.mad / m.summary.median, 1) : "—"});
  }
  return out;
}

// The run's chart: tokens/s (log scale) of every test with the KV cache, one point per case
// (model and test, numbered on the x axis) for each of ours and PyTorch's at each thread count.
// Returns the SVG and the legend of the x axis ("1 gpt2-0.5M tg25, 2 ...").
std::pair<std::string, std::string> TokensChart(const Json& record) {
  std::vector<std::string> cases;
  std::map<std::string, harness::PlotSeries> series;
  for (const Json& row : record["rows"]) {
    if (row.value("op", "") != "model" || !row.value("kv_cache", false) ||
        !row.contains("tokens_per_s")) {
      continue;
    }
    const std::string key = row["model"].get<std::string>() + " " + row["test"].get<std::string>();
    auto at = std::find(cases.begin(), cases.end(), key);
    if (at == cases.end()) at = cases.insert(cases.end(), key);
    const std::string impl = row.value("impl", "kernel-lab");
    const std::string name =
        absl::StrFormat("%s, %d thread%s", impl, row["threads"].get<int>(),
                        row["threads"].get<int>() == 1 ? "" : "s");
    harness::PlotSeries& s = series[name];
    s.name = name;
    s.markers_only = true;
    s.dashed = impl != "kernel-lab";
    s.points.push_back({static_cast<double>(at - cases.begin() + 1),
                        row["tokens_per_s"].get<double>()});
  }
  std::vector<harness::PlotSeries> list;
  for (auto& [name, s] : series) list.push_back(std::move(s));
  std::string legend;
  for (size_t i = 0; i < cases.size(); ++i) {
    legend += absl::StrFormat("%s%d %s", i == 0 ? "" : ", ", i + 1, cases[i]);
  }
  return {harness::LineChartSvg({"model_bench: tokens/s with the KV cache, ours and PyTorch's",
                                 "case (model and test, listed under the table)",
                                 "tokens/s (log scale)", false, true},
                                list),
          legend};
}

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

int Run(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const bool quick = QuickFromFlags();
  const harness::MeasureOptions measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  auto threads = ParseIntList("threads", absl::GetFlag(FLAGS_threads), 1, 64);
  if (!threads.ok()) ExitWithUsageError(std::string(threads.status().message()));
  auto tests = ParseTests(quick ? std::vector<std::string>{"tg25", "pp64"}
                                : absl::GetFlag(FLAGS_tests));
  if (!tests.ok()) ExitWithUsageError(std::string(tests.status().message()));
  std::vector<ModelSpec> files;  // --model: name from the stem, path as given
  for (const std::string& item : absl::GetFlag(FLAGS_model)) {
    std::string path = item;
    if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
        wd != nullptr && !path.empty() && path[0] != '/') {
      path = (std::filesystem::path(wd) / path).string();
    }
    if (item.empty()) ExitWithUsageError("--model: an empty path");
    std::error_code ec;
    files.push_back({std::filesystem::path(item).stem().string(),
                     std::filesystem::absolute(path, ec).string(), std::nullopt});
  }
  std::vector<const ModelSpec*> specs;
  for (const ModelSpec& f : files) specs.push_back(&f);
  for (std::string name : files.empty() ? absl::GetFlag(FLAGS_models)
                                         : std::vector<std::string>{}) {
    if (name == "gpt2-small" || name == "gpt2-medium") {
      const std::string now = name == "gpt2-small" ? "gpt2-0.5M" : "gpt2-3.5M";
      std::fprintf(stderr,
                   "model_bench: --models=%s is deprecated: say %s (its size; GPT-2 %s elsewhere "
                   "means a far larger model)\n",
                   name.c_str(), now.c_str(), name.substr(5).c_str());
      name = now;
    }
    const ModelSpec* found = nullptr;
    for (const ModelSpec& s : kModels) {
      if (s.name == name) found = &s;
    }
    if (found == nullptr) {
      ExitWithUsageError(absl::StrFormat(
          "--models: unknown model '%s' (gpt2-0.5M, gpt2-3.5M, stories260K)", name));
    }
    specs.push_back(found);
  }
  if (specs.empty()) ExitWithUsageError("--models: the list is empty");
  std::string dir = absl::GetFlag(FLAGS_models_dir);
  if (dir.empty()) {
    dir = (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data").string();
  } else if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
             wd != nullptr && dir[0] != '/') {
    dir = (std::filesystem::path(wd) / dir).string();
  }

  const harness::OutputOptions output =
      OutputOptionsFromFlagsOrExit();
  auto topology = harness::Topology::Load();
  if (!topology.ok()) {
    std::fprintf(stderr, "model_bench: %s\n", std::string(topology.status().message()).c_str());
    return 1;
  }
  const harness::Topology& topo = **topology;
  int max_threads = 1;
  for (int64_t t : *threads) max_threads = std::max<int>(max_threads, static_cast<int>(t));
  const std::vector<int> cores = CoresFromFlagsOrExit(topo, max_threads);
  const harness::PinResult pin = topo.PinThisThreadToCore(cores[0]);
  if (!pin.ok) std::fprintf(stderr, "model_bench: warning: not pinned: %s\n", pin.error.c_str());

  Json record = NewRecord(kSuite, argc, argv, topo);
  Json env = record["env"];
  env["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  env["peak"] = MeasureFmaPeak();
  env["models_dir"] = dir;
  env["pinning"] = {{"policy", PinningDescription()},
                    {"cores", cores},
                    {"main", pin.ok ? Json(pin.os_cpu) : Json(pin.error)}};
  env["ceiling"] =
      "read of the model's own packed linear weights as one decode step reads them "
      "(kernels::LinearReadThreaded: same bytes, same split over the row's threads, only sums), "
      "sampled in the same rounds as the model's tests (rows impl read-kernel; the report's "
      "drift control); best sample";
  record["rows"] = Json::array();

  std::vector<std::vector<std::string>> table, hot_table, skipped, ceiling_table;
  std::set<std::string> pytorch_notes;  // why the PyTorch peer did not run, once each
  std::vector<std::string> thread_notes;  // models given fewer threads than a row asks
  // (model, test, kv) -> threads -> median ns; model -> median ns per token of tg (kv, t1).
  std::map<std::string, std::map<int64_t, double>> by_threads;
  std::map<std::string, std::pair<int64_t, double>> size_scaling;
  int wrong = 0;
  std::fprintf(stderr, "%-12s %-6s %-3s %-3s %12s %10s %10s %8s %6s %s\n", "model", "test", "kv",
               "thr", "tok/s", "ms/token", "B/token", "GFLOP/s", "MAD%", "check");
  for (const ModelSpec* spec : specs) {
    // A GPT-2 of the report is created from its seed; a file is loaded.
    auto load = [&](const std::string& path) -> absl::StatusOr<std::unique_ptr<LanguageModel>> {
      if (!spec->gpt2) return models::LoadModelFile(path);
      auto m = models::Gpt2Model::Create(*spec->gpt2, 1);
      if (!m.ok()) return m.status();
      return std::unique_ptr<LanguageModel>(std::move(*m));
    };
    std::string path = spec->gpt2 ? std::string("(created from seed 1)")
                                  : (std::filesystem::path(dir) / spec->file).string();
    // The repository's own copy (models/data) when --models_dir does not hold the file.
    const std::string in_repo =
        (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data" / spec->file)
            .string();
    if (!spec->gpt2 && !std::filesystem::exists(path) &&
        absl::GetFlag(FLAGS_models_dir).empty() && std::filesystem::exists(in_repo)) {
      path = in_repo;
    }
    if (!spec->gpt2 && !std::filesystem::exists(path)) {
      std::fprintf(stderr, "model_bench: skipping %s: %s not found (--models_dir)\n",
                   spec->name.c_str(), path.c_str());
      skipped.push_back({spec->name, path + " not found"});
      continue;
    }
    // Creation: reading and laying out the file, median of several loads.
    std::unique_ptr<LanguageModel> model;
    harness::MeasureOptions create_opts = measure;
    create_opts.min_reps = quick ? 3 : 9;
    create_opts.min_time_s = quick ? 0.01 : 0.1;
    absl::Status load_status;
    const harness::Measurement creation = harness::Measure(
        [&] {
          auto m = load(path);
          if (!m.ok()) {
            load_status = m.status();
          } else {
            model = std::move(*m);
          }
        },
        create_opts);
    if (!load_status.ok()) {
      std::fprintf(stderr, "model_bench: %s: %s\n", spec->name.c_str(),
                   std::string(load_status.message()).c_str());
      return 1;
    }
    const double creation_ms = creation.summary.median / 1e6;
    // Memory: what one model holds (weights, packed weights, activations, KV cache) and the peak
    // while creating it (the file's bytes are held until the arenas are filled).
    Json memory = nullptr;
    if (harness::AllocCounterActive()) {
      model.reset();
      harness::ResetPeakLiveBytes();
      const int64_t before = harness::LiveBytes();
      auto again = load(path);
      if (again.ok()) {
        model = std::move(*again);
        memory = {{"model_bytes", harness::LiveBytes() - before},
                  {"creation_peak_bytes", harness::PeakLiveBytes() - before}};
      }
    }
    if (model == nullptr) {
      std::fprintf(stderr, "model_bench: %s: reloading failed\n", spec->name.c_str());
      return 1;
    }
    // A GPT-2 read from a file (--model) can also be created in memory from its config and the
    // xorshift seed; the report's two are created so to begin with (creation_ms).
    double creation_from_seed_ms = spec->gpt2 ? creation_ms : NAN;
    const auto* gpt2 = dynamic_cast<const models::Gpt2Model*>(model.get());
    if (gpt2 != nullptr && !spec->gpt2) {
      const models::Gpt2Config config = gpt2->config();
      const harness::Measurement m = harness::Measure(
          [&] {
            auto created = models::Gpt2Model::Create(config, 1);
            if (!created.ok()) std::abort();  // the config came from a valid file
          },
          create_opts);
      creation_from_seed_ms = m.summary.median / 1e6;
    }
    // The bandwidth ceiling at the weights' working set: the model's own linear layers read as
    // a decode step reads them (kernels::LinearReadThreaded: the same bytes, split over the
    // cores the same way) with no arithmetic, so it finds them in the caches where the model's
    // tests leave them. It is sampled in the same rounds as those tests, so it is also the
    // report's drift control for them (impl "read-kernel").
    const int64_t wbytes = model->weight_bytes_per_token();
    const std::vector<models::PackedLinear> layers = model->linear_layers();
    double read_bytes = 0;
    for (const models::PackedLinear& l : layers) {
      read_bytes += 4.0 * kernels::PackedLinearSize(l.out, l.in);
    }
    volatile float read_sink = 0;
    auto read_ceiling = [&] {
      float sum = 0;
      for (const models::PackedLinear& l : layers) {
        sum += kernels::LinearReadThreaded(1, l.out, l.in, l.w);
      }
      read_sink = read_sink + sum;
    };
    std::map<int64_t, double> ceiling_gbs;  // threads -> GB/s, best sample
    // Tests as run on this model: N capped at the context; tg also without the cache.
    std::vector<Test> runs;
    for (Test t : *tests) {
      t.tokens = std::min(t.tokens, model->context());
      t.name = absl::StrCat(t.prefill ? "pp" : "tg", t.tokens);
      if (std::any_of(runs.begin(), runs.end(), [&](const Test& r) { return r.name == t.name; })) {
        continue;
      }
      runs.push_back(t);
      if (!t.prefill && absl::GetFlag(FLAGS_no_cache_rows)) {
        t.kv_cache = false;
        runs.push_back(t);
      }
    }
    // Check before timing: greedy tokens with and without the cache agree.
    bool check_ok = true;
    {
      const Test longest{"check", false, std::min(64, model->context()), true};
      Test uncached = longest;
      uncached.kv_cache = false;
      TestBody a(model.get(), longest), b(model.get(), uncached);
      a.set_check_finite();
      b.set_check_finite();
      a();
      b();
      for (const TestBody* body : {&a, &b}) {
        if (body->status().ok()) continue;
        std::fprintf(stderr, "model_bench: %s: %s\n", spec->name.c_str(),
                     std::string(body->status().message()).c_str());
        check_ok = false;
      }
      check_ok = check_ok && a.sequence() == b.sequence();
      if (!check_ok) {
        ++wrong;
        if (!a.status().ok() || !b.status().ok()) {
          skipped.push_back({spec->name, "refused its input or made non-finite logits (stderr)"});
          continue;
        }
      }
    }

    // Every (test, thread count) of this model is sampled in the same rounds: within a round the
    // pool is rebuilt for each thread count (its threads pinned to the same cores, whose caches
    // stay warm; outside the timed samples), so drift on this shared machine hits 1 and 2
    // threads alike and the scaling ratios compare like with like.
    // A row of t threads runs the model on the threads worth giving it (UsefulThreads: 1 when its
    // packed weights fit one core's L2), and says so.
    if (std::string why; model->UsefulThreads(max_threads, &why) < max_threads) {
      thread_notes.push_back(absl::StrFormat("%s runs on 1 thread whatever the row asks (%s)",
                                             spec->name, why));
      std::fprintf(stderr, "model_bench: %s\n", thread_notes.back().c_str());
    }
    // (Decided once per model: UsefulThreads walks the layers.)
    const bool one_thread_is_enough = model->UsefulThreads(2) == 1;
    auto used_threads = [&](int64_t t) { return one_thread_is_enough ? 1 : static_cast<int>(t); };
    auto use_threads = [&](int64_t t) {
      std::vector<int> cpus;
      for (int i = 0; i < used_threads(t); ++i) cpus.push_back(topo.OsCpuOfCore(cores[i]));
      kernels::SetGemmThreads(static_cast<int>(cpus.size()), cpus);
      // New workers must be running (and spinning between runs) before anything is timed.
      for (int i = 0; i < 100; ++i) kernels::GemmThreadPool().Run([](int) {});
      return cpus;
    };
    struct Pending {
      Test test;
      int64_t threads;
      std::vector<int> cpus;
      double ttft_ns;
      std::unique_ptr<TestBody> body;  // null for the read ceiling
      std::function<void()> run;
      std::unique_ptr<harness::Sampler> sampler;
    };
    std::vector<Pending> all;
    for (int64_t t : *threads) {
      const std::vector<int> cpus = use_threads(t);
      // Time to first token after a 1-token prompt: one forward and the argmax.
      TestBody first(model.get(), Test{"tg1", false, 1, true});
      const double ttft_ns = harness::Measure([&] { first(); }, measure).summary.median;
      for (const Test& test : runs) {
        auto body = std::make_unique<TestBody>(model.get(), test);
        TestBody* raw = body.get();
        all.push_back({test, t, cpus, ttft_ns, std::move(body), [raw] { (*raw)(); },
                       std::make_unique<harness::Sampler>([raw] { (*raw)(); }, measure)});
      }
      all.push_back({Test{"read", false, 0, true}, t, cpus, 0, nullptr, read_ceiling,
                     std::make_unique<harness::Sampler>(read_ceiling, measure)});
    }
    // All tests and thread counts of the model in the same rounds. Entering a thread count sets
    // the pool and runs the entry once untimed, to bring the weights into the caches of that
    // thread count's cores (after a 2-thread round half of them sit in the other core's L2).
    std::vector<harness::RoundEntry> entries;
    for (Pending& p : all) {
      const int64_t t = p.threads;
      std::function<void()> run = p.run;
      entries.push_back({p.sampler.get(), static_cast<int>(t), [&use_threads, t, run] {
                           use_threads(t);
                           run();
                         }});
    }
    const std::vector<harness::Measurement> measured = harness::SampleInRounds(entries);
    // The ceilings first: every model row of a thread count divides by its own.
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].body == nullptr) ceiling_gbs[all[i].threads] = read_bytes / measured[i].summary.min;
    }
    // PyTorch at each thread count, after ours (its blocks alternate with ours of the same test).
    std::map<int64_t, PeerOutcome> peers;
    if (absl::GetFlag(FLAGS_pytorch)) {
      std::string peer_file = path;
      std::string saved;
      if (spec->gpt2) {  // created from the seed: the peer reads the same weights from a file
        saved = (std::filesystem::temp_directory_path() /
                 absl::StrFormat("klab_peer_%s_%d.bin", spec->name, getpid()))
                    .string();
        const absl::Status s = gpt2->Save(saved);
        peer_file = s.ok() ? saved : "";
      }
      const std::string script = PyTorchPeerScript(argv[0]);
      for (int64_t t : *threads) {
        std::vector<int> cpus;  // the peer gets the threads ours use
        for (int i = 0; i < used_threads(t); ++i) cpus.push_back(topo.OsCpuOfCore(cores[i]));
        if (script.empty() || peer_file.empty()) {
          peers[t].why_not = script.empty() ? "perf/pytorch_peer.py not found"
                                            : "could not write the model for the peer";
        } else {
          peers[t] = RunPyTorchPeer(
              *model, spec->name, peer_file, runs, t, used_threads(t), cpus,
              [&] { use_threads(t); },
              [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, measure, quick, script);
        }
        if (!peers[t].why_not.empty()) {
          std::fprintf(stderr, "model_bench: PyTorch peer, %s, %d thread%s: %s\n",
                       spec->name.c_str(), static_cast<int>(t), t == 1 ? "" : "s",
                       peers[t].why_not.c_str());
          pytorch_notes.insert(peers[t].why_not);
        }
        for (const auto& row : peers[t].rows) {
          if (!row["check"]["ok"].get<bool>()) ++wrong;
        }
      }
      if (!saved.empty()) std::filesystem::remove(saved);
    }
    for (size_t i = 0; i < all.size(); ++i) {
      const Pending& p = all[i];
      const harness::Measurement& m = measured[i];
      const int64_t t = p.threads;
      const std::vector<int>& cpus = p.cpus;
      if (p.body == nullptr) {
        Json j;
        j["name"] = absl::StrFormat("read/%s/t%d", spec->name, t);
        j["op"] = "read";
        j["variant"] = "LinearReadThreaded";
        j["impl"] = "read-kernel";
        j["model"] = spec->name;
        j["shape"] = {{"model", spec->name}};
        j["threads"] = t;
        j["pinned"] = cpus;
        const Json timing = harness::TimingJson(m);
        for (const auto& [key, v] : timing.items()) j[key] = v;
        j["bytes"] = read_bytes;
        j["gbs"] = read_bytes / m.summary.median;
        j["gbs_best"] = ceiling_gbs[t];
        record["rows"].push_back(j);
        ceiling_table.push_back({spec->name, absl::StrCat(t), Fmt(read_bytes / 1024, 0) + " KiB",
                                 Fmt(ceiling_gbs[t], 1), Fmt(read_bytes / m.summary.median, 1),
                                 absl::StrCat(m.samples_ns.size())});
        continue;
      }
      {
        const Test& test = p.test;
        const double n = test.tokens;
        std::vector<double> tps;
        for (double s : m.samples_ns) tps.push_back(n * 1e9 / s);
        const double mean = std::accumulate(tps.begin(), tps.end(), 0.0) / tps.size();
        double var = 0;
        for (double v : tps) var += (v - mean) * (v - mean);
        const double sd = tps.size() > 1 ? std::sqrt(var / (tps.size() - 1)) : 0;
        const double median_s = m.summary.median / 1e9;
        // Work: weights are read once per forward (prefill reads them once for all rows).
        const int forwards = test.prefill ? 1 : test.tokens;
        double flops = 0;
        for (int pos = 0; pos < test.tokens; ++pos) flops += model->flops_per_token(pos);
        const bool have_flops = test.kv_cache;  // without the cache the work is recomputation
        const double gbs = static_cast<double>(wbytes) * forwards / median_s / 1e9;
        Json j;
        j["name"] = absl::StrFormat("model/%s/%s/%s/t%d", spec->name, test.name,
                                    test.kv_cache ? "kv" : "nokv", t);
        j["op"] = "model";
        j["model"] = spec->name;
        j["shape"] = {{"model", spec->name}};  // the case its read-ceiling control shares
        j["params"] = model->params();
        j["test"] = test.name;
        j["kv_cache"] = test.kv_cache;
        j["threads"] = t;
        j["threads_used"] = static_cast<int64_t>(cpus.size());
        j["pinned"] = cpus;
        const Json timing = harness::TimingJson(m);
        for (const auto& [key, v] : timing.items()) j[key] = v;
        j["tokens"] = test.tokens;
        j["tokens_per_s"] = n / median_s;
        j["tokens_per_s_mean"] = mean;
        j["tokens_per_s_sd"] = sd;
        j["tokens_per_s_best"] = n * 1e9 / m.summary.min;
        j["latency_ms_per_token"] = median_s * 1e3 / n;
        j["ttft_ms"] = test.prefill ? median_s * 1e3 : p.ttft_ns / 1e6;
        const bool counted = j["alloc"]["bytes"].is_number();
        j["bytes_per_token"] = counted ? Json(m.alloc_bytes_per_rep / n) : Json(nullptr);
        j["kv_cache_bytes"] = model->kv_cache_bytes();
        j["memory"] = memory;
        j["creation_ms"] = creation_ms;
        j["creation_from_seed_ms"] =
            std::isnan(creation_from_seed_ms) ? Json(nullptr) : Json(creation_from_seed_ms);
        j["flops"] = have_flops ? Json(flops) : Json(nullptr);
        j["gflops"] = have_flops ? Json(flops / median_s / 1e9) : Json(nullptr);
        j["weight_bytes_per_forward"] = wbytes;
        j["gbs"] = gbs;
        j["ceiling_gbs"] = ceiling_gbs[t];
        j["pct_ceiling"] = 100.0 * gbs / ceiling_gbs[t];
        j["check"] = {{"ok", check_ok},
                      {"what", "greedy tokens with and without the KV cache agree (64 steps)"}};
        const double mad_pct = 100.0 * m.summary.mad / m.summary.median;
        j["unstable"] = harness::IsUnstable(m.summary);
        // PyTorch's median time / ours, from the blocks that alternated with it.
        const auto& speedup = peers[t].speedup;
        const bool has_peer = test.kv_cache && speedup.count(test.name) != 0;
        if (has_peer) j["x_pytorch"] = speedup.at(test.name);
        record["rows"].push_back(j);
        by_threads[absl::StrCat(spec->name, " ", test.name, test.kv_cache ? "" : " (no cache)")]
                  [t] = m.summary.median;
        if (t == 1 && test.kv_cache && test.name == "tg25") {
          size_scaling[spec->name] = {model->params(), m.summary.median / n};
        }
        std::fprintf(stderr, "%-12s %-6s %-3s %-3d %12.0f %10.4f %10s %8.2f %6.1f %s%s\n",
                     spec->name.c_str(), test.name.c_str(), test.kv_cache ? "on" : "off",
                     static_cast<int>(t), n / median_s, median_s * 1e3 / n,
                     counted ? Fmt(m.alloc_bytes_per_rep / n, 0).c_str() : "n/a",
                     have_flops ? flops / median_s / 1e9 : 0.0, mad_pct,
                     check_ok ? "ok" : "WRONG", harness::IsUnstable(m.summary) ? "  unstable" : "");
        table.push_back(
            {spec->name, Fmt(model->params() / 1e6, 3) + " M",
             Fmt(model->params() * 4 / 1e6, 2), "kernel-lab",
             static_cast<int64_t>(cpus.size()) == t
                 ? absl::StrCat(t)
                 : absl::StrFormat("%d (%d used)", t, cpus.size()),
             test.name,
             test.kv_cache ? "on" : "off", Fmt(n / median_s, 0),
             has_peer ? Fmt(speedup.at(test.name), 2) + "x" : "—",
             absl::StrFormat("%.0f ± %.0f", mean, sd),
             Fmt(n * 1e9 / m.summary.min, 0), absl::StrCat(m.samples_ns.size()),
             Fmt(median_s * 1e3 / n, 4), Fmt(j["ttft_ms"].get<double>(), 3),
             counted ? Fmt(m.alloc_bytes_per_rep / n, 0) : "n/a",
             Fmt(model->kv_cache_bytes() / 1024.0, 0) + " KiB",
             memory.is_object() ? Fmt(memory["model_bytes"].get<double>() / 1e6, 2) : "n/a",
             Fmt(creation_ms, 2) + (spec->gpt2 ? " (seed)"
                                    : std::isnan(creation_from_seed_ms)
                                        ? ""
                                        : " (seed " + Fmt(creation_from_seed_ms, 2) + ")"),
             have_flops ? Fmt(flops / median_s / 1e9, 1) : "—", Fmt(gbs, 1),
             Fmt(100.0 * gbs / ceiling_gbs[t], 0),
             Fmt(mad_pct, 1) + (harness::IsUnstable(m.summary) ? " unstable" : "")});
      }
    }
    for (auto& [t, outcome] : peers) {
      for (Json& row : outcome.rows) record["rows"].push_back(std::move(row));
      table.insert(table.end(), outcome.table.begin(), outcome.table.end());
    }

    // Hot paths: one tg run (the longest, with the cache) on 1 thread, by kind of kernel.
    kernels::SetGemmThreads(1, {topo.OsCpuOfCore(cores[0])});
    {
      models::ForwardProfile profile;
      const Test longest{"hot", false, model->context() < 128 ? model->context() : 128, true};
      TestBody body(model.get(), longest);
      model->set_profile(&profile);
      const int reps = quick ? 2 : 20;
      for (int r = 0; r < reps; ++r) body();
      model->set_profile(nullptr);
      double total = 0;
      for (double v : profile.ns) total += v;
      Json hot;
      for (int k = 0; k < models::ForwardProfile::kCount; ++k) {
        const std::string part(models::ForwardProfile::kNames[k]);
        hot[part] = profile.ns[k] / total;
        hot_table.push_back({spec->name, part, Fmt(100.0 * profile.ns[k] / total, 1),
                             Fmt(profile.ns[k] / reps / longest.tokens / 1e3, 2)});
      }
      record["hot_paths"][spec->name] = {
          {"test", absl::StrCat("tg", longest.tokens)}, {"threads", 1}, {"share", hot}};
    }
  }
  record["env"] = env;

  std::string md = absl::StrFormat("# model_bench %s\n\n`%s`\n\n",
                                   record["run_id"].get<std::string>(),
                                   record["command"].get<std::string>());
  std::string ceilings;
  for (const auto& row : record["rows"]) {
    if (row.value("impl", "") == "read-kernel") {
      ceilings += absl::StrFormat("%s%s t%d %.1f GB/s", ceilings.empty() ? "" : ", ",
                                  row["model"].get<std::string>(), row["threads"].get<int>(),
                                  row["gbs_best"].get<double>());
    }
  }
  const Json& peak = env["peak"];
  md += absl::StrFormat(
      "**Machine:** %s, %d core%s used (%s), best ISA %s, FMA peak %s per core measured in this "
      "run; read ceiling of each model's weights (below): %s.\n\n",
      env["cpu_model"].is_string() ? env["cpu_model"].get<std::string>() : "unknown", max_threads,
      max_threads == 1 ? "" : "s", PinningDescription(), env["best_isa"].get<std::string>(),
      peak["gflops"].is_number() ? Fmt(peak["gflops"].get<double>(), 1) + " GFLOP/s"
                                 : std::string("not measured"),
      ceilings.empty() ? "not measured" : ceilings);
  md += absl::StrFormat(
      "tgN: N tokens generated one position at a time from a 1-token "
      "prompt, greedy (kv off: every step recomputes the whole prefix); ppN: one forward over "
      "an N-token prompt. All tests and thread counts of a model are sampled in the same rounds. "
      "t/s from the median (mean ± sd over the repetitions, best from "
      "the fastest); x PyTorch: PyTorch's median time / ours over blocks of runs alternating "
      "with it (impl pytorch rows: the same model in plain PyTorch with a KV cache, its greedy "
      "ids checked equal to ours first, pinned to the same cores, its thread pools set to the "
      "row's threads). TTFT: one forward from an empty cache (pp: the whole prefill). Creation: "
      "loading the file into arenas and packing the linear layers (the GPT-2s: creating them "
      "from the xorshift seed). Weight GB/s: "
      "the bytes of weights one forward reads x forwards / time; %% ceiling divides by the "
      "read bandwidth of the same number of bytes on the same threads, sampled in the same rounds "
      "(table below; the report uses it as its drift control). Bytes/token: "
      "operator new during the timed repetitions. Model MB: the bytes the model holds (weights, "
      "packed weights, activations, KV cache), by the allocation counter.\n\n");
  md += harness::MarkdownTable(
      {"model", "params", "size MB", "impl", "threads", "test", "kv", "t/s", "x PyTorch",
       "t/s (mean ± sd)", "t/s best", "reps", "ms/token", "TTFT ms", "B/token", "KV cache",
       "model MB", "creation ms", "GFLOP/s", "weight GB/s", "% ceiling", "MAD %"},
      {false, true, true, false, true, false, false, true, true, false, true, true, true, true,
       true, true, true, true, true, true, true, true},
      table);
  for (const std::string& note : thread_notes) {
    md += "\nThreads: " + note + "; the row's PyTorch gets the same.\n";
  }
  for (const std::string& note : pytorch_notes) {
    md += "\nPyTorch peer not run: " + note + "\n";
  }
  if (!skipped.empty()) {
    md += "\nSkipped:\n\n" + harness::MarkdownTable({"model", "why"}, {false, false}, skipped);
  }
  md += "\n## Read ceiling: each model's packed linear weights read as a decode step reads them, sampled in the model's rounds\n\n";
  md += harness::MarkdownTable({"model", "threads", "working set", "GB/s best", "GB/s median", "reps"},
                               {false, true, true, true, true, true}, ceiling_table);
  md += "\n## Hot paths (1 thread, one forward of the longest tg test, by kind of kernel)\n\n";
  md += harness::MarkdownTable({"model", "part", "% of time", "µs per token"},
                               {false, false, true, true}, hot_table);
  md += "\n## Scaling\n\n";
  if (size_scaling.count("gpt2-0.5M") && size_scaling.count("gpt2-3.5M")) {
    const auto& [ps, ts] = size_scaling["gpt2-0.5M"];
    const auto& [pm, tm] = size_scaling["gpt2-3.5M"];
    const double pr = static_cast<double>(pm) / ps, tr = tm / ts;
    md += absl::StrFormat(
        "Model size (tg25, KV cache, 1 thread): gpt2-3.5M / gpt2-0.5M (the report's Medium / "
        "Small) = %.2fx parameters, %.2fx time per token (the report saw 7.3x -> 4.2x).\n\n",
        pr, tr);
    record["scaling"]["size"] = {{"params_ratio", pr}, {"time_ratio", tr}};
  }
  std::vector<std::vector<std::string>> thread_rows;
  for (const auto& [key, per] : by_threads) {
    if (!per.count(1)) continue;
    for (const auto& [t, ns] : per) {
      if (t == 1) continue;
      const double speedup = per.at(1) / ns;
      thread_rows.push_back({key, absl::StrCat(t), Fmt(speedup, 2) + "x",
                             Fmt(100.0 * speedup / t, 0) + " %"});
      record["scaling"]["threads"][key][absl::StrCat("t", t)] = {{"speedup", speedup},
                                                                 {"efficiency", speedup / t}};
    }
  }
  if (!thread_rows.empty()) {
    md += harness::MarkdownTable({"model test", "threads", "speed-up vs 1", "efficiency"},
                                 {false, true, true, true}, thread_rows);
  }
  if (table.empty()) {
    // Nothing ran (every model skipped): say so and publish nothing, rather than an empty table
    // with exit 0.
    std::fprintf(stderr, "model_bench: no model was benchmarked (%d skipped); nothing published\n",
                 static_cast<int>(skipped.size()));
    return 1;
  }
  const auto [chart, cases] = TokensChart(record);
  md += "\n## Tokens/s, ours and PyTorch's (`model_bench_tokens.svg`)\n\nCases on the chart's x "
        "axis: " + cases + ".\n";
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("model_bench, %d rows", record["rows"].size()), wrong,
                    "model(s) whose cached and uncached greedy tokens differ or PyTorch peers "
                    "whose ids differ from ours",
                    {{"model_bench_tokens.svg", chart}});
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Run(argc, argv); }
