// //perf:memory_bench — the profiling report's memory questions, answered with counts (the
// allocation counter's operator new bytes and calls, page faults from the kernel's software
// events), not estimates:
//   pooling          one GPT block forward (gpt2-3.5M's width, batch x seq tokens): a fresh
//                    buffer per intermediate tensor, as a tensor library without a pool does,
//                    against the same kernels on buffers allocated once (the models' arenas);
//   in_place         add, scale and GELU at n = 1e5: a new result array per call, against a
//                    destination given by the caller, against overwriting the input;
//   layernorm        32 x 512, 1000 iterations: the fused kernel against mean, variance and
//                    normalisation as separate passes over fresh arrays;
//   models           each model's bytes at creation, its peak while creating, the creation
//                    time, the KV cache, and the bytes per generated token;
//   training         bytes of the first training step and of a later one, for every workload.
// Rows carry `case`, `variant`, `bytes_per_call`, `allocs_per_call` and, against the case's
// allocating baseline, `reduction_pct`. Published to results/.
//
//   bazel run //perf:memory_bench -- [--cases=pooling,in_place] [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/alloc_counter.h"
#include "harness/env.h"
#include "harness/results.h"
#include "kernels/activation/activation.h"
#include "kernels/cpu/cpu.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/norm/norm.h"
#include "kernels/softmax/softmax.h"
#include "models/generation.h"
#include "models/gpt2.h"
#include "models/gpt2_train.h"
#include "models/load_model.h"
#include "models/sampler.h"
#include "perf/measuring.h"
#include "perf/suite.h"
#include "perf/train_workloads.h"

ABSL_FLAG(std::vector<std::string>, cases,
          std::vector<std::string>({"pooling", "in_place", "layernorm", "models", "training"}),
          "Cases: pooling, in_place, layernorm, models, training.");
ABSL_FLAG(int32_t, batch, 32, "Sequences per GPT block forward and training step.");
ABSL_FLAG(int32_t, seq, 64, "Tokens per sequence.");

namespace klab::perf {
namespace {

constexpr char kSuite[] = "memory_bench";
constexpr char kUsage[] =
    "Counts the memory the report asked about: pooling, in-place ops, the fused LayerNorm,\n"
    "models at creation and per token, training steps (bytes and calls of operator new).\n"
    "  bazel run //perf:memory_bench -- [--cases=pooling,in_place,layernorm,models,training]\n"
    "--quick: batch 4 x seq 32.\n";

constexpr MeasureDefaults kDefaults = {
    .full = {.min_reps = 10, .min_sample_s = 0.002, .min_time_s = 0.2, .warmup_s = 0.02},
    .quick = {.min_reps = 3, .min_sample_s = 0.0005, .min_time_s = 0, .warmup_s = 0.001}};

using harness::Json;
using Table = std::vector<std::vector<std::string>>;
using kernels::Trans;

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

struct Run {
  Json& rows;
  Table table;
  harness::MeasureOptions measure;
  int batch, seq;
  int wrong = 0;
};

std::vector<float> Random(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A row per outcome: bytes and calls of operator new per call, page faults, time; the reduction
// against the case's first (allocating) variant.
void AddRows(Run& run, const std::string& name, std::vector<Outcome> outcomes, double calls_per_rep = 1) {
  double baseline = NAN;
  for (Outcome& o : outcomes) {
    Json& j = o.row;
    const std::string variant = j["variant"];
    if (!o.m) {
      ++run.wrong;
      run.table.push_back({name, variant, "WRONG: " + o.check.detail});
      run.rows.push_back(j);
      continue;
    }
    const double bytes = o.m->alloc_bytes_per_rep * calls_per_rep, allocs = o.m->allocs_per_rep * calls_per_rep;
    const Json& faults = j["counters"]["page-faults"];
    j.update({{"case", name}, {"bytes_per_call", bytes}, {"allocs_per_call", allocs},
              {"ms_per_call", o.m->summary.median * calls_per_rep / 1e6}});
    if (std::isnan(baseline)) baseline = bytes;
    const bool has_reduction = baseline > 0 && variant != j["baseline_of"].get<std::string>();
    if (has_reduction) j["reduction_pct"] = 100.0 * (1.0 - bytes / baseline);
    run.table.push_back({name, variant, Fmt(bytes, 0), Fmt(allocs, 1),
                         faults.is_number() ? Fmt(faults.get<double>() * calls_per_rep, 1) : "n/a",
                         Fmt(o.m->summary.median * calls_per_rep / 1e3, 1),
                         has_reduction ? Fmt(j["reduction_pct"].get<double>(), 1) + " %" : "—",
                         MadCell(o.m->summary)});
    run.rows.push_back(j);
  }
}

Json Row(const std::string& name, const std::string& variant, const std::string& baseline) {
  return {{"name", absl::StrFormat("memory/%s/%s", name, variant)}, {"op", "memory"},
          {"variant", variant}, {"impl", "kernel-lab"}, {"threads", 1}, {"baseline_of", baseline}};
}

// One GPT block forward (pre-LayerNorm attention and MLP, as the models run it) over N = B T
// rows of width d, on the buffers it is given.
struct Block {
  int64_t B, T, D, H;
  std::vector<float> ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, fcp_w, fcp_b;
  std::vector<float> x;
  struct Buffers { float *ln, *qkv, *scores, *att, *x1, *fc, *gelu, *out; };

  explicit Block(int64_t b, int64_t t) : B(b), T(t), D(256), H(8) {
    const int64_t d = D;
    ln1_w = Random(d, 1, 0.1f), ln1_b = Random(d, 2, 0.1f), attn_w = Random(3 * d * d, 3, 0.05f);
    attn_b = Random(3 * d, 4, 0.05f), proj_w = Random(d * d, 5, 0.05f), proj_b = Random(d, 6, 0.05f);
    ln2_w = Random(d, 7, 0.1f), ln2_b = Random(d, 8, 0.1f), fc_w = Random(4 * d * d, 9, 0.05f);
    fc_b = Random(4 * d, 10, 0.05f), fcp_w = Random(4 * d * d, 11, 0.05f), fcp_b = Random(d, 12, 0.05f);
    x = Random(B * T * d, 13);
    for (float& w : ln1_w) w += 1.0f;
    for (float& w : ln2_w) w += 1.0f;
  }
  void Linear(int64_t in, int64_t out, const float* a, const std::vector<float>& w, const std::vector<float>& b, float beta, float* y) const {
    const int64_t N = B * T;
    (void)kernels::Sgemm(Trans::kNo, Trans::kYes, N, out, in, 1.0f, a, in, w.data(), in, beta, y, out);
    kernels::BroadcastAdd(N, out, y, out, b.data(), y, out);
  }
  void Forward(const Buffers& f) const {
    const int64_t N = B * T, d = D, hs = D / H;
    kernels::LayerNorm(N, d, x.data(), d, ln1_w.data(), ln1_b.data(), 1e-5f, f.ln, d);
    Linear(d, 3 * d, f.ln, attn_w, attn_b, 0.0f, f.qkv);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        const float* q = f.qkv + b * T * 3 * d + h * hs;
        (void)kernels::Sgemm(Trans::kNo, Trans::kYes, T, T, hs, scale, q, 3 * d, q + d, 3 * d, 0.0f, f.scores, T);
        kernels::SoftmaxCausal(T, T, 0, f.scores, T, f.scores, T);
        (void)kernels::Sgemm(Trans::kNo, Trans::kNo, T, hs, T, 1.0f, f.scores, T, q + 2 * d, 3 * d, 0.0f,
                             f.att + b * T * d + h * hs, d);
      }
    }
    std::memcpy(f.x1, x.data(), N * d * sizeof(float));
    Linear(d, d, f.att, proj_w, proj_b, 1.0f, f.x1);
    kernels::LayerNorm(N, d, f.x1, d, ln2_w.data(), ln2_b.data(), 1e-5f, f.ln, d);
    Linear(d, 4 * d, f.ln, fc_w, fc_b, 0.0f, f.fc);
    kernels::GeluTanh(N * 4 * d, f.fc, f.gelu);
    std::memcpy(f.out, f.x1, N * d * sizeof(float));
    Linear(4 * d, d, f.gelu, fcp_w, fcp_b, 1.0f, f.out);
  }
};

void Pooling(Run& run) {
  Block block(run.batch, run.seq);
  const int64_t N = block.B * block.T, d = block.D, T = block.T;
  std::vector<float> pooled(N * d + 3 * N * d + T * T + N * d + N * d + 4 * N * d + 4 * N * d + N * d);
  const Block::Buffers pool{pooled.data(), pooled.data() + N * d, pooled.data() + 4 * N * d,
                            pooled.data() + 4 * N * d + T * T, pooled.data() + 5 * N * d + T * T,
                            pooled.data() + 6 * N * d + T * T, pooled.data() + 10 * N * d + T * T,
                            pooled.data() + 14 * N * d + T * T};
  std::unique_ptr<float[]> last_allocating;
  auto allocating = [&] {
    // Every intermediate a fresh tensor (uninitialised, as torch.empty), freed when the call
    // ends; the result is kept.
    auto fresh = [](int64_t n) { return std::make_unique_for_overwrite<float[]>(n); };
    auto ln = fresh(N * d), qkv = fresh(3 * N * d), scores = fresh(T * T), att = fresh(N * d),
         x1 = fresh(N * d), fc = fresh(4 * N * d), gelu = fresh(4 * N * d), out = fresh(N * d);
    block.Forward({ln.get(), qkv.get(), scores.get(), att.get(), x1.get(), fc.get(), gelu.get(), out.get()});
    last_allocating.swap(out);
  };
  auto same = [&] {
    allocating();
    block.Forward(pool);
    CheckResult c;
    c.ok = std::memcmp(last_allocating.get(), pool.out, N * d * sizeof(float)) == 0 &&
           std::all_of(pool.out, pool.out + N * d, [](float v) { return std::isfinite(v); });
    c.detail = c.ok ? "" : "the two paths differ or are not finite";
    return c;
  };
  std::vector<Implementation> impls = {
      {.row = Row("pooling", "allocating", "allocating"), .call = allocating, .check = same},
      {.row = Row("pooling", "pooled", "allocating"), .call = [&] { block.Forward(pool); }, .check = same}};
  for (Implementation& im : impls) im.row["shape"] = {{"batch", block.B}, {"seq", block.T}, {"d", d}};
  AddRows(run, "pooling", CheckThenTime(impls, run.measure, true));
}

void InPlace(Run& run) {
  constexpr size_t n = 100000;
  // Inputs an op can be applied to in place again and again without drifting into denormals
  // (which would time something else): scale by -1 flips signs; GELU is ~identity above 4.
  std::vector<float> a = Random(n, 21), b = Random(n, 22), above4(n);
  for (size_t i = 0; i < n; ++i) above4[i] = 4.0f + std::fabs(a[i]);
  std::vector<float> dst(n), work(n);
  using Op = std::function<void(const float*, float*)>;
  struct InPlaceOp {
    const char* name;
    const std::vector<float>* input;
    Op op;
  };
  const InPlaceOp ops[] = {
      {"add", &a, [&](const float* x, float* y) { kernels::Add(n, x, b.data(), y); }},
      {"scale", &a, [&](const float* x, float* y) { kernels::Scale(n, -1.0f, x, y); }},
      {"gelu", &above4, [&](const float* x, float* y) { kernels::GeluTanh(n, x, y); }}};
  for (const auto& [name, input, op] : ops) {
    const std::vector<float>& a = *input;
    work = a;
    std::unique_ptr<float[]> result;
    auto allocating = [&, op = op] {
      auto y = std::make_unique_for_overwrite<float[]>(n);  // the result a call returns
      op(a.data(), y.get());
      result.swap(y);
    };
    auto check = [&, op = op] {
      allocating();
      op(a.data(), dst.data());
      std::copy(a.begin(), a.end(), work.begin());
      op(work.data(), work.data());
      CheckResult c;
      c.ok = std::equal(dst.begin(), dst.end(), result.get()) && dst == work;
      c.detail = c.ok ? "" : "allocating, destination and in-place results differ";
      return c;
    };
    const std::string case_name = absl::StrCat("in_place_", name);
    std::vector<Implementation> impls = {
        {.row = Row(case_name, "allocating", "allocating"), .call = allocating, .check = check},
        {.row = Row(case_name, "destination", "allocating"), .call = [&, op = op] { op(a.data(), dst.data()); }, .check = check},
        // In place on the same array every call.
        {.row = Row(case_name, "in_place", "allocating"), .call = [&, op = op] { op(work.data(), work.data()); }, .check = check}};
    for (Implementation& im : impls) im.row["shape"] = {{"n", n}};
    AddRows(run, case_name, CheckThenTime(impls, run.measure, true));
  }
}

// 1000 iterations of LayerNorm over 32 x 512: bytes over all of them, the report's question.
void LayerNormCase(Run& run) {
  constexpr int64_t R = 32, C = 512, kIters = 1000;
  const std::vector<float> x = Random(R * C, 31), w = Random(C, 32), b = Random(C, 33);
  std::vector<float> fused(R * C), unfused(R * C);
  auto fused_call = [&] {
    for (int i = 0; i < kIters; ++i) kernels::LayerNorm(R, C, x.data(), C, w.data(), b.data(), 1e-5f, fused.data(), C);
  };
  // The unfused path: mean, centred values, variance and the normalised output as separate
  // arrays per iteration, as an eager tensor library computes it.
  auto unfused_call = [&] {
    for (int i = 0; i < kIters; ++i) {
      std::vector<float> mean(R), centred(R * C), var(R);
      for (int64_t r = 0; r < R; ++r) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) s += x[r * C + c];
        mean[r] = static_cast<float>(s / C);
      }
      for (int64_t r = 0; r < R; ++r) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) s += (centred[r * C + c] = x[r * C + c] - mean[r]) * centred[r * C + c];
        var[r] = static_cast<float>(s / C);
      }
      for (int64_t r = 0; r < R; ++r) {
        const float rstd = 1.0f / std::sqrt(var[r] + 1e-5f);
        for (int64_t c = 0; c < C; ++c) unfused[r * C + c] = centred[r * C + c] * rstd * w[c] + b[c];
      }
    }
  };
  auto check = [&] {
    fused_call();
    unfused_call();
    double worst = 0;
    for (int64_t i = 0; i < R * C; ++i) worst = std::max(worst, double{std::fabs(fused[i] - unfused[i])});
    CheckResult c;
    c.max_err_ratio = worst / 1e-4;  // two float evaluations of values of size ~3
    c.ok = c.max_err_ratio <= 1;
    c.detail = c.ok ? "" : absl::StrFormat("fused and unfused differ by %g", worst);
    return c;
  };
  std::vector<Implementation> impls = {
      {.row = Row("layernorm", "unfused", "unfused"), .call = unfused_call, .check = check},
      {.row = Row("layernorm", "fused", "unfused"), .call = fused_call, .check = check}};
  for (Implementation& im : impls) im.row["shape"] = {{"rows", R}, {"cols", C}, {"iterations", kIters}};
  AddRows(run, "layernorm", CheckThenTime(impls, run.measure, true));
}

// Bytes a model holds after creation, its peak while creating, and per generated token.
void Models(Run& run) {
  const std::string dir = (std::filesystem::path(harness::WorkspaceDirectory()) / "models" / "data").string();
  const std::pair<const char*, std::function<absl::StatusOr<std::unique_ptr<models::LanguageModel>>()>> specs[] = {
      {"gpt2-0.5M", [] { return absl::StatusOr<std::unique_ptr<models::LanguageModel>>(models::Gpt2Model::Create(models::Gpt2Config::Gpt2_0_5M(), 1)); }},
      {"gpt2-3.5M", [] { return absl::StatusOr<std::unique_ptr<models::LanguageModel>>(models::Gpt2Model::Create(models::Gpt2Config::Gpt2_3_5M(), 1)); }},
      {"stories260K", [&] { return models::LoadModelFile(dir + "/stories260K.bin"); }}};
  for (const auto& [name, create] : specs) {
    harness::ResetPeakLiveBytes();
    const int64_t live0 = harness::LiveBytes();
    const harness::AllocStats a0 = harness::AllocSnapshot();
    const auto t0 = std::chrono::steady_clock::now();
    auto model = create();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!model.ok()) continue;
    const harness::AllocStats created = harness::AllocSnapshot() - a0;
    const int64_t held = harness::LiveBytes() - live0, peak = harness::PeakLiveBytes() - live0;
    auto sampler = models::Sampler::Create((*model)->vocab_size(), {});
    std::vector<int> seq;
    const int steps = std::min(64, (*model)->context());
    const harness::AllocStats g0 = harness::AllocSnapshot();
    auto stats = models::Generate(**model, {1}, {.steps = steps}, *sampler, &seq);
    const harness::AllocStats gen = harness::AllocSnapshot() - g0;
    const int tokens = stats.ok() ? stats->generated_tokens : 0;
    Json j = Row("models", name, "");
    j.update({{"case", "models"}, {"bytes_at_creation", created.bytes}, {"allocs_at_creation", created.count},
              {"bytes_held", held}, {"peak_bytes_creating", peak}, {"creation_ms", ms},
              {"kv_cache_bytes", (*model)->kv_cache_bytes()},
              {"bytes_per_generated_token", tokens > 0 ? Json(static_cast<double>(gen.bytes) / tokens) : Json(nullptr)},
              {"check", {{"ok", stats.ok()}}}});
    run.rows.push_back(j);
    run.table.push_back({"models", name, Fmt(held / 1e6, 2) + " MB held", Fmt(peak / 1e6, 2) + " MB peak",
                         Fmt(ms, 2) + " ms", Fmt((*model)->kv_cache_bytes() / 1024.0, 0) + " KiB KV",
                         tokens > 0 ? Fmt(static_cast<double>(gen.bytes) / tokens, 1) + " B/token" : "—", "—"});
  }
}

// Bytes of a training step: the first (after creation) and a later one.
void Training(Run& run) {
  auto record = [&](const std::string& name, const std::function<void()>& step) {
    const harness::AllocStats a = harness::AllocSnapshot();
    step();
    const harness::AllocStats first = harness::AllocSnapshot() - a;
    step();
    const harness::AllocStats b = harness::AllocSnapshot();
    step();
    const harness::AllocStats steady = harness::AllocSnapshot() - b;
    Json j = Row("training", name, "");
    j.update({{"case", "training"}, {"bytes_first_step", first.bytes}, {"allocs_first_step", first.count},
              {"bytes_per_step", steady.bytes}, {"allocs_per_step", steady.count}, {"check", {{"ok", true}}}});
    run.rows.push_back(j);
    run.table.push_back({"training", name, Fmt(first.bytes, 0) + " B first step", Fmt(steady.bytes, 0) + " B later",
                         absl::StrCat(steady.count, " allocs later"), "—", "—", "—"});
  };
  MlpWorkload mlp(1);
  record("mlp", [&] { mlp.Step(); });
  MatmulBackward mb(1);
  record("matmul_backward", [&] {
    mb.Run([](const kernels::SgemmArgs& a, void*) {
      (void)kernels::Sgemm(a.trans_a, a.trans_b, a.m, a.n, a.k, a.alpha, a.a, a.lda, a.b, a.ldb, a.beta, a.c, a.ldc);
    }, nullptr);
  });
  for (const char* name : {"gpt2-0.5M", "gpt2-3.5M"}) {
    const models::Gpt2Config c = *models::Gpt2Config::Named(name);
    auto model = models::Gpt2Model::Create(c, 1);
    auto trainer = models::Gpt2Trainer::Create(**model, run.batch, run.seq);
    if (!trainer.ok()) continue;
    std::vector<int> in(run.batch * run.seq), target(in.size());
    for (size_t i = 0; i < in.size(); ++i) in[i] = (i * 7) % c.vocab, target[i] = (i * 13 + 1) % c.vocab;
    int step = 0;
    record(name, [&] { (void)(*trainer)->Step(in.data(), target.data(), {}, ++step); });
  }
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, (kUsage + MeasureDefaultsHelp(kDefaults)).c_str());
  const bool quick = QuickFromFlags();
  const harness::MeasureOptions measure = MeasureOptionsFromFlagsOrExit(kDefaults);
  const std::vector<std::string> cases = absl::GetFlag(FLAGS_cases);
  for (const std::string& c : cases) {
    if (c != "pooling" && c != "in_place" && c != "layernorm" && c != "models" && c != "training") {
      ExitWithUsageError("--cases: unknown case '" + c + "'");
    }
  }
  const int batch = quick ? 4 : absl::GetFlag(FLAGS_batch), seq = quick ? 32 : absl::GetFlag(FLAGS_seq);
  if (batch < 1 || batch > 1024 || seq < 1 || seq > 64) ExitWithUsageError("--batch in [1, 1024], --seq in [1, 64]");
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit(kSuite);
  const std::vector<int> core = CoresFromFlagsOrExit(*topology, 1);
  const harness::PinResult pin = PinMeasuringThread(kSuite, *topology, core[0]);
  kernels::SetGemmThreads(1, {topology->OsCpuOfCore(core[0])});
  Json record = NewRecord(kSuite, argc, argv, *topology);
  record["env"]["pinning"] = {{"policy", PinningDescription()}, {"main", pin.ok ? Json(pin.os_cpu) : Json(pin.error)}};
  record["env"]["alloc_counter"] = harness::AllocCounterActive();
  record["rows"] = Json::array();
  Run run{record["rows"], {}, measure, batch, seq};
  if (!harness::AllocCounterActive()) {
    std::fprintf(stderr, "memory_bench: the allocation counter is not in effect (a sanitizer?): nothing to count\n");
    return 1;
  }
  for (const std::string& c : cases) {
    if (c == "pooling") Pooling(run);
    if (c == "in_place") InPlace(run);
    if (c == "layernorm") LayerNormCase(run);
    if (c == "models") Models(run);
    if (c == "training") Training(run);
  }
  std::string md = absl::StrFormat("# memory_bench %s\n\n`%s`\n\n", record["run_id"].get<std::string>(),
                                   record["command"].get<std::string>());
  md += absl::StrFormat(
      "Bytes and calls of operator new per call (the allocation counter; malloc called directly "
      "by C libraries is not seen), page faults per call (software event), time per call; "
      "reduction against the case's allocating variant. pooling: one GPT block forward of "
      "gpt2-3.5M's width (d 256, 8 heads) over %d x %d tokens. layernorm: per 1000 iterations. "
      "models: after creation, the peak while creating, and per token of a 64-position "
      "generation (the whole Generate call, its sequence buffer included; after the first token "
      "it is zero, model_alloc_test). training: the first step after creation and a later one (GPT at %d x %d).\n\n",
      batch, seq, batch, seq);
  md += harness::MarkdownTable({"case", "variant", "bytes/call", "allocs/call", "page faults/call",
                                "µs/call", "reduction", "MAD %"},
                               {false, false, true, true, true, true, true, true}, run.table);
  return PublishRun(kSuite, output, record, md,
                    absl::StrFormat("memory_bench, %d rows", record["rows"].size()), run.wrong,
                    "case(s) whose variants disagree");
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
