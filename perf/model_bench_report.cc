// The report of //perf:model_bench: the markdown (header, the rows, read ceilings, hot paths,
// scaling) and the tokens/s chart.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/results.h"
#include "harness/svg_plot.h"
#include "perf/model_bench.h"

namespace klab::perf {
namespace {

// Model size and thread count against time; also recorded in the record's "scaling".
std::string ScalingMarkdown(Json& record, const BenchReport& report) {
  std::string md;
  md += "\n## Scaling\n\n";
  const auto& sizes = report.size_scaling;
  if (sizes.count("gpt2-0.5M") && sizes.count("gpt2-3.5M")) {
    const auto& [ps, ts] = sizes.at("gpt2-0.5M");
    const auto& [pm, tm] = sizes.at("gpt2-3.5M");
    const double pr = static_cast<double>(pm) / ps, tr = tm / ts;
    md += absl::StrFormat(
        "Model size (tg25, KV cache, 1 thread): gpt2-3.5M / gpt2-0.5M (the report's Medium / "
        "Small) = %.2fx parameters, %.2fx time per token (the report saw 7.3x -> 4.2x).\n\n",
        pr, tr);
    record["scaling"]["size"] = {{"params_ratio", pr}, {"time_ratio", tr}};
  }
  std::vector<std::vector<std::string>> thread_rows;
  for (const auto& [key, per] : report.by_threads) {
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
  return md;
}

}  // namespace

std::string Fmt(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

std::string BenchMarkdown(Json& record, const BenchReport& report, int max_threads,
                          const std::string& pinning) {
  const Json& env = record["env"];
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
      max_threads == 1 ? "" : "s", pinning, env["best_isa"].get<std::string>(),
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
      report.table);
  for (const std::string& note : report.thread_notes) {
    md += "\nThreads: " + note + "; the row's PyTorch gets the same.\n";
  }
  for (const std::string& note : report.pytorch_notes) {
    md += "\nPyTorch peer not run: " + note + "\n";
  }
  if (!report.skipped.empty()) {
    md += "\nSkipped:\n\n" + harness::MarkdownTable({"model", "why"}, {false, false}, report.skipped);
  }
  md += "\n## Read ceiling: each model's packed linear weights read as a decode step reads them, sampled in the model's rounds\n\n";
  md += harness::MarkdownTable({"model", "threads", "working set", "GB/s best", "GB/s median", "reps"},
                               {false, true, true, true, true, true}, report.ceiling_table);
  md += "\n## Hot paths (1 thread, one forward of the longest tg test, by kind of kernel)\n\n";
  md += harness::MarkdownTable({"model", "part", "% of time", "µs per token"},
                               {false, false, true, true}, report.hot_table);
  return md + ScalingMarkdown(record, report);
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
  const Json env = record.value("env", Json::object());
  return {harness::LineChartSvg({absl::StrFormat("model_bench: tokens/s with the KV cache, ours and "
                                                 "PyTorch's, %s (%s)",
                                                 env.value("cpu_model", "unknown CPU"),
                                                 env.value("machine", "?")),
                                 "case (model and test, listed under the table)",
                                 "tokens/s (log scale)", false, true},
                                list),
          legend};
}

}  // namespace klab::perf
