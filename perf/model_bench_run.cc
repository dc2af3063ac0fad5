// The runner of one model in //perf:model_bench: its tests and thread counts sampled in the same
// rounds with the read ceiling of its own weights, PyTorch beside it, its rows and hot paths.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/results.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/linear/linear.h"
#include "perf/measuring.h"
#include "perf/model_bench.h"
#include "perf/pytorch_peer.h"

namespace klab::perf {

// Tests as run on this model: N capped at the context; tg also without the cache.
std::vector<Test> RunsOf(const LanguageModel& model, const std::vector<Test>& tests,
                         bool no_cache_rows) {
  std::vector<Test> runs;
  for (Test t : tests) {
    t.tokens = std::min(t.tokens, model.context());
    t.name = absl::StrCat(t.prefill ? "pp" : "tg", t.tokens);
    if (std::any_of(runs.begin(), runs.end(), [&](const Test& r) { return r.name == t.name; })) {
      continue;
    }
    runs.push_back(t);
    if (!t.prefill && no_cache_rows) {
      t.kv_cache = false;
      runs.push_back(t);
    }
  }
  return runs;
}

std::vector<int> ModelRun::CpusOf(int64_t t) const {
  std::vector<int> cpus;
  for (int i = 0; i < UsedThreads(t); ++i) cpus.push_back(topo_.OsCpuOfCore(cores_[i]));
  return cpus;
}

std::vector<int> ModelRun::UseThreads(int64_t t) const {
  const std::vector<int> cpus = CpusOf(t);
  kernels::SetGemmThreads(static_cast<int>(cpus.size()), cpus);
  // New workers must be running (and spinning between runs) before anything is timed.
  for (int i = 0; i < 100; ++i) kernels::GemmThreadPool().Run([](int) {});
  return cpus;
}

// Every (test, thread count) of this model in the same rounds: within a round the pool is rebuilt
// for each thread count (its threads pinned to the same cores, whose caches stay warm; outside
// the timed samples), so drift on this shared machine hits 1 and 2 threads alike. The bandwidth
// ceiling at the weights' working set is sampled with them: the model's own linear layers read as
// a decode step reads them (kernels::LinearReadThreaded: the same bytes, split over the cores the
// same way) with no arithmetic; it is also the report's drift control (impl "read-kernel").
std::vector<harness::Measurement> ModelRun::SampleAll(std::vector<Pending>& all) {
  layers_ = model_.linear_layers();
  for (const models::PackedLinear& l : layers_) read_bytes_ += 4.0 * kernels::PackedLinearSize(l.out, l.in);
  std::function<void()> read = [this] {
    static volatile float sink = 0;
    float sum = 0;
    for (const models::PackedLinear& l : layers_) sum += kernels::LinearReadThreaded(1, l.out, l.in, l.w);
    sink = sink + sum;
  };
  for (int64_t t : s_.threads) {
    const std::vector<int> cpus = UseThreads(t);
    // Time to first token after a 1-token prompt: one forward and the argmax.
    TestBody first(&model_, Test{"tg1", false, 1, true});
    const double ttft_ns = harness::Measure([&] { first(); }, s_.measure).summary.median;
    for (const Test& test : runs_) {
      auto body = std::make_unique<TestBody>(&model_, test);
      TestBody* raw = body.get();
      all.push_back({test, t, cpus, ttft_ns, std::move(body),
                     std::make_unique<harness::Sampler>([raw] { (*raw)(); }, s_.measure)});
    }
    all.push_back({Test{"read", false, 0, true}, t, cpus, 0, nullptr,
                   std::make_unique<harness::Sampler>(read, s_.measure)});
  }
  // Entering a thread count sets the pool and runs the entry once untimed, to bring the weights
  // into the caches of that thread count's cores (after a 2-thread round half of them sit in the
  // other core's L2).
  std::vector<harness::RoundEntry> entries;
  for (Pending& p : all) {
    const int64_t t = p.threads;
    TestBody* body = p.body.get();
    entries.push_back({p.sampler.get(), static_cast<int>(t), [this, t, body, read] {
                         UseThreads(t);
                         if (body != nullptr) (*body)(); else read();
                       }});
  }
  std::vector<harness::Measurement> measured = harness::SampleInRounds(entries);
  // The ceilings first: every model row of a thread count divides by its own.
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].body == nullptr) ceiling_gbs_[all[i].threads] = read_bytes_ / measured[i].summary.min;
  }
  return measured;
}

// PyTorch at each thread count, after ours (its blocks alternate with ours of the same test).
std::map<int64_t, PeerOutcome> ModelRun::RunPeers(const char* argv0) {
  std::map<int64_t, PeerOutcome> peers;
  if (!s_.pytorch) return peers;
  std::string file = loaded_.path, saved;
  if (spec_.gpt2) {  // created from the seed: the peer reads the same weights from a file
    saved = (std::filesystem::temp_directory_path() /
             absl::StrFormat("klab_peer_%s_%d.bin", spec_.name, getpid())).string();
    const auto* gpt2 = dynamic_cast<const models::Gpt2Model*>(&model_);
    file = gpt2 != nullptr && gpt2->Save(saved).ok() ? saved : "";
  }
  const std::string script = PyTorchPeerScript(argv0);
  for (int64_t t : s_.threads) {
    PeerRun run{.python = s_.python, .script = script, .file = file,
                .name = spec_.name, .threads = t, .used = UsedThreads(t), .cpus = CpusOf(t),
                .blocks = s_.quick ? 2 : 5};
    run.per_block = s_.quick ? 2 : std::max(3, s_.measure.min_reps / run.blocks);
    run.use_ours = [this, t] { UseThreads(t); };
    run.park_ours = [cpu = run.cpus[0]] { kernels::SetGemmThreads(1, {cpu}); };
    if (script.empty() || file.empty()) {
      peers[t].why_not = script.empty() ? "perf/pytorch_peer.py not found"
                                        : "could not write the model for the peer";
    } else {
      peers[t] = RunPyTorchPeer(model_, runs_, run);
    }
    if (!peers[t].why_not.empty()) {
      std::fprintf(stderr, "model_bench: PyTorch peer, %s, %d thread%s: %s\n", spec_.name.c_str(),
                   static_cast<int>(t), t == 1 ? "" : "s", peers[t].why_not.c_str());
      report_.pytorch_notes.insert(peers[t].why_not);
    }
    for (const auto& row : peers[t].rows) {
      if (!row["check"]["ok"].get<bool>()) ++report_.wrong;
    }
  }
  if (!saved.empty()) std::filesystem::remove(saved);
  return peers;
}

void ModelRun::CeilingRow(const Pending& p, const harness::Measurement& m) {
  const int64_t t = p.threads;
  Json j = {{"name", absl::StrFormat("read/%s/t%d", spec_.name, t)}, {"op", "read"},
            {"variant", "LinearReadThreaded"}, {"impl", "read-kernel"}, {"model", spec_.name},
            {"shape", {{"model", spec_.name}}}, {"threads", t}, {"pinned", p.cpus}};
  const Json timing = harness::TimingJson(m);
  for (const auto& [key, v] : timing.items()) j[key] = v;
  j["bytes"] = read_bytes_;
  j["gbs"] = read_bytes_ / m.summary.median;
  j["gbs_best"] = ceiling_gbs_[t];
  rows_.push_back(j);
  report_.ceiling_table.push_back({spec_.name, absl::StrCat(t), Fmt(read_bytes_ / 1024, 0) + " KiB",
                                   Fmt(ceiling_gbs_[t], 1), Fmt(read_bytes_ / m.summary.median, 1),
                                   absl::StrCat(m.samples_ns.size())});
}
void ModelRun::TestRow(const Pending& p, const harness::Measurement& m, bool check_ok,
                       const std::map<int64_t, PeerOutcome>& peers) {
  const Test& test = p.test;
  const int64_t t = p.threads;
  const double n = test.tokens, median_s = m.summary.median / 1e9;
  std::vector<double> tps;
  for (double s : m.samples_ns) tps.push_back(n * 1e9 / s);
  const double mean = std::accumulate(tps.begin(), tps.end(), 0.0) / tps.size();
  double var = 0;
  for (double v : tps) var += (v - mean) * (v - mean);
  const double sd = tps.size() > 1 ? std::sqrt(var / (tps.size() - 1)) : 0;
  // Work: weights are read once per forward (prefill reads them once for all rows); without the
  // cache the work is recomputation, so no GFLOP/s.
  const int forwards = test.prefill ? 1 : test.tokens;
  double flops = 0;
  for (int pos = 0; pos < test.tokens; ++pos) flops += model_.flops_per_token(pos);
  const bool have_flops = test.kv_cache;
  const int64_t wbytes = model_.weight_bytes_per_token();
  const double gbs = static_cast<double>(wbytes) * forwards / median_s / 1e9;
  const auto& speedup = peers.count(t) ? peers.at(t).speedup : std::map<std::string, double>();
  const bool has_peer = test.kv_cache && speedup.count(test.name) != 0;
  Json j = {{"name", absl::StrFormat("model/%s/%s/%s/t%d", spec_.name, test.name,
                                     test.kv_cache ? "kv" : "nokv", t)},
            {"op", "model"}, {"model", spec_.name},
            {"shape", {{"model", spec_.name}}},  // the case its read-ceiling control shares
            {"params", model_.params()}, {"test", test.name}, {"kv_cache", test.kv_cache},
            {"threads", t}, {"threads_used", static_cast<int64_t>(p.cpus.size())},
            {"pinned", p.cpus}};
  const Json timing = harness::TimingJson(m);
  for (const auto& [key, v] : timing.items()) j[key] = v;
  const bool counted = j["alloc"]["bytes"].is_number();
  j.update({{"tokens", test.tokens}, {"tokens_per_s", n / median_s}, {"tokens_per_s_mean", mean},
            {"tokens_per_s_sd", sd}, {"tokens_per_s_best", n * 1e9 / m.summary.min},
            {"latency_ms_per_token", median_s * 1e3 / n},
            {"ttft_ms", test.prefill ? median_s * 1e3 : p.ttft_ns / 1e6},
            {"bytes_per_token", counted ? Json(m.alloc_bytes_per_rep / n) : Json(nullptr)},
            {"kv_cache_bytes", model_.kv_cache_bytes()}, {"memory", loaded_.memory},
            {"creation_ms", loaded_.creation_ms},
            {"creation_from_seed_ms", std::isnan(loaded_.creation_from_seed_ms)
                                          ? Json(nullptr) : Json(loaded_.creation_from_seed_ms)},
            {"flops", have_flops ? Json(flops) : Json(nullptr)},
            {"gflops", have_flops ? Json(flops / median_s / 1e9) : Json(nullptr)},
            {"weight_bytes_per_forward", wbytes}, {"packed_weight_bytes", model_.packed_weight_bytes()},
            {"gbs", gbs}, {"ceiling_gbs", ceiling_gbs_[t]},
            {"pct_ceiling", 100.0 * gbs / ceiling_gbs_[t]},
            {"check", {{"ok", check_ok},
                       {"what", "greedy tokens with and without the KV cache agree (64 steps)"}}}});
  if (has_peer) j["x_pytorch"] = speedup.at(test.name);  // PyTorch's median / ours, same blocks
  rows_.push_back(j);
  report_.by_threads[absl::StrCat(spec_.name, " ", test.name, test.kv_cache ? "" : " (no cache)")][t] =
      m.summary.median;
  if (t == 1 && test.kv_cache && test.name == "tg25") {
    report_.size_scaling[spec_.name] = {model_.params(), m.summary.median / n};
  }
  const std::string mad = MadCell(m.summary);
  std::fprintf(stderr, "%-12s %-6s %-3s %-3d %12.0f %10.4f %10s %8.2f %12s %s\n",
               spec_.name.c_str(), test.name.c_str(), test.kv_cache ? "on" : "off",
               static_cast<int>(t), n / median_s, median_s * 1e3 / n,
               counted ? Fmt(m.alloc_bytes_per_rep / n, 0).c_str() : "n/a",
               have_flops ? flops / median_s / 1e9 : 0.0, mad.c_str(), check_ok ? "ok" : "WRONG");
  const std::string creation =
      Fmt(loaded_.creation_ms, 2) +
      (spec_.gpt2 ? " (seed)"
                  : std::isnan(loaded_.creation_from_seed_ms)
                        ? ""
                        : " (seed " + Fmt(loaded_.creation_from_seed_ms, 2) + ")");
  report_.table.push_back(
      {spec_.name, Fmt(model_.params() / 1e6, 3) + " M", Fmt(model_.params() * 4 / 1e6, 2),
       "kernel-lab",
       static_cast<int64_t>(p.cpus.size()) == t ? absl::StrCat(t)
                                                : absl::StrFormat("%d (%d used)", t, p.cpus.size()),
       test.name, test.kv_cache ? "on" : "off", Fmt(n / median_s, 0),
       has_peer ? Fmt(speedup.at(test.name), 2) + "x" : "—", absl::StrFormat("%.0f ± %.0f", mean, sd),
       Fmt(n * 1e9 / m.summary.min, 0), absl::StrCat(m.samples_ns.size()), Fmt(median_s * 1e3 / n, 4),
       Fmt(j["ttft_ms"].get<double>(), 3), counted ? Fmt(m.alloc_bytes_per_rep / n, 0) : "n/a",
       Fmt(model_.kv_cache_bytes() / 1024.0, 0) + " KiB",
       loaded_.memory.is_object() ? Fmt(loaded_.memory["model_bytes"].get<double>() / 1e6, 2) : "n/a",
       creation, have_flops ? Fmt(flops / median_s / 1e9, 1) : "—", Fmt(gbs, 1),
       Fmt(100.0 * gbs / ceiling_gbs_[t], 0), mad});
}

// Hot paths: one tg run (the longest, with the cache) on 1 thread, by kind of kernel.
void ModelRun::HotPaths(Json& record_hot) {
  kernels::SetGemmThreads(1, {topo_.OsCpuOfCore(cores_[0])});
  models::ForwardProfile profile;
  const Test longest{"hot", false, std::min(model_.context(), 128), true};
  TestBody body(&model_, longest);
  model_.set_profile(&profile);
  const int reps = s_.quick ? 2 : 20;
  for (int r = 0; r < reps; ++r) body();
  model_.set_profile(nullptr);
  double total = 0;
  for (double v : profile.ns) total += v;
  Json share;
  for (int k = 0; k < models::ForwardProfile::kCount; ++k) {
    const std::string part(models::ForwardProfile::kNames[k]);
    share[part] = profile.ns[k] / total;
    report_.hot_table.push_back({spec_.name, part, Fmt(100.0 * profile.ns[k] / total, 1),
                                 Fmt(profile.ns[k] / reps / longest.tokens / 1e3, 2)});
  }
  record_hot = {{"test", absl::StrCat("tg", longest.tokens)}, {"threads", 1}, {"share", share}};
}

void ModelRun::Run(bool check_ok, const char* argv0) {
  // A row of t threads runs the model on the threads worth giving it (UsefulThreads: 1 when its
  // packed weights fit one core's L2), and says so.
  if (std::string why; model_.UsefulThreads(s_.max_threads, &why) < s_.max_threads) {
    report_.thread_notes.push_back(absl::StrFormat("%s runs on 1 thread whatever the row asks (%s)",
                                                   spec_.name, why));
    std::fprintf(stderr, "model_bench: %s\n", report_.thread_notes.back().c_str());
  }
  std::vector<Pending> all;
  const std::vector<harness::Measurement> measured = SampleAll(all);
  const std::map<int64_t, PeerOutcome> peers = RunPeers(argv0);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].body == nullptr) {
      CeilingRow(all[i], measured[i]);
    } else {
      TestRow(all[i], measured[i], check_ok, peers);
    }
  }
  for (const auto& [t, outcome] : peers) {
    for (const Json& row : outcome.rows) rows_.push_back(row);
    report_.table.insert(report_.table.end(), outcome.table.begin(), outcome.table.end());
  }
  HotPaths(hot);
}

}  // namespace klab::perf
