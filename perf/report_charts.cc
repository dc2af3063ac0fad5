// The report's charts: one per area (ours against the best peer per case, the square GEMM's
// GFLOP/s by size, the models and training against PyTorch, memory per call) and a change chart
// per part that has a baseline. Every title names the CPU, the machine and the run.
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "harness/fleet.h"
#include "harness/svg_plot.h"
#include "perf/report_doc.h"
#include "perf/report_internal.h"

namespace klab::perf {

using namespace report;  // NOLINT: the report's rules and row readers

namespace {

constexpr char kGood[] = "#2ca02c", kBad[] = "#d62728", kNeutral[] = "#1f77b4";

std::string Slug(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// A ratio per named row (> 1 good), as bars against the line at 1.
std::string RatioBars(const std::string& title, const std::string& x_label,
                      const std::vector<std::pair<std::string, double>>& ratios) {
  std::vector<harness::Bar> bars;
  for (const auto& [name, v] : ratios) {
    bars.push_back({name, v, v >= 1 ? kGood : kBad, absl::StrFormat("%.2fx", v)});
  }
  return harness::BarChartSvg(title, x_label, bars, {{"1x", 1.0}});
}

// GFLOP/s by n of each implementation and thread count in the square GEMM part; peers dashed.
std::string SquareGemmChart(const ReportPart& p, const std::string& where) {
  std::map<std::string, harness::PlotSeries> series;
  for (const Json& row : Rows(p.record)) {
    const double g = Num(row, "gflops");
    if (!(g > 0) || !row.contains("shape")) continue;
    const std::string name = absl::StrFormat("%s t%d", Text(row.value("variant", Json("?"))), row.value("threads", 1));
    harness::PlotSeries& s = series[(harness::IsOurs(row) ? "0" : "1") + name];
    s.name = harness::IsOurs(row) ? name : name + " (peer)";
    s.dashed = !harness::IsOurs(row);
    s.points.push_back({Num(row["shape"], "m"), g});
  }
  std::vector<harness::PlotSeries> list;
  for (auto& [k, s] : series) list.push_back(s);
  return harness::LineChartSvg({"matmul (square): GFLOP/s by size — " + where, "n (m = n = k)",
                                "GFLOP/s", true, false}, list);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ReportCharts(const ReportInput& in,
                                                              const Json& report) {
  std::vector<std::pair<std::string, std::string>> charts;
  const std::string where = absl::StrFormat("%s (%s), run %s", Text(in.env.value("cpu_model", Json("?"))),
                                            in.machine, in.run_id);
  for (const Json& area : report["areas"]) {
    std::vector<std::pair<std::string, double>> ratios;
    for (const Json& row : area["rows"]) {
      if (row.contains("ratio_best_peer")) ratios.push_back({Text(row["name"]), row["ratio_best_peer"].get<double>()});
    }
    if (ratios.empty()) continue;
    charts.push_back({"report_" + Slug(Text(area["area"])) + "_vs_peer.svg",
                      RatioBars(Text(area["area"]) + ": ours / best peer (speed), per case — " + where,
                                "speed ratio in this run (> 1: ours faster)", ratios)});
  }
  for (const ReportPart& p : in.parts) {
    if (p.key == "matmul_sweep" && p.record.is_object()) {
      charts.push_back({"report_matmul_square_gflops.svg", SquareGemmChart(p, where)});
    }
  }
  std::vector<std::pair<std::string, double>> models, training;
  for (const Json& m : report["models"]) {
    if (m.contains("x_pytorch")) models.push_back({Text(m["name"]), m["x_pytorch"].get<double>()});
  }
  for (const Json& t : report["training"]) {
    if (t["x_pytorch"].is_number()) training.push_back({Text(t["name"]), t["x_pytorch"].get<double>()});
  }
  if (!models.empty()) {
    charts.push_back({"report_models_vs_pytorch.svg",
                      RatioBars("models: tokens/s, ours / PyTorch — " + where, "ratio (> 1: ours faster)", models)});
  }
  if (!training.empty()) {
    charts.push_back({"report_training_vs_pytorch.svg",
                      RatioBars("training: steps/s, ours / PyTorch — " + where, "ratio (> 1: ours faster)", training)});
  }
  std::vector<harness::Bar> memory;
  for (const Json& m : report["memory"]) {
    const double b = m["bytes_per_call"].is_number() ? m["bytes_per_call"].get<double>()
                     : m["bytes_per_step"].is_number() ? m["bytes_per_step"].get<double>() : NAN;
    if (std::isfinite(b)) memory.push_back({Text(m["name"]), b / 1024, b > 0 ? kNeutral : kGood, absl::StrFormat("%.0f KiB", b / 1024)});
  }
  if (!memory.empty()) {
    charts.push_back({"report_memory_bytes.svg",
                      harness::BarChartSvg("memory: KiB allocated per call or step — " + where, "KiB", memory)});
  }
  for (const ReportPart& p : in.parts) {
    if (p.comparison) {
      charts.push_back({"report_changes_" + Slug(p.key) + ".svg",
                        harness::ReportChartSvg(*p.comparison, in.options, in.machine)});
    }
  }
  return charts;
}

}  // namespace klab::perf
