// //tools:compare — the report of one run against another (docs/results-schema.md, "The report").
//
//   bazel run //tools:compare -- [--baseline=RUN_ID] [RUN_ID]
//
// Defaults: the newest run under results/runs against the previous run of the same suite on the
// same host. Prints the report and writes it as report.md into the run's folder.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cli.h"
#include "harness/compare.h"
#include "harness/env.h"
#include "harness/layout.h"
#include "harness/results.h"

ABSL_FLAG(std::string, baseline, "",
          "run id to compare against (default: the previous run of the suite on the same kind of "
          "machine)");
ABSL_FLAG(std::string, suite, "", "suite file of the run folder, when it holds several");
ABSL_FLAG(std::string, results, "", "the results folder (default: results/ of the workspace)");
ABSL_FLAG(double, threshold, 0.05, "practical threshold on the median's relative change");
ABSL_FLAG(double, alpha, 0.05, "significance level of the Mann-Whitney U test");
ABSL_FLAG(bool, fail_on_regression, false,
          "exit 3 when any row is `slower` (and 1 when no row could be compared)");
ABSL_FLAG(bool, write, true, "write report.md into the run's folder");
ABSL_FLAG(std::vector<std::string>, merge, {},
          "run ids of the shards (--shard=i/n) of one sweep on one machine: publish them as one "
          "run <first id>-merged, then compare that");

namespace klab::tools {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    "Compares a run with a baseline: verdicts from the Mann-Whitney U test and a threshold.\n"
    "  bazel run //tools:compare -- [--baseline=RUN_ID] [--fail_on_regression] [RUN_ID]\n"
    "Default: the newest run against the previous run of the same suite on the same kind of\n"
    "machine (CPU, caches, ISA, measured peak; every host of these VMs is called vm). Times from\n"
    "another machine are never called faster or slower.\n"
    "  bazel run //tools:compare -- --merge=RUN_ID,RUN_ID[,...]   (shards of one sweep -> one run)\n"
    "Exit status: 0 fine, 1 error (or nothing comparable under --fail_on_regression), 2 usage,\n"
    "3 a regression under --fail_on_regression.\n";

// Empty, or a name that cannot leave its folder: [A-Za-z0-9._-]+ not starting with '.'.
bool IsPlainName(const std::string& name) {
  if (name.empty()) return true;
  if (name[0] == '.' || name.size() > 200) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "compare: %s\n", message.c_str());
  std::exit(1);
}

// The shards' records as one run under `root`; its run id.
std::string Merge(const std::string& root, const std::vector<std::string>& ids, const std::string& suite) {
  std::vector<harness::Json> shards;
  std::string key = suite;
  for (const std::string& id : ids) {
    const std::string dir = harness::RunDir(root, id);
    if (dir.empty()) Fail("no run " + id + " under " + root);
    if (key.empty()) {
      auto s = harness::SuiteOfRun(dir);
      if (!s.ok()) Fail(std::string(s.status().message()));
      key = *s;
    }
    auto record = harness::ReadRecord(harness::RecordPath(dir, key));
    if (!record.ok()) Fail(std::string(record.status().message()));
    shards.push_back(*record);
  }
  auto merged = harness::MergeShards(shards);
  if (!merged.ok()) Fail("cannot merge: " + std::string(merged.status().message()));
  (*merged)["run_id"] = ids[0] + "-merged";
  (*merged)["command"] = "bazel run //tools:compare -- --merge=" + absl::StrJoin(ids, ",");
  std::vector<std::vector<std::string>> rows;
  for (const harness::Json& row : (*merged)["rows"]) {
    const double median = row.contains("time_ns") && row["time_ns"].contains("median") &&
                                  row["time_ns"]["median"].is_number()
                              ? row["time_ns"]["median"].get<double>() : 0;
    rows.push_back({row.value("name", "?"), row.value("impl", "kernel-lab"),
                    absl::StrFormat("%.0f", median)});
  }
  const std::string md = absl::StrFormat("# %s (merged from %s)\n\n", key, absl::StrJoin(ids, ", ")) +
                         harness::MarkdownTable({"row", "impl", "median ns"}, {false, false, true}, rows);
  harness::OutputOptions o;
  o.results_root = root;
  auto written = harness::WriteRun(o, *merged, md,
                                   absl::StrFormat("%s, %d rows merged from %d shards", key,
                                                   rows.size(), ids.size()));
  if (!written.ok()) Fail(std::string(written.status().message()));
  std::fprintf(stderr, "compare: merged %zu shards (%zu rows) into %s\n", ids.size(), rows.size(),
               written->dir.c_str());
  return written->run_id;
}

int Main(int argc, char** argv) {
  const std::vector<char*> args = ParseFlagsOrExit(argc, argv, kUsage, 1);
  if (args.size() > 2) ExitWithUsageError("give at most one run id");
  const double threshold = absl::GetFlag(FLAGS_threshold), alpha = absl::GetFlag(FLAGS_alpha);
  if (!(threshold >= 0 && threshold < 10)) ExitWithUsageError("--threshold must be in [0, 10)");
  if (!(alpha > 0 && alpha < 1)) ExitWithUsageError("--alpha must be in (0, 1)");
  std::string root = harness::UserPath(absl::GetFlag(FLAGS_results));
  if (root.empty()) {
    auto r = harness::DefaultResultsRoot();
    if (!r.ok()) Fail(std::string(r.status().message()));
    root = *r;
  }
  std::string suite = absl::GetFlag(FLAGS_suite);
  std::string run_id = args.size() == 2 ? args[1] : "";
  const std::vector<std::string> merge = absl::GetFlag(FLAGS_merge);
  for (const std::string& id : merge) {
    if (!IsPlainName(id) || id.empty()) ExitWithUsageError("--merge: '" + id + "' is not a run id");
  }
  if (!merge.empty() && !run_id.empty()) ExitWithUsageError("--merge makes the run to compare; give no run id");
  if (merge.size() == 1) ExitWithUsageError("--merge needs two or more shards");
  // Run ids and suite names are folder and file names under results/, never paths.
  for (const auto& [flag, value] : {std::pair<const char*, std::string>{"run id", run_id},
                                    {"--baseline", absl::GetFlag(FLAGS_baseline)},
                                    {"--suite", suite}}) {
    if (!IsPlainName(value)) {
      ExitWithUsageError(absl::StrFormat(
          "%s '%s' is not a run id (letters, digits, '.', '_' and '-', not starting with '.')",
          flag, value));
    }
  }
  if (!merge.empty()) run_id = Merge(root, merge, suite);
  if (run_id.empty()) {
    const std::vector<std::string> runs = harness::ListRuns(root, suite);
    if (runs.empty()) Fail("no runs under " + root);
    run_id = runs.back();
  }
  const std::string found = harness::RunDir(root, run_id);
  if (found.empty()) Fail("no run " + run_id + " under " + root);
  const fs::path run_dir(found);
  if (suite.empty()) {
    auto s = harness::SuiteOfRun(run_dir.string());
    if (!s.ok()) Fail(std::string(s.status().message()));
    suite = *s;
  }
  auto current = harness::ReadRecord(harness::RecordPath(run_dir.string(), suite));
  if (!current.ok()) Fail(std::string(current.status().message()));
  const std::string host =
      current->contains("env") ? (*current)["env"].value("host", "") : std::string();
  std::string baseline = absl::GetFlag(FLAGS_baseline);
  std::vector<std::string> warnings;
  if (baseline.empty()) {
    baseline = harness::PreviousRun(root, suite, run_id, host, &*current, &warnings);
  }
  for (const std::string& w : warnings) std::fprintf(stderr, "compare: warning: %s\n", w.c_str());
  const std::string machine =
      current->contains("env") ? harness::MachineSlug((*current)["env"]) : std::string("?");
  if (baseline.empty()) {
    std::printf("compare: %s is the first %s run on this machine (%s); nothing to compare with\n",
                run_id.c_str(), suite.c_str(), machine.c_str());
    return absl::GetFlag(FLAGS_fail_on_regression) ? 1 : 0;
  }
  const std::string baseline_dir = harness::RunDir(root, baseline);
  if (baseline_dir.empty()) Fail("no run " + baseline + " under " + root);
  auto previous = harness::ReadRecord(harness::RecordPath(baseline_dir, suite));
  if (!previous.ok()) Fail(std::string(previous.status().message()));
  // Times from two machines are not compared: a difference would be the machine's.
  std::string why;
  const harness::Json none = harness::Json::object();
  if (!harness::SameMachine(current->value("env", none), previous->value("env", none), &why)) {
    std::printf("compare: %s (%s) and %s (%s) ran on different machines (%s): no row is called "
                "faster or slower; compare the ratios each run measured in itself (ours / best "
                "peer, %% of peak) instead\n",
                run_id.c_str(), machine.c_str(), baseline.c_str(),
                harness::MachineSlug(previous->value("env", none)).c_str(), why.c_str());
    return absl::GetFlag(FLAGS_fail_on_regression) ? 1 : 0;
  }
  const harness::CompareOptions options{alpha, threshold};
  auto comparison = harness::CompareRuns(*current, *previous, options);
  if (!comparison.ok()) Fail(std::string(comparison.status().message()));
  const std::string md = harness::ReportMarkdown(*current, *previous, *comparison, options);
  std::printf("%s", md.c_str());
  if (absl::GetFlag(FLAGS_write)) {
    absl::Status s = harness::WriteFileAtomic((run_dir / "report.md").string(), md);
    if (s.ok()) {
      s = harness::WriteFileAtomic((run_dir / "report_changes.svg").string(),
                                   harness::ReportChartSvg(*comparison, options, machine));
    }
    if (!s.ok()) Fail(std::string(s.message()));
    std::fprintf(stderr, "compare: wrote %s\n", (run_dir / "report.md").c_str());
  }
  std::fprintf(stderr, "compare: %s vs %s: %d faster, %d slower, %d noise\n", run_id.c_str(),
               baseline.c_str(), comparison->faster, comparison->slower, comparison->noise);
  if (absl::GetFlag(FLAGS_fail_on_regression)) {
    // A gate that compared nothing proves nothing: it fails rather than passes.
    if (comparison->rows.empty()) {
      std::fprintf(stderr, "compare: --fail_on_regression: no row of %s could be compared with %s\n",
                   run_id.c_str(), baseline.c_str());
      return 1;
    }
    if (comparison->slower > 0) return 3;
  }
  return 0;
}

}  // namespace
}  // namespace klab::tools

int main(int argc, char** argv) { return klab::tools::Main(argc, argv); }
