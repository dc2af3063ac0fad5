// //perf:report — the whole profiling report in one run: every suite, within a time budget,
// published as one run with report.md, report.json and charts (docs/report.md).
//
//   bazel run //perf:report                    about 10 minutes on a 2-core machine
//   bazel run //perf:report -- --quick         about 1 minute: each suite's short case list
//   bazel run //perf:report -- --budget=1200 --parts=matmul_sweep,model_bench
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/cli.h"
#include "harness/compare.h"
#include "harness/layout.h"
#include "harness/record_reader.h"
#include "harness/results.h"
#include "perf/child_process.h"
#include "perf/report_doc.h"
#include "perf/suite.h"

ABSL_FLAG(double, budget, 600,
          "Seconds the whole report may take; a suite whose full run would not fit runs its "
          "quick case list instead (--quick: every suite quick, about a minute).");
ABSL_FLAG(std::vector<std::string>, parts, {},
          "Only these parts (keys: peak, matmul_sweep, matmul_sweep-transformer, "
          "activation_sweep, model_bench, train_bench, memory_bench); default all.");
ABSL_FLAG(std::string, rerender, "",
          "Measure nothing: rebuild report.md, report.json and the charts of this published run "
          "from its records (after the report's rules or layout changed).");
ABSL_FLAG(bool, fail_on_regression, false,
          "Exit 3 when a row of ours is significantly slower than in the baseline.");

namespace klab::perf {
namespace {

namespace fs = std::filesystem;
using harness::Json;

constexpr char kUsage[] =
    "Runs every suite within a time budget and publishes them as one run with the report the\n"
    "lab started from: report.md (executive summary, hot paths, per area, models, scaling,\n"
    "top-10 changes, root causes, recommendations, charts) and report.json.\n"
    "  bazel run //perf:report -- [--quick] [--budget=SECONDS] [--parts=LIST]\n"
    "      [--out=DIR | --results=DIR | --no_publish] [--format=md,json,csv] [--fail_on_regression]\n"
    "  bazel run //perf:report -- --rerender=RUN_ID   (the report of a published run, rebuilt)\n"
    "Each part is compared with the previous run of its kind on this machine only.\n"
    "Exit status: 0 fine, 1 a part failed or measured a wrong result, 2 usage, 3 a regression\n"
    "under --fail_on_regression.\n";

// A part of the report: a suite and the arguments of its full and quick runs. The full runs
// choose their case lists to fit about ten minutes together on a 2-core machine; the estimates
// are replaced by the times the previous report on this machine measured.
struct Plan {
  const char* key;
  const char* suite;
  const char* area;
  std::vector<std::string> full, quick;
  double estimate_full_s, estimate_quick_s;
};

std::vector<Plan> Plans() {
  const std::string kernels = "--variants=sgemm_auto|packed_8x32.*|packed_6x16.*|packed_mt.*|smallm.*";
  return {
      {"peak", "peak", "machine", {}, {"--quick"}, 30, 3},
      {"matmul_sweep", "matmul_sweep", "matmul", {"--threads=1,2", kernels}, {"--quick"}, 120, 5},
      {"matmul_sweep-transformer", "matmul_sweep", "matmul",
       {"--shapes=transformer", "--threads=1,2", "--variants=sgemm_auto|linear.*|smallm.*|packed_8x32.*"},
       {"--shapes=transformer", "--quick"}, 120, 10},
      {"activation_sweep", "activation_sweep", "activations and norms", {}, {"--quick"}, 40, 3},
      {"model_bench", "model_bench", "models", {}, {"--quick"}, 150, 20},
      {"train_bench", "train_bench", "training", {}, {"--quick"}, 120, 15},
      {"memory_bench", "memory_bench", "memory", {}, {"--quick"}, 20, 3},
  };
}

std::string Slurp(const fs::path& p) { return harness::ReadWholeFile(p.string()); }

// The wall time each part took in the previous report on this machine, by key and mode.
std::map<std::string, double> PreviousWallTimes(const std::string& root, const std::string& machine) {
  std::map<std::string, double> times;
  if (root.empty()) return times;
  std::vector<std::string> dirs = harness::AllRunDirs(root);
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (fs::path(*it).parent_path().parent_path().filename() != machine) continue;
    const Json r = Json::parse(Slurp(fs::path(*it) / "report.json"), nullptr, false);
    if (r.is_discarded() || !r.contains("summary")) continue;
    for (const Json& p : r["summary"].value("parts", Json::array())) {
      if (p.contains("key") && p.contains("mode") && p.contains("wall_s") && p["wall_s"].is_number()) {
        times[p["key"].get<std::string>() + "/" + p["mode"].get<std::string>()] = p["wall_s"].get<double>();
      }
    }
    break;
  }
  return times;
}

// The machine's slug without running a suite: the first part's record names it; before any
// part has run, the previous reports cannot be found, so estimates start from the plan's.
double Estimate(const Plan& p, bool full, const std::map<std::string, double>& previous) {
  auto it = previous.find(std::string(p.key) + (full ? "/full" : "/quick"));
  return it != previous.end() ? it->second : full ? p.estimate_full_s : p.estimate_quick_s;
}

// A suite's own command, without the report's --out and --format, so that successive reports'
// parts share a command (PreviousRun prefers the same command).
std::string PartCommand(const Plan& p, const std::vector<std::string>& args) {
  return absl::StrFormat("bazel run //perf:report (part %s: //perf:%s %s)", p.key, p.suite,
                         absl::StrJoin(args, " "));
}

// Runs one part into tmp/<key>/ and reads its record and tables.
ReportPart RunPart(const char* argv0, const Plan& plan, bool full, double deadline,
                   const std::string& tmp) {
  ReportPart part;
  part.key = plan.key;
  part.area = plan.area;
  part.mode = full ? "full" : "quick";
  const std::vector<std::string>& args = full ? plan.full : plan.quick;
  part.command = PartCommand(plan, args);
  const std::string binary = SuiteBinary(argv0, plan.suite);
  if (binary.empty()) {
    part.failure = std::string("the //perf:") + plan.suite + " binary was not found beside the report";
    return part;
  }
  const fs::path out = fs::path(tmp) / plan.key;
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--out=" + out.string());
  argv.push_back("--format=md,json");
  const double start = Now();
  const int status = RunChild(argv, (fs::path(tmp) / (std::string(plan.key) + ".log")).string(), deadline);
  part.wall_s = Now() - start;
  if (status == -1) part.failure = "stopped: it ran past the report's budget";
  else if (status != 0) part.failure = absl::StrFormat("exit status %d (a wrong result or an error; see its table)", status);
  const std::string key = harness::RecordKey(Json{{"suite", plan.suite}, {"mode", std::string(plan.key).find("-transformer") != std::string::npos ? "transformer" : ""}});
  auto record = harness::ReadRecord((out / (key + ".json")).string());
  if (!record.ok()) {
    if (part.failure.empty()) part.failure = std::string(record.status().message());
    return part;
  }
  part.record = *record;
  part.record["command"] = part.command;
  part.markdown = Slurp(out / (key + ".md"));
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().extension() == ".svg") part.files.push_back({e.path().filename().string(), Slurp(e.path())});
  }
  return part;
}

std::vector<ReportPart> RunParts(const char* argv0, const std::vector<Plan>& plans, double budget_s,
                                 bool quick, const std::map<std::string, double>& previous,
                                 const std::string& tmp) {
  const double start = Now();
  // A hard stop well past the budget: a suite that hangs cannot hold the report forever.
  const double deadline = start + 1.5 * budget_s + 60;
  std::vector<ReportPart> parts;
  for (size_t i = 0; i < plans.size(); ++i) {
    const double left = budget_s - (Now() - start);
    double rest_quick = 0;
    for (size_t j = i + 1; j < plans.size(); ++j) rest_quick += Estimate(plans[j], false, previous);
    const bool full = !quick && Estimate(plans[i], true, previous) + rest_quick <= left;
    std::fprintf(stderr, "report: [%zu/%zu] %s (%s%s): %.0f s of the %.0f s budget left\n", i + 1,
                 plans.size(), plans[i].key, full ? "full" : "quick",
                 !quick && !full ? ", shortened to fit the budget" : "", std::max(0.0, left), budget_s);
    parts.push_back(RunPart(argv0, plans[i], full, deadline, tmp));
    const ReportPart& p = parts.back();
    std::fprintf(stderr, "report: [%zu/%zu] %s: %zu rows in %.0f s%s%s\n", i + 1, plans.size(), p.key.c_str(),
                 p.record.is_object() ? p.record["rows"].size() : 0, p.wall_s,
                 p.failure.empty() ? "" : "; ", p.failure.c_str());
  }
  return parts;
}

// Each part against the previous run of its kind on this machine (none: compared with nothing).
void CompareWithBaselines(const std::string& root, const std::string& run_id, std::vector<ReportPart>* parts,
                          const harness::CompareOptions& options) {
  for (ReportPart& p : *parts) {
    if (root.empty() || !p.record.is_object()) continue;
    Json current = p.record;
    current["run_id"] = run_id;
    std::vector<std::string> warnings;
    p.baseline_id = harness::PreviousRun(root, p.key, run_id, "", &current, &warnings);
    for (const std::string& w : warnings) std::fprintf(stderr, "report: warning: %s\n", w.c_str());
    if (p.baseline_id.empty()) continue;
    auto previous = harness::ReadRecord(harness::RecordPath(harness::RunDir(root, p.baseline_id), p.key));
    if (!previous.ok()) {
      p.baseline_id.clear();
      continue;
    }
    auto c = harness::CompareRuns(current, *previous, options);
    if (!c.ok()) continue;
    p.previous = *previous;
    p.comparison = *c;
  }
}

std::string IndexLine(const ReportInput& in) {
  int rows = 0, faster = 0, slower = 0;
  for (const ReportPart& p : in.parts) {
    rows += p.record.is_object() ? static_cast<int>(p.record["rows"].size()) : 0;
    if (p.comparison) faster += p.comparison->faster, slower += p.comparison->slower;
  }
  return absl::StrFormat("%s: report (%s), %zu parts, %d rows; vs previous: %d faster, %d slower",
                         in.machine, in.quick ? "quick" : "full", in.parts.size(), rows, faster, slower);
}

// A part's chart under a name no other part's shares (both matmul parts draw matmul_sweep_*.svg),
// with its tables' links renamed to match.
void AddPartFiles(ReportPart* p, std::vector<std::pair<std::string, std::string>>* files) {
  for (const auto& [name, svg] : p->files) {
    const std::string unique = name.rfind(p->key + "_", 0) == 0 || name.rfind(p->key + ".", 0) == 0
                                   ? name : p->key + "_" + name;
    p->markdown = absl::StrReplaceAll(p->markdown, {{"(" + name + ")", "(" + unique + ")"}});
    files->push_back({unique, svg});
  }
}

// Each part against its baseline, then the report's files: the charts, report.md (rendered from
// report.json alone) and report.json. report.md's text is returned too.
std::vector<std::pair<std::string, std::string>> ReportFiles(const std::string& root, ReportInput* in,
                                                             std::string* md) {
  CompareWithBaselines(root, in->run_id, &in->parts, in->options);
  Json report = BuildReport(*in);
  std::vector<std::pair<std::string, std::string>> files = ReportCharts(*in, report);
  report["charts"] = Json::array();
  for (const auto& [name, svg] : files) report["charts"].push_back(name);
  *md = RenderReport(report);
  files.push_back({"report.md", *md});
  files.push_back({"report.json", report.dump() + "\n"});
  in->has_regressions = !report["top_regressions"].empty();
  return files;
}

// Compares, builds the report, writes every part and the report as one run. The exit status.
int Publish(const harness::OutputOptions& output, const std::string& root, ReportInput* in) {
  std::string md;
  std::vector<std::pair<std::string, std::string>> files = ReportFiles(root, in, &md);
  std::vector<harness::RunPart> records;
  int failed = 0;
  for (ReportPart& p : in->parts) {
    if (!p.failure.empty()) ++failed;
    if (!p.record.is_object()) continue;
    p.record["run_id"] = in->run_id;
    AddPartFiles(&p, &files);
    records.push_back({p.record, p.markdown});
  }
  std::printf("%s", md.c_str());
  if (records.empty()) {
    std::fprintf(stderr, "report: no part produced a record; nothing written\n");
    return 1;
  }
  auto written = harness::WriteRunParts(output, records, IndexLine(*in), "report.md", files);
  if (!written.ok()) {
    std::fprintf(stderr, "report: could not write the run: %s\n", std::string(written.status().message()).c_str());
    return 1;
  }
  if (!written->dir.empty()) std::fprintf(stderr, "report: wrote %s/report.md\n", written->dir.c_str());
  if (failed > 0) {
    std::fprintf(stderr, "report: %d part(s) failed (see the summary)\n", failed);
    return 1;
  }
  return absl::GetFlag(FLAGS_fail_on_regression) && in->has_regressions ? 3 : 0;
}

// --rerender: the parts of a published run, read back, with the modes and times its report.json
// recorded; then the report rebuilt beside them. The exit status.
int Rerender(const std::string& root, const std::string& run_id) {
  const std::string dir = harness::RunDir(root, run_id);
  if (dir.empty()) ExitWithUsageError("--rerender: no run " + run_id + " under " + root);
  const Json old = Json::parse(Slurp(fs::path(dir) / "report.json"), nullptr, false);
  ReportInput in;
  in.run_id = run_id;
  std::map<std::string, Json> recorded;
  if (!old.is_discarded() && old.contains("summary")) {
    in.quick = old["summary"].value("quick", false);
    in.budget_s = old["summary"].value("budget_s", 0.0);
    in.wall_s = old["summary"].value("runtime_s", 0.0);
    for (const Json& p : old["summary"].value("parts", Json::array())) recorded[p.value("key", "")] = p;
  }
  for (const Plan& plan : Plans()) {
    const std::string path = harness::RecordPath(dir, plan.key);
    if (path.empty()) continue;
    auto record = harness::ReadRecord(path);
    if (!record.ok()) {
      std::fprintf(stderr, "report: %s\n", std::string(record.status().message()).c_str());
      return 1;
    }
    ReportPart part;
    part.key = plan.key;
    part.area = plan.area;
    part.record = *record;
    part.command = record->value("command", "");
    part.mode = recorded.count(plan.key) ? recorded[plan.key].value("mode", "?") : "?";
    part.wall_s = recorded.count(plan.key) ? recorded[plan.key].value("wall_s", 0.0) : 0.0;
    if (in.parts.empty()) in.env = (*record)["env"], in.machine = harness::MachineOf(*record);
    in.parts.push_back(std::move(part));
  }
  if (in.parts.empty()) ExitWithUsageError("--rerender: " + run_id + " holds no record of a report part");
  std::string md;
  for (const auto& [name, contents] : ReportFiles(root, &in, &md)) {
    const absl::Status s = harness::WriteFileAtomic((fs::path(dir) / name).string(), contents);
    if (!s.ok()) {
      std::fprintf(stderr, "report: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "report: rebuilt %s/report.md from its %zu records\n", dir.c_str(), in.parts.size());
  return 0;
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, kUsage);
  const bool quick = QuickFromFlags();
  const double budget = quick && absl::GetFlag(FLAGS_budget) == 600 ? 90 : absl::GetFlag(FLAGS_budget);
  if (!(budget > 0 && budget <= 86400)) ExitWithUsageError("--budget must be in (0, 86400] seconds");
  std::vector<Plan> plans;
  const std::vector<std::string> only = absl::GetFlag(FLAGS_parts);
  for (const Plan& p : Plans()) {
    if (only.empty() || std::find(only.begin(), only.end(), p.key) != only.end()) plans.push_back(p);
  }
  if (plans.size() < std::max<size_t>(only.size(), 1)) {
    ExitWithUsageError("--parts: names a part that does not exist (see --help)");
  }
  const harness::OutputOptions output = OutputOptionsFromFlagsOrExit();
  std::string root = output.results_root;
  if (root.empty()) {
    auto r = harness::DefaultResultsRoot();
    if (r.ok()) root = *r;  // --out or --no_publish: still compared with the published runs
  }
  if (!absl::GetFlag(FLAGS_rerender).empty()) return Rerender(root, absl::GetFlag(FLAGS_rerender));
  const std::string tmp = fs::temp_directory_path() / absl::StrFormat("klab-report-%d", getpid());
  fs::create_directories(tmp);
  // The report's own record header: its run id, the environment and the machine it names.
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit("report");
  const Json header = NewRecord("report", argc, argv, *topology);
  ReportInput in;
  in.run_id = header["run_id"].get<std::string>();
  in.env = header["env"];
  in.machine = harness::MachineOf(header);
  in.quick = quick;
  in.budget_s = budget;
  const double start = Now();
  in.parts = RunParts(argv[0], plans, budget, quick, PreviousWallTimes(root, in.machine), tmp);
  in.wall_s = Now() - start;
  const int status = Publish(output, root, &in);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return status;
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
