// PyTorch beside our models: the same model in plain PyTorch with a KV cache (perf/pytorch_peer.py,
// a subprocess pinned to the same cores, its thread pools set to the row's threads), its greedy
// ids checked equal to ours before any time counts, then blocks of our runs and its runs
// alternating, so drift on this shared machine hits both alike.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/results.h"
#include "harness/stats.h"
#include "perf/measuring.h"
#include "perf/model_bench.h"
#include "perf/pytorch_peer.h"

namespace klab::perf {
namespace {

// One test against the peer: its greedy ids first, then the alternating blocks when they agree.
// Adds the speed-up to `out` and the table row; returns the peer's record row.
absl::StatusOr<Json> PeerTest(LanguageModel& model, const Test& test, const PeerRun& run,
                            PyTorchPeer& peer, const Json& ready, PeerOutcome& out) {
  TestBody ours(&model, test);
  run.use_ours();
  ours();
  run.park_ours();
  auto ids = peer.Ids(test.prefill, test.tokens);
  if (!ids.ok()) return ids.status();
  const std::vector<int>& seq = ours.sequence();
  const std::vector<int> expected =
      test.prefill ? std::vector<int>{ours.last()}
                   : std::vector<int>(seq.begin(), seq.begin() + test.tokens + 1);
  const bool same = *ids == expected;
  std::vector<double> ours_ns, peer_ns;
  if (same) {
    // Our pool's workers spin between runs: parked while the peer runs, so its threads have
    // the cores to themselves.
    const Alternation a = AlternateBlocks(
        run.blocks, run.per_block, [&] { ours(); },
        [&](int reps) { return peer.Time(test.prefill, test.tokens, reps); }, run.use_ours,
        run.park_ours);
    if (!a.status.ok()) return a.status;
    ours_ns = a.ours_ns;
    peer_ns = a.theirs_ns;
  }
  harness::Measurement m;
  m.samples_ns = peer_ns;
  m.summary = harness::Summarize(peer_ns);
  m.stopped_by = "alternating blocks";
  const double n = test.tokens;
  const double median_s = m.summary.median / 1e9;
  Json j;
  j["name"] = absl::StrFormat("model/%s/%s/kv/t%d/pytorch", run.name, test.name, run.threads);
  j["op"] = "model";
  j["model"] = run.name;
  j["shape"] = {{"model", run.name}};
  j["impl"] = "pytorch";
  j["variant"] = absl::StrFormat("torch %s", ready.value("torch", "?"));
  j["peer_config"] = ready;
  j["test"] = test.name;
  j["kv_cache"] = true;
  j["threads"] = run.threads;
  j["threads_used"] = run.used;
  j["pinned"] = run.cpus;
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
  out.table.push_back(
      {run.name, Fmt(model.params() / 1e6, 3) + " M", Fmt(model.params() * 4 / 1e6, 2), "pytorch",
       run.used == run.threads ? absl::StrCat(run.threads)
                               : absl::StrFormat("%d (%d used)", run.threads, run.used),
       test.name, "on",
       same ? Fmt(n / median_s, 0) : "WRONG", "—",
       "—", "—", absl::StrCat(peer_ns.size()), same ? Fmt(median_s * 1e3 / n, 4) : "—", "—",
       "—", "—", "—", "—", "—", "—", "—",
       same ? MadCell(m.summary) : "—"});
  return j;
}


}  // namespace

PeerOutcome RunPyTorchPeer(LanguageModel& model, const std::vector<Test>& runs, const PeerRun& run) {
  PeerOutcome out;
  run.park_ours();
  auto peer = PyTorchPeer::Start(run.python, run.script, run.file, run.used, run.cpus);
  if (!peer.ok()) {
    out.why_not = std::string(peer.status().message());
    return out;
  }
  const Json& ready = (*peer)->ready();
  for (const Test& test : runs) {
    if (!test.kv_cache) continue;  // PyTorch without a cache is not a comparison anyone makes
    const absl::StatusOr<Json> row = PeerTest(model, test, run, **peer, ready, out);
    if (!row.ok()) {
      out.why_not = std::string(row.status().message());
      return out;
    }
    out.rows.push_back(*row);
  }
  return out;
}
}  // namespace klab::perf
