// The whole report (//perf:report): every suite's record of one run, each against the previous
// run of its kind on this machine, turned into the document the lab started from — executive
// summary, hot paths, one section per area, models, scaling, top-10 changes, root causes,
// recommendations and charts (docs/report.md describes each section and its rules).
//
// BuildReport computes every figure once into report.json; RenderReport writes report.md from
// that JSON alone, so the two never disagree; ReportCharts draws one chart per area.
#ifndef KLAB_PERF_REPORT_DOC_H_
#define KLAB_PERF_REPORT_DOC_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/compare.h"
#include "harness/json.h"

namespace klab::perf {

inline constexpr char kReportSchema[] = "kernel-lab/report/v1";

// One suite's part of the report.
struct ReportPart {
  std::string key;    // the record's key (matmul_sweep-transformer)
  std::string area;   // matmul, activations and norms, memory, models, training, machine
  std::string mode;   // "full" or "quick" (shortened to fit the budget, or --quick)
  std::string command;  // how the part was run
  harness::Json record;  // null when the part produced none
  std::string markdown;  // its tables
  std::vector<std::pair<std::string, std::string>> files;  // its charts (name, SVG)
  std::string failure;   // why not, or why its exit status was not 0
  double wall_s = 0;
  std::string baseline_id;  // the previous run of this kind on this machine, "" for none
  std::optional<harness::Json> previous;
  std::optional<harness::Comparison> comparison;
};

struct ReportInput {
  std::string run_id, machine;
  harness::Json env;  // the machine's environment (from the first part)
  bool quick = false;
  double budget_s = 0, wall_s = 0;
  std::vector<ReportPart> parts;
  harness::CompareOptions options;
  bool has_regressions = false;  // set when the report lists a significant regression of ours
};

harness::Json BuildReport(const ReportInput& input);
std::string RenderReport(const harness::Json& report);
// (file name, SVG): one chart per area, and a change chart per part with a baseline.
std::vector<std::pair<std::string, std::string>> ReportCharts(const ReportInput& input,
                                                              const harness::Json& report);

}  // namespace klab::perf

#endif  // KLAB_PERF_REPORT_DOC_H_
