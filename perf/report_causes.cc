// The report's judgements, each by a stated rule (perf/report_internal.h, docs/report.md): the
// top-10 changes, root causes as attribution from the run's own profiles, and recommendations.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/fleet.h"
#include "perf/report_doc.h"
#include "perf/report_internal.h"

namespace klab::perf {

using namespace report;  // NOLINT: the report's rules and row readers

namespace {

std::string Ms(double ns) { return absl::StrFormat("%.4g ms", ns * 1e-6); }

// The record's row of that name, or null.
const Json* RowNamed(const Json& record, const std::string& name) {
  for (const Json& row : Rows(record)) {
    if (row.value("name", "") == name) return &row;
  }
  return nullptr;
}

// The kernel-kind shares of a model or training row: the model bench's hot_paths of its model,
// or the training row's own split.
Json SharesOf(const Json& record, const Json& row) {
  if (row.contains("split") && row["split"].is_object()) return row["split"];
  const std::string model = row.value("model", "");
  if (!model.empty() && record.contains("hot_paths") && record["hot_paths"].contains(model)) {
    return record["hot_paths"][model].value("share", Json::object());
  }
  return Json::object();
}

// Kernel rows of the same run that moved significantly and belong to a kernel kind (gemm to the
// matmul parts, norm to the norms, activation to GELU/SiLU, attention to softmax).
// Only rows that moved the same way, on the same thread count, are listed.
std::vector<std::string> RelatedKernelRows(const ReportInput& in, const std::string& kind,
                                           const std::string& verdict, const std::string& threads) {
  std::vector<std::string> out;
  for (const ReportPart& p : in.parts) {
    if (!p.comparison || (p.area != "matmul" && p.area != "activations and norms")) continue;
    for (const harness::RowComparison& r : p.comparison->rows) {
      if (r.impl != "kernel-lab" || Verdict(r) != verdict) continue;
      if (r.name.size() < threads.size() || r.name.compare(r.name.size() - threads.size(), threads.size(), threads) != 0) continue;
      const bool match = (kind.find("gemm") != std::string::npos && p.area == "matmul") ||
                         (kind.find("norm") != std::string::npos && r.name.find("norm") != std::string::npos) ||
                         ((kind.find("activation") != std::string::npos || kind.find("gelu") != std::string::npos) &&
                          (r.name.find("gelu") != std::string::npos || r.name.find("silu") != std::string::npos)) ||
                         (kind.find("attention") != std::string::npos && r.name.find("softmax") != std::string::npos);
      if (match && out.size() < 3) {
        out.push_back(absl::StrFormat("%s %+.1f%% (%s)", r.name, 100 * Change(r), Verdict(r)));
      }
    }
  }
  return out;
}

}  // namespace

Json TopChanges(const ReportInput& in, bool improvements) {
  std::vector<Json> rows;
  for (const ReportPart& p : in.parts) {
    if (!p.comparison) continue;
    for (const harness::RowComparison& r : p.comparison->rows) {
      if (r.impl != "kernel-lab" || Verdict(r) != (improvements ? "faster" : "slower")) continue;
      rows.push_back({{"key", p.key}, {"name", r.name}, {"previous_ns", r.previous_ns},
                      {"current_ns", r.current_ns}, {"change", Change(r)}, {"verdict", Verdict(r)},
                      {"vs_control", r.has_control}, {"p", r.has_control ? r.adjusted_p : r.p},
                      {"baseline", p.baseline_id}});
    }
  }
  std::sort(rows.begin(), rows.end(), [&](const Json& a, const Json& b) {
    return improvements ? a["change"].get<double>() < b["change"].get<double>()
                        : a["change"].get<double>() > b["change"].get<double>();
  });
  if (rows.size() > kTop) rows.resize(kTop);
  return Json(rows);
}

// For each significant change of a model or training row: the time each kernel kind took then
// and now (its share of the row's profile times the row's median), largest moves first, and the
// kernel rows of the same run that moved with it.
Json RootCauses(const ReportInput& in) {
  Json out = Json::array();
  for (const ReportPart& p : in.parts) {
    if (!p.comparison || !p.previous || (p.area != "models" && p.area != "training")) continue;
    for (const harness::RowComparison& r : p.comparison->rows) {
      if (r.impl != "kernel-lab" || Verdict(r) == "noise") continue;
      const Json* now = RowNamed(p.record, r.name);
      const Json* then = RowNamed(*p.previous, r.name);
      if (now == nullptr || then == nullptr) continue;
      const Json s1 = SharesOf(p.record, *now), s0 = SharesOf(*p.previous, *then);
      std::vector<std::pair<double, Json>> kinds;
      for (const auto& [kind, share] : s1.items()) {
        if (!share.is_number() || !s0.contains(kind) || !s0[kind].is_number()) continue;
        const double t1 = share.get<double>() * r.current_ns, t0 = s0[kind].get<double>() * r.previous_ns;
        const std::string threads = "/t" + std::to_string(now->value("threads", 1));
        kinds.push_back({t1 - t0, {{"kind", kind}, {"share_then", s0[kind]}, {"share_now", share},
                                   {"ms_then", t0 * 1e-6}, {"ms_now", t1 * 1e-6},
                                   {"related", RelatedKernelRows(in, kind, Verdict(r), threads)}}});
      }
      std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
        return std::abs(a.first) > std::abs(b.first);
      });
      Json attribution = Json::array();
      for (const auto& [delta, k] : kinds) attribution.push_back(k);
      out.push_back({{"key", p.key}, {"name", r.name}, {"change", Change(r)}, {"verdict", Verdict(r)},
                     {"attribution", attribution},
                     {"note", kinds.empty() ? "no kernel profile in both runs: no attribution" : ""}});
    }
  }
  return out;
}

namespace {

void Add(Json* out, const std::string& rule, const std::string& text, Json figures) {
  out->push_back({{"rule", rule}, {"text", text}, {"figures", std::move(figures)}});
}

// R1: a case where our best row is behind the best peer by more than the gap.
void PeerGaps(const Json& report, Json* out) {
  std::vector<Json> gaps;
  for (const Json& area : report["areas"]) {
    for (const Json& row : area["rows"]) {
      if (row.value("fastest_of_case", false) && row.contains("ratio_best_peer") &&
          row["ratio_best_peer"].get<double>() < kPeerGap) {
        gaps.push_back(row);
      }
    }
  }
  std::sort(gaps.begin(), gaps.end(), [](const Json& a, const Json& b) {
    return a["ratio_best_peer"].get<double>() < b["ratio_best_peer"].get<double>();
  });
  for (size_t i = 0; i < gaps.size() && i < kPerRule; ++i) {
    const Json& g = gaps[i];
    Add(out, "peer gap",
        absl::StrFormat("Close the gap on `%s`: it runs at %.2fx the speed of %s on the same case "
                        "(ours %s).", Text(g["name"]), g["ratio_best_peer"].get<double>(),
                        Text(g["best_peer"]), Ms(g["current_ns"].get<double>())),
        g);
  }
}

// R2: the dispatcher's choice (*_auto) slower than our best variant on the same case. Rows the
// dispatcher cannot choose (linear*: the models' layers on weights packed at load) are left out.
void DispatchLosses(const ReportInput& in, Json* out) {
  std::vector<std::pair<double, Json>> losses;
  for (const ReportPart& p : in.parts) {
    std::map<std::string, std::pair<double, std::string>> best, chosen;
    for (const Json& row : Rows(p.record)) {
      const double t = Median(row);
      const std::string v = Text(row.value("variant", Json(""))), c = harness::CaseKey(row);
      if (!harness::IsOurs(row) || !(t > 0) || v.rfind("linear", 0) == 0) continue;
      auto& b = best[c];
      if (b.second.empty() || t < b.first) b = {t, v};
      if (harness::IsDispatcherRow(row)) chosen[c] = {t, Text(row["name"])};
    }
    for (const auto& [c, auto_row] : chosen) {
      const double ratio = best[c].first / auto_row.first;
      if (ratio < kDispatchLoss) losses.push_back({ratio, {{"row", auto_row.second}, {"best_variant", best[c].second}, {"ratio", ratio}}});
    }
  }
  std::sort(losses.begin(), losses.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < losses.size() && i < kPerRule; ++i) {
    const Json& l = losses[i].second;
    Add(out, "dispatch loss",
        absl::StrFormat("Dispatch: `%s` runs at %.2fx the speed of `%s` on the same case; the "
                        "dispatcher should pick it here (a tuning profile, issue 18).",
                        Text(l["row"]), l["ratio"].get<double>(), Text(l["best_variant"])),
        l);
  }
}

// R3: more threads slower than one.
void ThreadLosses(const Json& report, Json* out) {
  size_t n = 0;
  for (const Json& s : report["scaling"]["threads"]) {
    if (s["speedup"].get<double>() >= kThreadsHurt || n++ >= kPerRule) continue;
    Add(out, "threads hurt",
        absl::StrFormat("Use one thread for `%s`: %d threads run it at %.2fx the speed of one.",
                        Text(s["case"]), s["threads"].get<int>(), s["speedup"].get<double>()),
        s);
  }
}

// R4: each significant regression, with its attribution when there is one.
void Regressions(const Json& report, Json* out) {
  for (const Json& r : report["top_regressions"]) {
    std::string cause;
    for (const Json& c : report["root_causes"]) {
      if (c["name"] == r["name"] && !c["attribution"].empty()) {
        const Json& k = c["attribution"][0];
        cause = absl::StrFormat("; the largest move is %s (%.3g -> %.3g ms)", Text(k["kind"]),
                                k["ms_then"].get<double>(), k["ms_now"].get<double>());
      }
    }
    Add(out, "regression",
        absl::StrFormat("Investigate `%s`: %+.1f%% against %s (p = %.2g%s)%s.", Text(r["name"]),
                        100 * r["change"].get<double>(), Text(r["baseline"]), r["p"].get<double>(),
                        r["vs_control"].get<bool>() ? ", against the drift control" : "", cause),
        r);
  }
}

// R5: bandwidth-bound rows of ours below the ceiling share.
void BelowCeiling(const ReportInput& in, Json* out) {
  std::vector<std::pair<double, Json>> low;
  for (const ReportPart& p : in.parts) {
    for (const Json& row : Rows(p.record)) {
      // Below half of both ceilings: a row near its compute peak (prefill) is not memory-bound.
      // % of peak from the row, else from its GFLOP/s and the run's peak; a row with neither is
      // not judged.
      const double pct = Num(row, "pct_ceiling");
      double peak = Num(row, "pct_peak");
      const double per_core = p.record.contains("env") && p.record["env"].contains("peak")
                                  ? Num(p.record["env"]["peak"], "gflops") : NAN;
      if (!std::isfinite(peak)) {
        peak = 100 * Num(row, "gflops") / (per_core * row.value("threads_used", row.value("threads", 1)));
      }
      if (harness::IsOurs(row) && pct < kCeilingPct && std::isfinite(peak) && peak < kCeilingPct) {
        low.push_back({pct, {{"row", row.value("name", Json("?"))}, {"pct_ceiling", pct},
                             {"pct_peak", OrNull(peak)}, {"ceiling_gbs", OrNull(Num(row, "ceiling_gbs"))}}});
      }
    }
  }
  std::sort(low.begin(), low.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < low.size() && i < kPerRule; ++i) {
    const Json& l = low[i].second;
    Add(out, "below ceiling",
        absl::StrFormat("`%s` reaches %.1f%% of its bandwidth ceiling (%s GB/s measured in the run) "
                        "and %s of the FMA peak: under %.0f%% of both, it is bound by neither.",
                        Text(l["row"]), l["pct_ceiling"].get<double>(),
                        l["ceiling_gbs"].is_number() ? absl::StrFormat("%.0f", l["ceiling_gbs"].get<double>()) : "?",
                        absl::StrFormat("%.1f%%", l["pct_peak"].get<double>()),
                        kCeilingPct),
        l);
  }
}

// R6: allocations in rows of ours that should allocate nothing (the memory bench's deliberate
// baselines excepted); R7: a noisy machine; R8: peers that changed between the runs.
void AllocationsNoiseAndPeers(const ReportInput& in, const Json& report, Json* out) {
  size_t n = 0;
  for (const ReportPart& p : in.parts) {
    if (p.area == "machine") continue;  // the peak suite's measuring loops, not kernels
    for (const Json& row : Rows(p.record)) {
      const double b = row.contains("alloc") ? Num(row["alloc"], "bytes") : NAN;
      const std::string v = Text(row.value("variant", Json("")));
      if (!harness::IsOurs(row) || !(b > 0) || v == "allocating" || v == "unfused" || n++ >= kPerRule) continue;
      Add(out, "allocates",
          absl::StrFormat("`%s` allocates %.0f bytes per call; make it use preallocated memory.",
                          Text(row["name"]), b),
          {{"row", row["name"]}, {"bytes", b}});
    }
  }
  const Json& s = report["summary"];
  const int rows = s["rows"].get<int>(), unstable = s["unstable_rows"].get<int>();
  if (rows > 0 && unstable > kUnstableShare * rows) {
    Add(out, "noisy machine",
        absl::StrFormat("%d of %d rows are unstable (MAD over 5%% of the median): rerun on a quieter "
                        "machine before trusting small changes.", unstable, rows),
        {{"unstable_rows", unstable}, {"rows", rows}});
  }
  for (const ReportPart& p : in.parts) {
    if (p.comparison && !p.comparison->changed_peers.empty()) {
      Add(out, "peer changed",
          absl::StrFormat("%s: %s changed between %s and this run (version, kernel or configuration); "
                          "their rows were left out of the drift control.", p.key,
                          absl::StrJoin(p.comparison->changed_peers, ", "), p.baseline_id),
          {{"key", p.key}, {"peers", p.comparison->changed_peers}});
    }
  }
}

}  // namespace

Json Recommendations(const ReportInput& in, const Json& report) {
  Json out = Json::array();
  Regressions(report, &out);
  PeerGaps(report, &out);
  DispatchLosses(in, &out);
  ThreadLosses(report, &out);
  BelowCeiling(in, &out);
  AllocationsNoiseAndPeers(in, report, &out);
  return out;
}

}  // namespace klab::perf
