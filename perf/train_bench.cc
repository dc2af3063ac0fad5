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
#include "perf/train_workloads.h"

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

using harness::Json;
using Table = std::vector<std::vector<std::string>>;

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct Settings {
  std::vector<std::string> workloads;
  std::vector<int64_t> threads;
  int batch, seq, loss_steps;
  harness::MeasureOptions measure;
  bool quick;
};

Settings ReadSettingsOrExit() {
  Settings s;
  s.quick = QuickFromFlags();
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

// What a run shares: where rows go, the peak, the cores.
struct Run {
  Json& rows;
  Table table, split;
  double peak = 0;  // GFLOP/s per core
  const harness::Topology& topo;
  std::vector<int> cores;
  int wrong = 0;
  std::vector<std::string> notes;
};

// PyTorch's median time per step over blocks alternating with ours, and ours in the same
// blocks: "x PyTorch" is their ratio.
struct Versus {
  double theirs_ns = NAN, ours_ns = NAN;
  int reps = 0;
  Json config;
  std::string why_not;
};

Versus AlternateWithPyTorch(const std::function<void()>& ours,
                            const std::function<absl::StatusOr<std::vector<double>>(int)>& theirs,
                            const std::function<void()>& park, const std::function<void()>& unpark,
                            const Settings& s) {
  Versus v;
  const int blocks = s.quick ? 2 : 5, per_block = s.quick ? 2 : std::max(2, s.measure.min_reps / 2);
  std::vector<double> ours_ns, theirs_ns;
  for (int b = 0; b < blocks; ++b) {
    unpark();
    for (int r = 0; r < per_block; ++r) {
      const auto start = std::chrono::steady_clock::now();
      ours();
      ours_ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
    }
    park();  // our pool's workers spin between calls: parked while PyTorch runs
    auto ns = theirs(per_block);
    if (!ns.ok()) {
      v.why_not = std::string(ns.status().message());
      return v;
    }
    theirs_ns.insert(theirs_ns.end(), ns->begin(), ns->end());
  }
  unpark();
  v.ours_ns = harness::Summarize(ours_ns).median;
  v.theirs_ns = harness::Summarize(theirs_ns).median;
  v.reps = static_cast<int>(theirs_ns.size());
  return v;
}

// The row of ours (or a BLAS peer) from its outcome; PyTorch's row beside it when it ran.
void AddRows(Run& run, const std::string& workload, Outcome& o, int64_t threads, double flops,
             double tokens, const Versus& vs, float loss_first, float loss_last) {
  Json& j = o.row;
  const std::string impl = j["impl"];
  if (!o.m) {
    ++run.wrong;
    run.table.push_back({workload, impl, absl::StrCat(threads), "WRONG: " + o.check.detail});
    run.rows.push_back(j);
    return;
  }
  const double ns = o.m->summary.median, gflops = flops / ns;
  j.update({{"workload", workload}, {"ms_per_step", ns / 1e6}, {"gflops", gflops},
            {"pct_peak", run.peak > 0 ? Json(100 * gflops / (run.peak * threads)) : Json(nullptr)},
            {"bytes_per_step", j["alloc"]["bytes"]}, {"allocs_per_step", j["alloc"]["count"]}});
  if (tokens > 0) j["tokens_per_s"] = tokens * 1e9 / ns;
  if (!std::isnan(loss_first)) j.update({{"loss_first", loss_first}, {"loss_last", loss_last}});
  const bool ours = impl == "kernel-lab";
  if (ours && !std::isnan(vs.theirs_ns)) j["x_pytorch"] = vs.theirs_ns / vs.ours_ns;
  auto cell = [](const Json& v, int digits) { return v.is_number() ? Fmt(v.get<double>(), digits) : std::string("—"); };
  run.table.push_back({workload, impl, absl::StrCat(threads), Fmt(ns / 1e6, 3),
                       j.contains("x_pytorch") ? Fmt(j["x_pytorch"].get<double>(), 2) + "x" : "—",
                       tokens > 0 ? Fmt(tokens * 1e9 / ns, 0) : "—", Fmt(gflops, 1),
                       cell(j["pct_peak"], 1), cell(j["bytes_per_step"], 0),
                       cell(j["allocs_per_step"], 1),
                       std::isnan(loss_first) ? "—" : Fmt(loss_first, 3) + " → " + Fmt(loss_last, 3),
                       absl::StrCat(o.m->samples_ns.size()), MadCell(o.m->summary)});
  std::fprintf(stderr, "%-16s %-10s t%-2d %10.3f ms/step %8.1f GFLOP/s %s\n", workload.c_str(),
               impl.c_str(), static_cast<int>(threads), ns / 1e6, gflops,
               MadCell(o.m->summary).c_str());
  run.rows.push_back(j);
  if (!ours || std::isnan(vs.theirs_ns)) return;
  const double t = vs.theirs_ns, tg = flops / t;
  Json p = {{"name", absl::StrFormat("train/%s/pytorch/t%d", workload, threads)}, {"op", "train"},
            {"workload", workload}, {"impl", "pytorch"}, {"threads", threads},
            {"variant", "torch " + vs.config.value("torch", std::string("?"))},
            {"peer_config", vs.config}, {"ms_per_step", t / 1e6}, {"gflops", tg},
            {"pct_peak", run.peak > 0 ? Json(100 * tg / (run.peak * threads)) : Json(nullptr)},
            {"reps", vs.reps}, {"stopped_by", "alternating blocks"},
            {"ours_median_ns_same_blocks", vs.ours_ns}, {"check", {{"ok", true}}}};
  if (tokens > 0) p["tokens_per_s"] = tokens * 1e9 / t;
  run.rows.push_back(p);
  run.table.push_back({workload, "pytorch", absl::StrCat(threads), Fmt(t / 1e6, 3), "—",
                       tokens > 0 ? Fmt(tokens * 1e9 / t, 0) : "—", Fmt(tg, 1),
                       run.peak > 0 ? Fmt(100 * tg / (run.peak * threads), 1) : "—", "—", "—",
                       "—", absl::StrCat(vs.reps), "—"});
}

Json RowBase(const std::string& workload, const std::string& impl, int64_t threads,
             const std::vector<int>& cpus) {
  return {{"name", absl::StrFormat("train/%s/%s/t%d", workload, impl, threads)}, {"op", "train"},
          {"workload", workload}, {"variant", impl == "kernel-lab" ? workload : impl},
          {"impl", impl}, {"threads", threads}, {"pinned", cpus}};
}

// A PyTorch training peer on these cores and threads, or why not.
absl::StatusOr<std::unique_ptr<PyTorchPeer>> StartPeer(const char* argv0, const std::string& model,
                                                       int64_t threads, const std::vector<int>& cpus) {
  if (!absl::GetFlag(FLAGS_pytorch)) return absl::FailedPreconditionError("--nopytorch");
  const std::string script = PyTorchPeerScript(argv0, "pytorch_train_peer.py");
  if (script.empty()) return absl::FailedPreconditionError("perf/pytorch_train_peer.py not found");
  return PyTorchPeer::Start(absl::GetFlag(FLAGS_python), script, model, static_cast<int>(threads), cpus);
}

std::vector<int> UseThreads(const Run& run, int64_t threads) {
  std::vector<int> cpus;
  for (int64_t i = 0; i < threads; ++i) cpus.push_back(run.topo.OsCpuOfCore(run.cores[i]));
  kernels::SetGemmThreads(static_cast<int>(threads), cpus);
  return cpus;
}

void RunMlp(Run& run, const Settings& s, int64_t t, const char* argv0) {
  const std::vector<int> cpus = UseThreads(run, t);
  MlpWorkload mlp(1);
  float first = NAN, last = NAN;
  Implementation ours{.row = RowBase("mlp", "kernel-lab", t, cpus), .call = [&] { last = mlp.Step(); },
                      .check = [&] { return mlp.Check(); }};
  std::vector<Outcome> out = CheckThenTime({ours}, s.measure, true);
  mlp.Reset();
  first = mlp.Step();
  for (int i = 1; i < 50; ++i) last = mlp.Step();  // the report's 50 steps
  Versus vs;
  auto peer = StartPeer(argv0, "", t, cpus);
  if (peer.ok()) {
    vs = AlternateWithPyTorch([&] { mlp.Step(); },
        [&](int reps) { return (*peer)->CallForNumbers({{"cmd", "mlp_time"}, {"reps", reps}}, "ns"); },
        [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, [&] { UseThreads(run, t); }, s);
    vs.config = (*peer)->ready();
  } else {
    vs.why_not = std::string(peer.status().message());
  }
  if (!vs.why_not.empty()) run.notes.push_back("PyTorch, mlp t" + std::to_string(t) + ": " + vs.why_not);
  AddRows(run, "mlp", out[0], t, MlpWorkload::FlopsPerStep(), 0, vs, first, last);
}

void RunMatmulBackward(Run& run, const Settings& s, int64_t t, const char* argv0,
                       const std::vector<std::unique_ptr<PeerGemm>>& peers) {
  const std::vector<int> cpus = UseThreads(run, t);
  MatmulBackward mb(1);
  auto ours_gemm = [](const kernels::SgemmArgs& a, void*) {
    (void)kernels::Sgemm(a.trans_a, a.trans_b, a.m, a.n, a.k, a.alpha, a.a, a.lda, a.b, a.ldb,
                         a.beta, a.c, a.ldc);
  };
  auto peer_gemm = [](const kernels::SgemmArgs& a, void* p) { static_cast<PeerGemm*>(p)->Sgemm(a); };
  std::vector<Implementation> impls;
  auto check_of = [&mb](std::function<void()> call) {
    return [&mb, call] { mb.PoisonOutputs(); call(); return mb.Check(); };
  };
  std::function<void()> ours = [&mb, ours_gemm] { mb.Run(ours_gemm, nullptr); };
  impls.push_back({.row = RowBase("matmul_backward", "kernel-lab", t, cpus), .call = ours,
                   .check = check_of(ours)});
  for (const auto& p : peers) {
    p->SetThreads(static_cast<int>(t));
    std::function<void()> call = [&mb, peer_gemm, q = p.get()] { mb.Run(peer_gemm, q); };
    impls.push_back({.row = RowBase("matmul_backward", std::string(p->name()), t, cpus), .call = call,
                     .check = check_of(call), .group = 1,
                     .enter = [&run, t] {
                       std::vector<int> cores(run.cores.begin(), run.cores.begin() + t);
                       run.topo.PinThisThreadToCores(cores);
                     }});
    impls.back().row["peer_config"] = p->Info();
  }
  // Our pool and the peers' spinning workers must not share rounds on more than one thread.
  std::vector<Outcome> out = CheckThenTime(impls, s.measure, t == 1 || peers.empty());
  run.topo.PinThisThreadToCore(run.cores[0]);
  Versus vs;
  auto peer = StartPeer(argv0, "", t, cpus);
  if (peer.ok()) {
    vs = AlternateWithPyTorch(ours,
        [&](int reps) { return (*peer)->CallForNumbers({{"cmd", "matmul_backward_time"}, {"reps", reps}}, "ns"); },
        [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, [&] { UseThreads(run, t); }, s);
    vs.config = (*peer)->ready();
  } else {
    vs.why_not = std::string(peer.status().message());
  }
  if (!vs.why_not.empty()) run.notes.push_back("PyTorch, matmul_backward t" + std::to_string(t) + ": " + vs.why_not);
  for (Outcome& o : out) AddRows(run, "matmul_backward", o, t, MatmulBackward::Flops(), 0, vs, NAN, NAN);
}

// The corpus of a GPT config: the stories' tokens for V 512, their bytes for V 256.
const std::vector<int>& CorpusFor(const models::Gpt2Config& c, const models::StoryCorpus& stories) {
  return c.vocab == 256 ? stories.bytes : stories.tokens;
}

void RunGpt(Run& run, const Settings& s, int64_t t, const char* argv0, const std::string& name,
            const models::StoryCorpus& stories) {
  const std::vector<int> cpus = UseThreads(run, t);
  const models::Gpt2Config config = *models::Gpt2Config::Named(name);
  auto model = models::Gpt2Model::Create(config, 1);
  auto trainer = models::Gpt2Trainer::Create(**model, s.batch, s.seq);
  if (!trainer.ok()) {
    run.notes.push_back(name + ": " + std::string(trainer.status().message()));
    return;
  }
  const std::vector<int>& corpus = CorpusFor(config, stories);
  const int n = s.batch * s.seq;
  std::vector<int> in(n), target(n);
  const models::AdamW opt{.lr = 1e-3f, .weight_decay = 0.0f};
  // The first steps from the fresh model, on consecutive batches of the corpus.
  const std::string file = (*trainer)->FileBytes();
  std::vector<float> losses;
  for (int step = 1; step <= s.loss_steps; ++step) {
    models::CorpusBatch(corpus, s.batch, s.seq, int64_t{step - 1} * n, in.data(), target.data());
    losses.push_back(*(*trainer)->Step(in.data(), target.data(), opt, step));
  }
  int step = s.loss_steps;
  models::CorpusBatch(corpus, s.batch, s.seq, 0, in.data(), target.data());
  std::function<void()> call = [&] { (void)(*trainer)->Step(in.data(), target.data(), opt, ++step); };
  // Checked: a fresh model predicts about uniformly (ln V within 1), and the steps learned.
  auto check = [&] {
    const double lnv = std::log(static_cast<double>(config.vocab));
    CheckResult c;
    c.max_err_ratio = std::fabs(losses.front() - lnv);
    c.ok = c.max_err_ratio <= 1.0 && losses.back() < losses.front();
    if (!c.ok) c.detail = absl::StrFormat("loss %g -> %g (ln V = %g)", losses.front(), losses.back(), lnv);
    return c;
  };
  Json row = RowBase(name, "kernel-lab", t, cpus);
  row.update({{"batch", s.batch}, {"seq", s.seq}, {"params", (*trainer)->num_params()},
              {"flops_per_step", (*trainer)->flops_per_step()}, {"losses", losses}});
  std::vector<Outcome> out = CheckThenTime({{.row = row, .call = call, .check = check}}, s.measure, true);
  // Where a step goes.
  models::TrainProfile profile;
  (*trainer)->set_profile(&profile);
  for (int r = 0; r < (s.quick ? 1 : 3); ++r) call();
  (*trainer)->set_profile(nullptr);
  double total = 0;
  for (double v : profile.ns) total += v;
  for (int k = 0; k < models::TrainProfile::kCount; ++k) {
    out[0].row["split"][models::TrainProfile::kNames[k]] = profile.ns[k] / total;
    run.split.push_back({name, absl::StrCat(t), models::TrainProfile::kNames[k], Fmt(100 * profile.ns[k] / total, 1)});
  }
  // PyTorch from the same weights: its first step on the first batch must give our first loss.
  Versus vs;
  const std::string path = (std::filesystem::temp_directory_path() /
                            absl::StrFormat("klab_train_%s_%d.bin", name, getpid())).string();
  std::ofstream(path, std::ios::binary).write(file.data(), file.size());
  auto peer = StartPeer(argv0, path, t, cpus);
  std::filesystem::remove(path);
  if (peer.ok()) {
    vs.config = (*peer)->ready();
    std::vector<int> in0(n), target0(n);
    models::CorpusBatch(corpus, s.batch, s.seq, 0, in0.data(), target0.data());
    auto setup = (*peer)->Call({{"cmd", "gpt"}, {"batch", s.batch}, {"seq", s.seq}, {"lr", opt.lr},
                                {"beta1", opt.beta1}, {"beta2", opt.beta2}, {"eps", opt.eps},
                                {"weight_decay", opt.weight_decay}});
    auto first = setup.ok() ? (*peer)->Call({{"cmd", "gpt_step"}, {"inputs", in0}, {"targets", target0}})
                            : setup;
    if (!first.ok()) {
      vs.why_not = std::string(first.status().message());
    } else if (std::fabs((*first)["loss"].get<double>() - losses.front()) > 1e-4 * losses.front()) {
      vs.why_not = absl::StrFormat("its first loss %g differs from ours %g: not timed",
                                   (*first)["loss"].get<double>(), losses.front());
      ++run.wrong;
    } else {
      vs = AlternateWithPyTorch(call,
          [&](int reps) {
            return (*peer)->CallForNumbers({{"cmd", "gpt_time"}, {"inputs", in}, {"targets", target}, {"reps", reps}}, "ns");
          },
          [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, [&] { UseThreads(run, t); }, s);
      vs.config = (*peer)->ready();
    }
  } else {
    vs.why_not = std::string(peer.status().message());
  }
  if (!vs.why_not.empty()) run.notes.push_back("PyTorch, " + name + " t" + std::to_string(t) + ": " + vs.why_not);
  AddRows(run, name, out[0], t, (*trainer)->flops_per_step(), n, vs, losses.front(), losses.back());
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
    md += "\n## Where a GPT training step goes\n\n";
    md += harness::MarkdownTable({"model", "threads", "part", "% of the step"}, {false, true, false, true}, run.split);
  }
  return md;
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const Settings s = ReadSettingsOrExit();
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
      if (w == "mlp") RunMlp(run, s, t, argv[0]);
      if (w == "matmul_backward") RunMatmulBackward(run, s, t, argv[0], peers);
      if (w.rfind("gpt2", 0) == 0) RunGpt(run, s, t, argv[0], w, stories);
    }
  }
  return PublishRun(kSuite, output, record, Markdown(record, run, s),
                    absl::StrFormat("train_bench, %d rows", record["rows"].size()), run.wrong,
                    "workload(s) failing their check");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
