// report.md from report.json (RenderReport) and the report's charts (ReportCharts).
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "harness/fleet.h"
#include "harness/results.h"
#include "harness/svg_plot.h"
#include "perf/report_doc.h"
#include "perf/report_internal.h"

namespace klab::perf {

using namespace report;  // NOLINT: the report's rules and row readers

namespace {

std::string Cell(const Json& v, const char* format, double scale = 1) {
  return v.is_number() ? absl::StrFormat(format, v.get<double>() * scale) : std::string("—");
}
std::string Pct(const Json& v) { return Cell(v, "%+.1f%%", 100); }
std::string Ratio(const Json& v) { return Cell(v, "%.2fx"); }
std::string Time(const Json& ns) {
  if (!ns.is_number()) return "—";
  const double v = ns.get<double>();
  return v >= 1e6 ? absl::StrFormat("%.3f ms", v * 1e-6) : absl::StrFormat("%.3f µs", v * 1e-3);
}
std::string Bytes(const Json& v) {
  if (!v.is_number()) return "—";
  const double b = v.get<double>();
  return b >= 1 << 20 ? absl::StrFormat("%.1f MiB", b / (1 << 20))
         : b >= 1024  ? absl::StrFormat("%.1f KiB", b / 1024)
                      : absl::StrFormat("%.0f B", b);
}

void Summary(const Json& r, std::ostringstream& md) {
  const Json& s = r["summary"];
  md << "## Executive summary\n\n";
  md << absl::StrFormat("- Total runtime **%.0f s** (budget %.0f s%s); %d records, **%d rows**, %d "
                        "cases measured (%d unstable).\n",
                        s["runtime_s"].get<double>(), s["budget_s"].get<double>(),
                        s["quick"].get<bool>() ? ", --quick" : "", s["parts"].size(),
                        s["rows"].get<int>(), s["cases"].get<int>(), s["unstable_rows"].get<int>());
  md << "- Total allocated: " << Bytes(s["bytes_allocated_per_call_sum"])
     << " per call summed over all rows; " << s["rows_allocating"].get<int>()
     << " rows allocate (the memory bench's deliberately allocating baselines among them).\n";
  for (const Json& p : s["parts"]) {
    const std::string key = Text(p["key"]);
    if (!p["failure"].get<std::string>().empty()) md << "- **" << key << "**: " << Text(p["failure"]) << "\n";
    if (Text(p["baseline"]).empty()) {
      md << "- " << key << ": the first run of its kind on this machine — nothing is called faster "
         << "or slower.\n";
      continue;
    }
    md << absl::StrFormat("- %s vs %s: **%d faster, %d slower**, %d noise", key, Text(p["baseline"]),
                          p.value("faster", 0), p.value("slower", 0), p.value("noise", 0));
    if (p.value("adjusted_rows", 0) > 0) {
      md << absl::StrFormat("; against the drift control %d faster, %d slower of %d (peers drifted %+.1f%%)",
                            p["adjusted_faster"].get<int>(), p["adjusted_slower"].get<int>(),
                            p["adjusted_rows"].get<int>(), 100 * p["control_change"].get<double>());
    }
    md << ".\n";
  }
  md << "\nHeadline ratios, measured within this run (> 1: ours faster):\n\n";
  for (const Json& p : s["parts"]) {
    for (const Json& h : p["headlines"]) {
      md << "- " << Text(p["key"]) << ": " << Text(h["label"]) << ": **" << Text(h["text"]) << "**\n";
    }
  }
  md << "\n| part | mode | time | rows | baseline | faster | slower | noise |\n|---|---|---:|---:|---|---:|---:|---:|\n";
  for (const Json& p : s["parts"]) {
    md << absl::StrFormat("| %s | %s | %.0f s | %d | %s | %s | %s | %s |\n", Text(p["key"]), Text(p["mode"]),
                          p["wall_s"].get<double>(), p["rows"].get<int>(),
                          Text(p["baseline"]).empty() ? "none (first)" : Text(p["baseline"]),
                          p.contains("faster") ? std::to_string(p["faster"].get<int>()) : "—",
                          p.contains("slower") ? std::to_string(p["slower"].get<int>()) : "—",
                          p.contains("noise") ? std::to_string(p["noise"].get<int>()) : "—");
  }
}

void HotPaths(const Json& r, std::ostringstream& md) {
  md << "\n## Hot paths\n\nWhere the models' and training steps' time goes, by kernel kind (the "
        "suites' profiles of this run):\n\n";
  // A training step's split holds its phases (forward, backward, optimizer) beside its kernel
  // kinds: two partitions of the same time, listed apart.
  static const std::set<std::string> kPhases = {"forward", "backward", "optimizer"};
  for (const Json& k : r["hot_paths"]["kinds"]) {
    std::vector<std::pair<double, std::string>> kinds, phases;
    for (const auto& [kind, v] : k["share"].items()) {
      if (v.is_number()) (kPhases.count(kind) ? phases : kinds).push_back({v.get<double>(), kind});
    }
    auto list = [](std::vector<std::pair<double, std::string>> shares) {
      std::sort(shares.rbegin(), shares.rend());
      std::vector<std::string> parts;
      for (const auto& [v, kind] : shares) parts.push_back(absl::StrFormat("%s %.1f%%", kind, 100 * v));
      return absl::StrJoin(parts, ", ");
    };
    md << "- " << Text(k["where"]) << ": " << list(kinds);
    if (!phases.empty()) md << " (by phase: " << list(phases) << ")";
    md << "\n";
  }
  md << absl::StrFormat("\nThe rows that took most of the %.0f s measured, with their allocations:\n\n",
                        r["hot_paths"]["measured_s"].get<double>());
  md << "| row | part | share | median | allocated per call | allocations per call |\n|---|---|---:|---:|---:|---:|\n";
  for (const Json& h : r["hot_paths"]["rows"]) {
    md << absl::StrFormat("| %s | %s | %.1f%% | %s | %s | %s |\n", Text(h["name"]), Text(h["key"]),
                          100 * h["share"].get<double>(), Time(h["median_ns"]), Bytes(h["alloc_bytes"]),
                          Cell(h["alloc_count"], "%.0f"));
  }
}

void Areas(const Json& r, std::ostringstream& md) {
  md << "\n## Per area\n\nFor each case our fastest row and the dispatcher's choice (`*_auto`), and "
        "every row whose change is significant: this run, the previous run of its kind on this machine, the "
        "change (against the drift control where peers measured the same case), the verdict "
        "(Mann-Whitney U p < alpha and beyond the practical threshold), and the speed ratio to the "
        "best peer on the same case in this run.\n";
  for (const Json& a : r["areas"]) {
    md << "\n### " << Text(a["area"]) << "\n\n";
    md << "| row | current | previous | delta | change | verdict | ours / best peer |\n|---|---:|---:|---:|---:|---|---:|\n";
    for (const Json& row : a["rows"]) {
      md << absl::StrFormat("| %s | %s | %s | %s | %s | %s | %s |\n", Text(row["name"]),
                            Time(row["current_ns"]), Time(row.value("previous_ns", Json(nullptr))),
                            Time(row.value("delta_ns", Json(nullptr))), Pct(row.value("change", Json(nullptr))),
                            row.contains("verdict") ? Text(row["verdict"]) + (row["vs_control"].get<bool>() ? " (vs control)" : "") : "—",
                            row.contains("ratio_best_peer") ? Ratio(row["ratio_best_peer"]) + " vs " + Text(row["best_peer"]) : "—");
    }
    if (a["omitted"].get<int>() > 0) {
      md << "\n" << a["omitted"].get<int>() << " more rows (the ladder's other rungs) are in the parts' own tables ("
         << absl::StrJoin(a["parts"].get<std::vector<std::string>>(), ", ") << ").\n";
    }
  }
}

void ModelsTrainingMemory(const Json& r, std::ostringstream& md) {
  md << "\n## Models\n\n| model | test | KV cache | threads | tok/s | ms/token | bytes/token | KV cache bytes | model bytes | creation | TTFT | x PyTorch | verdict |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const Json& m : r["models"]) {
    md << absl::StrFormat("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", Text(m["model"]),
                          Text(m["test"]), Text(m["kv_cache"]), Text(m["threads"]), Cell(m["tok_s"], "%.0f"),
                          Cell(m["ms_per_token"], "%.4f"), Bytes(m["bytes_per_token"]), Bytes(m["kv_cache_bytes"]),
                          Bytes(m["model_bytes"]), Cell(m["creation_ms"], "%.2f ms"), Cell(m["ttft_ms"], "%.3f ms"),
                          Ratio(m.value("x_pytorch", Json(nullptr))),
                          m.contains("verdict") ? Text(m["verdict"]) + " " + Pct(m["change"]) : "—");
  }
  md << "\n## Training\n\n| row | ms/step | % of peak | x PyTorch | bytes/step | loss first -> last | verdict |\n|---|---:|---:|---:|---:|---|---|\n";
  for (const Json& t : r["training"]) {
    md << absl::StrFormat("| %s | %s | %s | %s | %s | %s -> %s | %s |\n", Text(t["name"]), Cell(t["ms_per_step"], "%.3f"),
                          Cell(t["pct_peak"], "%.1f%%"), Ratio(t["x_pytorch"]), Bytes(t["bytes_per_step"]),
                          Cell(t["loss_first"], "%.3f"), Cell(t["loss_last"], "%.3f"),
                          t.contains("verdict") ? Text(t["verdict"]) + " " + Pct(t["change"]) : "—");
  }
  md << "\n## Memory\n\n| row | allocated per call | allocations per call | first step | per step | reduction | ms per call |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Json& m : r["memory"]) {
    md << absl::StrFormat("| %s | %s | %s | %s | %s | %s | %s |\n", Text(m["name"]), Bytes(m["bytes_per_call"]),
                          Cell(m["allocs_per_call"], "%.0f"), Bytes(m["bytes_first_step"]), Bytes(m["bytes_per_step"]),
                          Cell(m["reduction_pct"], "%.1f%%"), Cell(m["ms_per_call"], "%.4f"));
  }
}

void Scaling(const Json& r, std::ostringstream& md) {
  md << "\n## Scaling\n\n";
  const Json& size = r["scaling"].value("model_size", Json(nullptr));
  if (size.is_object()) {
    md << absl::StrFormat("- Model size: %.2fx the parameters took %.2fx the time per token (%s).\n",
                          Num(size, "params_ratio"), Num(size, "time_ratio"),
                          Num(size, "time_ratio") <= Num(size, "params_ratio") ? "better than linear" : "worse than linear");
  }
  md << "- Computational efficiency (% of the FMA peak) and memory efficiency (% of the bandwidth "
        "ceiling) of each model row are in the Models table's source rows (`pct_peak`, "
        "`pct_ceiling` in model_bench).\n\nThread scaling (our rows measured on 1 and more threads):\n\n"
        "| part | case | threads | speedup | efficiency |\n|---|---|---:|---:|---:|\n";
  for (const Json& s : r["scaling"]["threads"]) {
    md << absl::StrFormat("| %s | %s | %d | %.2fx | %.0f%% |\n", Text(s["key"]), Text(s["case"]),
                          s["threads"].get<int>(), s["speedup"].get<double>(), 100 * s["efficiency"].get<double>());
  }
}

void ChangesCausesRecommendations(const Json& r, std::ostringstream& md) {
  for (const auto& [title, key] : {std::pair<const char*, const char*>{"Top 10 improvements", "top_improvements"},
                                   {"Top 10 regressions", "top_regressions"}}) {
    md << "\n## " << title << "\n\n";
    if (r[key].empty()) {
      md << "None significant.\n";
      continue;
    }
    md << "| row | part | previous | current | change | p |\n|---|---|---:|---:|---:|---:|\n";
    for (const Json& c : r[key]) {
      md << absl::StrFormat("| %s | %s | %s | %s | %s%s | %.2g |\n", Text(c["name"]), Text(c["key"]),
                            Time(c["previous_ns"]), Time(c["current_ns"]), Pct(c["change"]),
                            c["vs_control"].get<bool>() ? " (vs control)" : "", c["p"].get<double>());
    }
  }
  md << "\n## Root causes\n\nFor each significant change of a model or training row: the time of "
        "each kernel kind then and now (its share of the row's profile times the row's median), "
        "and the kernel rows of this run that moved with it.\n\n";
  if (r["root_causes"].empty()) md << "No significant model or training change to attribute.\n";
  for (const Json& c : r["root_causes"]) {
    md << absl::StrFormat("- `%s` %s (%s):", Text(c["name"]), Text(c["verdict"]), Pct(c["change"]));
    if (c["attribution"].empty()) md << " " << Text(c["note"]);
    for (const Json& k : c["attribution"]) {
      md << absl::StrFormat(" %s %.3g -> %.3g ms", Text(k["kind"]), k["ms_then"].get<double>(), k["ms_now"].get<double>());
      if (!k["related"].empty()) md << " [" << absl::StrJoin(k["related"].get<std::vector<std::string>>(), "; ") << "]";
      md << ";";
    }
    md << "\n";
  }
  md << "\n## Recommendations\n\nEach from a stated rule (docs/report.md) and the figures it cites:\n\n";
  if (r["recommendations"].empty()) md << "None: no rule fired.\n";
  for (const Json& rec : r["recommendations"]) md << "- **" << Text(rec["rule"]) << "**: " << Text(rec["text"]) << "\n";
}

}  // namespace

std::string RenderReport(const Json& r) {
  std::ostringstream md;
  md << "# Kernel Lab report: " << Text(r["machine"]) << ", run " << Text(r["run_id"]) << "\n\n";
  md << absl::StrFormat("CPU %s, %s cores used, FMA peak %s GFLOP/s per core (measured), commit %s. "
                        "Every verdict compares with the previous run of the same kind on this "
                        "machine; other machines are compared only by in-run ratios "
                        "(results/README.md).\n\n",
                        Text(r["cpu_model"]), Text(r["cores"]), Cell(r["peak_gflops_per_core"], "%.1f"),
                        Text(r["commit"]).substr(0, 12));
  Summary(r, md);
  HotPaths(r, md);
  Areas(r, md);
  ModelsTrainingMemory(r, md);
  Scaling(r, md);
  ChangesCausesRecommendations(r, md);
  md << "\n## Charts\n\n";
  for (const Json& c : r.value("charts", Json::array())) md << "![" << Text(c) << "](" << Text(c) << ")\n\n";
  return md.str();
}

}  // namespace klab::perf
