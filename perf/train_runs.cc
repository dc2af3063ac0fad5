// The workload runners of //perf:train_bench: each workload checked and timed on the measuring
// layer, PyTorch beside it in alternating blocks, and its rows.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/stats.h"
#include "kernels/gemm/gemm_config.h"
#include "models/gpt2.h"
#include "models/gpt2_train.h"
#include "perf/measuring.h"
#include "perf/pytorch_peer.h"
#include "perf/train_bench.h"
#include "perf/train_workloads.h"

namespace klab::perf {
namespace {

Versus AlternateWithPyTorch(const std::function<void()>& ours,
                            const std::function<absl::StatusOr<std::vector<double>>(int)>& theirs,
                            const std::function<void()>& park, const std::function<void()>& unpark,
                            const Settings& s) {
  Versus v;
  const int blocks = s.quick ? 2 : 5, per_block = s.quick ? 2 : std::max(2, s.measure.min_reps / 2);
  // Our pool's workers spin between calls: parked while PyTorch runs.
  const Alternation a = AlternateBlocks(blocks, per_block, ours, theirs, unpark, park);
  unpark();
  if (!a.status.ok()) {
    v.why_not = std::string(a.status.message());
    return v;
  }
  v.ours_ns = harness::Summarize(a.ours_ns).median;
  v.theirs_ns = harness::Summarize(a.theirs_ns).median;
  v.reps = static_cast<int>(a.theirs_ns.size());
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
absl::StatusOr<std::unique_ptr<PyTorchPeer>> StartPeer(const Settings& s, const std::string& model,
                                                       int64_t threads, const std::vector<int>& cpus) {
  if (!s.pytorch) return absl::FailedPreconditionError("--nopytorch");
  const std::string script = PyTorchPeerScript(s.argv0, "pytorch_train_peer.py");
  if (script.empty()) return absl::FailedPreconditionError("perf/pytorch_train_peer.py not found");
  return PyTorchPeer::Start(s.python, script, model, static_cast<int>(threads), cpus);
}

std::vector<int> UseThreads(const Run& run, int64_t threads) {
  std::vector<int> cpus;
  for (int64_t i = 0; i < threads; ++i) cpus.push_back(run.topo.OsCpuOfCore(run.cores[i]));
  kernels::SetGemmThreads(static_cast<int>(threads), cpus);
  return cpus;
}

// PyTorch's `command` (a *_time command of perf/pytorch_train_peer.py) against `ours` at t
// threads; why it did not run goes into the run's notes.
Versus VersusPyTorch(Run& run, const Settings& s, int64_t t, const std::string& workload,
                     const std::string& command, const std::function<void()>& ours) {
  const std::vector<int> cpus = UseThreads(run, t);
  Versus vs;
  auto peer = StartPeer(s, "", t, cpus);
  if (peer.ok()) {
    vs = AlternateWithPyTorch(ours,
        [&](int reps) { return (*peer)->CallForNumbers({{"cmd", command}, {"reps", reps}}, "ns"); },
        [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, [&] { UseThreads(run, t); }, s);
    vs.config = (*peer)->ready();
  } else {
    vs.why_not = std::string(peer.status().message());
  }
  if (!vs.why_not.empty()) run.notes.push_back("PyTorch, " + workload + " t" + std::to_string(t) + ": " + vs.why_not);
  return vs;
}

// PyTorch from our fresh weights (`file`): its first step on the batch (in, target) must give our
// first loss before its steps are timed against `ours` in alternating blocks.
Versus GptVersusPyTorch(Run& run, const Settings& s, int64_t t, const std::string& name,
                        const std::string& file, const std::vector<int>& in,
                        const std::vector<int>& target, const models::AdamW& opt,
                        float first_loss, const std::function<void()>& ours) {
  const std::vector<int> cpus = UseThreads(run, t);
  Versus vs;
  const std::string path = (std::filesystem::temp_directory_path() /
                            absl::StrFormat("klab_train_%s_%d.bin", name, getpid())).string();
  std::ofstream(path, std::ios::binary).write(file.data(), file.size());
  auto peer = StartPeer(s, path, t, cpus);
  std::filesystem::remove(path);
  if (!peer.ok()) {
    vs.why_not = std::string(peer.status().message());
    return vs;
  }
  vs.config = (*peer)->ready();
  auto setup = (*peer)->Call({{"cmd", "gpt"}, {"batch", s.batch}, {"seq", s.seq}, {"lr", opt.lr},
                              {"beta1", opt.beta1}, {"beta2", opt.beta2}, {"eps", opt.eps},
                              {"weight_decay", opt.weight_decay}});
  auto first = setup.ok() ? (*peer)->Call({{"cmd", "gpt_step"}, {"inputs", in}, {"targets", target}})
                          : setup;
  if (!first.ok()) {
    vs.why_not = std::string(first.status().message());
    return vs;
  }
  const double theirs = (*first)["loss"].get<double>();
  if (std::fabs(theirs - first_loss) > 1e-4 * first_loss) {
    vs.why_not = absl::StrFormat("its first loss %g differs from ours %g: not timed", theirs, first_loss);
    ++run.wrong;
    return vs;
  }
  vs = AlternateWithPyTorch(ours,
      [&](int reps) {
        return (*peer)->CallForNumbers({{"cmd", "gpt_time"}, {"inputs", in}, {"targets", target}, {"reps", reps}}, "ns");
      },
      [&] { kernels::SetGemmThreads(1, {cpus[0]}); }, [&] { UseThreads(run, t); }, s);
  vs.config = (*peer)->ready();
  return vs;
}

}  // namespace

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

void RunMlp(Run& run, const Settings& s, int64_t t) {
  const std::vector<int> cpus = UseThreads(run, t);
  MlpWorkload mlp(1);
  float first = NAN, last = NAN;
  Implementation ours{.row = RowBase("mlp", "kernel-lab", t, cpus), .call = [&] { last = mlp.Step(); },
                      .check = [&] { return mlp.Check(); }};
  std::vector<Outcome> out = CheckThenTime({ours}, s.measure, true);
  mlp.Reset();
  first = mlp.Step();
  for (int i = 1; i < 50; ++i) last = mlp.Step();  // the report's 50 steps
  const Versus vs = VersusPyTorch(run, s, t, "mlp", "mlp_time", [&] { mlp.Step(); });
  AddRows(run, "mlp", out[0], t, MlpWorkload::FlopsPerStep(), 0, vs, first, last);
}

void RunMatmulBackward(Run& run, const Settings& s, int64_t t,
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
  const Versus vs = VersusPyTorch(run, s, t, "matmul_backward", "matmul_backward_time", ours);
  for (Outcome& o : out) AddRows(run, "matmul_backward", o, t, MatmulBackward::Flops(), 0, vs, NAN, NAN);
}

// The corpus of a GPT config: the stories' tokens for V 512, their bytes for V 256.
const std::vector<int>& CorpusFor(const models::Gpt2Config& c, const models::StoryCorpus& stories) {
  return c.vocab == 256 ? stories.bytes : stories.tokens;
}

void RunGpt(Run& run, const Settings& s, int64_t t, const std::string& name,
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
  double total = 0, kinds = 0;
  for (double v : profile.ns) total += v;
  auto add = [&](const char* part, double ns) {
    out[0].row["split"][part] = ns / total;
    run.split.push_back({name, absl::StrCat(t), part, Fmt(100 * ns / total, 1)});
  };
  for (int k = 0; k < models::TrainProfile::kCount; ++k) add(models::TrainProfile::kNames[k], profile.ns[k]);
  for (int k = 0; k < models::TrainProfile::kKinds; ++k) {
    add(models::TrainProfile::kKindNames[k], profile.kind_ns[k]);
    kinds += profile.kind_ns[k];
  }
  add("other (loss, embeddings, residuals, AdamW)", total - kinds);
  // PyTorch from the same weights: its first step on the first batch must give our first loss.
  models::CorpusBatch(corpus, s.batch, s.seq, 0, in.data(), target.data());
  const Versus vs = GptVersusPyTorch(run, s, t, name, file, in, target, opt, losses.front(), call);
  if (!vs.why_not.empty()) run.notes.push_back("PyTorch, " + name + " t" + std::to_string(t) + ": " + vs.why_not);
  AddRows(run, name, out[0], t, (*trainer)->flops_per_step(), n, vs, losses.front(), losses.back());
}

}  // namespace klab::perf
