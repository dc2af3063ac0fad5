// //perf:train_bench — the profiling report's training questions, answered beside PyTorch in the
// same run: the report's MLP training step (`mlp`), its matmul backward pass
// (`matmul_backward`, also beside the BLAS peers), and GPT-2 training steps of the report's two
// configurations (gpt2-0.5M on the bytes, gpt2-3.5M on the tokens of stories sampled from
// stories260K) at batch x seq tokens: ms/step, tokens/s, GFLOP/s and % of the measured FMA peak,
// bytes and allocations per step, the loss at the first and last of the first steps, and where a
// GPT step's time goes. Every row is checked before it is timed. Published to results/.
//
//   bazel run //perf:train_bench -- [--workloads=mlp,gpt2-3.5M] [--threads=1,2] [--quick]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cli.h"
#include "harness/env.h"
#include "harness/results.h"
#include "harness/stats.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm_config.h"
#include "models/gpt2.h"
#include "models/gpt2_train.h"
#include "models/llama.h"
#include "models/tokenizer.h"
#include "models/training_data.h"
#include "perf/measuring.h"
#include "perf/peers.h"
#include "perf/pytorch_peer.h"
#include "perf/suite.h"
#include "perf/train_bench.h"

ABSL_FLAG(std::vector<std::string>, workloads,
          std::vector<std::string>({"mlp", "matmul_backward", "gpt2-0.5M", "gpt2-3.5M"}),
          "Workloads: mlp, matmul_backward, gpt2-0.5M, gpt2-3.5M.");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "Thread counts (our GEMM pool, the BLAS peers' and PyTorch's pools).");
ABSL_FLAG(int32_t, batch, 32, "GPT training batch (sequences per step).");
ABSL_FLAG(int32_t, seq, 64, "GPT training sequence length.");
ABSL_FLAG(int32_t, loss_steps, 10, "GPT steps from a fresh model whose first and last loss are reported.");
ABSL_FLAG(std::vector<std::string>, peers, std::vector<std::string>({"openblas", "blis", "onednn"}),
          "BLAS peers of matmul_backward (or none).");
ABSL_FLAG(bool, pytorch, true, "Also run every workload in PyTorch (perf/pytorch_train_peer.py).");
ABSL_FLAG(std::string, python, "/usr/bin/python3", "The Python that has PyTorch.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "train_bench";
constexpr char kUsage[] =
    "Times training: the report's MLP step and matmul backward, GPT-2 training steps, beside\n"
    "PyTorch (and the BLAS peers for matmul backward) in the same run.\n"
    "  bazel run //perf:train_bench -- [--workloads=mlp,matmul_backward,gpt2-0.5M,gpt2-3.5M]\n"
    "      [--threads=1,2] [--batch=32 --seq=64] [--quick]\n"
    "--quick: batch 4 x seq 32, 3 loss steps.\n";

// A GPT step is hundreds of milliseconds: one per sample; the MLP and matmul backward are
// sub-millisecond: batched to samples of >= 2 ms.
constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 10, .min_sample_s = 0.002, .min_time_s = 0.5, .warmup_s = 0.05},
    .quick = {.min_reps = 3, .min_sample_s = 0.0005, .min_time_s = 0, .warmup_s = 0.001}};

Settings ReadSettingsOrExit() {
  Settings s;
  s.quick = QuickFromFlags();
  s.pytorch = absl::GetFlag(FLAGS_pytorch);
  s.python = absl::GetFlag(FLAGS_python);
  s.measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  s.workloads = absl::GetFlag(FLAGS_workloads);
  for (const std::string& w : s.workloads) {
    if (w != "mlp" && w != "matmul_backward" && w != "gpt2-0.5M" && w != "gpt2-3.5M") {
      ExitWithUsageError("--workloads: unknown workload '" + w + "'");
    }
  }
  auto threads = ParseIntList("threads", absl::GetFlag(FLAGS_threads), 1, 64);
  if (!threads.ok()) ExitWithUsageError(std::string(threads.status().message()));
  s.threads = *threads;
  s.batch = s.quick ? 4 : absl::GetFlag(FLAGS_batch);
  s.seq = s.quick ? 32 : absl::GetFlag(FLAGS_seq);
  s.loss_steps = s.quick ? 3 : absl::GetFlag(FLAGS_loss_steps);
  if (s.batch < 1 || s.batch > 1024) ExitWithUsageError("--batch must be in [1, 1024]");
  if (s.seq < 1 || s.seq > 64) ExitWithUsageError("--seq must be in [1, 64] (the models' context)");
  if (s.loss_steps < 2 || s.loss_steps > 1000) ExitWithUsageError("--loss_steps must be in [2, 1000]");
  return s;
}

std::string Markdown(const Json& record, const Run& run, const Settings& s) {
  const Json& env = record["env"];
  std::string md = absl::StrFormat("# train_bench %s\n\n`%s`\n\n", record["run_id"].get<std::string>(),
                                   record["command"].get<std::string>());
  md += absl::StrFormat(
      "**Machine:** %s, FMA peak %s GFLOP/s per core measured in this run. GPT: batch %d x seq %d "
      "tokens per step, AdamW lr 1e-3, stories sampled from stories260K (gpt2-0.5M on their bytes, "
      "gpt2-3.5M on their tokens); GFLOP/s counts 6 x params x tokens + attention (PaLM's count); "
      "loss: steps 1 and %d from the fresh model, on consecutive batches. mlp: x 32 x 256 -> Linear -> GELU "
      "-> Linear, MSE, SGD (loss over the report's 50 steps). matmul_backward: dA = dC B^T and "
      "dB = A^T dC for 128x256 @ 256x128. x PyTorch: PyTorch's median / ours over blocks of steps "
      "alternating with it (same cores, its pools set to the row's threads; its GPT checked to "
      "give our first loss from the same weights and batch). B/step: operator new per step.\n\n",
      env["cpu_model"].is_string() ? env["cpu_model"].get<std::string>() : "unknown",
      Fmt(run.peak, 1), s.batch, s.seq, s.loss_steps);
  md += harness::MarkdownTable({"workload", "impl", "threads", "ms/step", "x PyTorch", "tokens/s",
                                "GFLOP/s", "% peak", "B/step", "allocs/step", "loss", "reps", "MAD %"},
                               {false, false, true, true, true, true, true, true, true, true, false, true, true},
                               run.table);
  for (const std::string& note : run.notes) md += "\n" + note + "\n";
  if (!run.split.empty()) {
    md += "\n## Where a GPT training step goes\n\nBy phase (forward, backward, optimizer: they sum "
          "to 100) and, across the phases, by kind of kernel (the kinds and `other` sum to 100).\n\n";
    md += harness::MarkdownTable({"model", "threads", "part", "% of the step"}, {false, true, false, true}, run.split);
  }
  return md;
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  Settings s = ReadSettingsOrExit();
  s.argv0 = argv[0];
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  Json record = NewRecord(kSuite, argc, argv, *topology);
  std::vector<std::unique_ptr<PeerGemm>> peers;  // loaded before pinning (see matmul_sweep)
  record["env"]["peers"] = Json::object();
  std::vector<std::string> names = absl::GetFlag(FLAGS_peers);
  if (names == std::vector<std::string>{"none"}) names.clear();
  for (const std::string& name : names) {
    auto p = LoadPeer(name, {.openblas_coretype = AutoOpenBlasCoretype()});
    record["env"]["peers"][name] = p.ok() ? (*p)->Info() : Json({{"error", std::string(p.status().message())}});
    if (p.ok()) peers.push_back(std::move(*p));
  }
  int most = 1;
  for (int64_t t : s.threads) most = std::max<int>(most, static_cast<int>(t));
  record["rows"] = Json::array();
  Run run{record["rows"], {}, {}, 0, *topology, CoresFromFlagsOrExit(*topology, most), 0, {}};
  const harness::PinResult pin = PinMeasuringThread(kSuite, *topology, run.cores[0]);
  record["env"]["peak"] = MeasureFmaPeak();
  run.peak = record["env"]["peak"]["gflops"].is_number() ? record["env"]["peak"]["gflops"].get<double>() : 0;
  record["env"]["best_isa"] = std::string(kernels::IsaName(kernels::BestIsa()));
  record["env"]["pinning"] = {{"policy", PinningDescription()}, {"cores", run.cores},
                              {"main", pin.ok ? Json(pin.os_cpu) : Json(pin.error)}};
  // The stories, once: enough tokens (and bytes) for the loss steps and the timed batch.
  models::StoryCorpus stories;
  const bool gpt = std::any_of(s.workloads.begin(), s.workloads.end(), [](const std::string& w) { return w.rfind("gpt2", 0) == 0; });
  if (gpt) {
    const std::string dir = (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data").string();
    auto llama = models::LlamaModel::FromFile(dir + "/stories260K.bin");
    auto tok = llama.ok() ? models::Tokenizer::FromFile(dir + "/tok512.bin", (*llama)->vocab_size())
                          : absl::StatusOr<models::Tokenizer>(llama.status());
    auto corpus = tok.ok() ? models::SampleStories(**llama, *tok, int64_t{s.batch} * s.seq * (s.loss_steps + 1), 1)
                           : absl::StatusOr<models::StoryCorpus>(tok.status());
    if (!corpus.ok()) {
      std::fprintf(stderr, "train_bench: the stories corpus: %s\n", std::string(corpus.status().message()).c_str());
      return 1;
    }
    stories = std::move(*corpus);
  }
  for (int64_t t : s.threads) {
    for (const std::string& w : s.workloads) {
      if (w == "mlp") RunMlp(run, s, t);
      if (w == "matmul_backward") RunMatmulBackward(run, s, t, peers);
      if (w.rfind("gpt2", 0) == 0) RunGpt(run, s, t, w, stories);
    }
  }
  return PublishRun(kSuite, output, record, Markdown(record, run, s),
                    absl::StrFormat("train_bench, %d rows", record["rows"].size()), run.wrong,
                    "workload(s) failing their check");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
