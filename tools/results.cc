// //tools:results — keeping results/ in order (docs/results-schema.md, "Layout" and "Size").
//
//   bazel run //tools:results -- migrate           runs of the layout before machines
//                                                  (results/runs/<id>/<suite>.json) moved to
//                                                  results/<machine>/runs/<id>/<key>.json.gz
//   bazel run //tools:results -- prune --keep=N    each machine's newest N runs kept (and every
//                                                  run a kept report cites); the rest removed
//   bazel run //tools:results -- index             the machine indexes and the fleet view rebuilt
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/gzip.h"
#include "harness/layout.h"
#include "harness/record_reader.h"
#include "harness/results.h"

ABSL_FLAG(std::string, results, "", "the results folder (default: results/ of the workspace)");
ABSL_FLAG(int32_t, keep, 0, "prune: how many of each machine's newest runs to keep (>= 1)");
ABSL_FLAG(std::string, machine, "", "prune: only this machine's folder (default: every machine)");
ABSL_FLAG(bool, dry_run, false, "say what would be moved or removed, change nothing");

namespace klab::tools {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    "Keeps results/ in order.\n"
    "  bazel run //tools:results -- migrate [--dry_run]\n"
    "      moves runs of the old layout (results/runs/<id>) into results/<machine>/runs/<id>,\n"
    "      records gzipped and named by key (matmul_sweep-transformer), indexes rebuilt\n"
    "  bazel run //tools:results -- prune --keep=N [--machine=M] [--dry_run]\n"
    "      keeps each machine's newest N runs and every run a kept report.md cites\n"
    "  bazel run //tools:results -- index\n"
    "      rebuilds each machine's README.md and the fleet view results/README.md\n"
    "Exit status: 0 done, 1 an error (named), 2 usage.\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "results: %s\n", message.c_str());
  std::exit(1);
}

std::string Slurp(const fs::path& p) { return harness::ReadWholeFile(p.string()); }

void Check(const absl::Status& s) {
  if (!s.ok()) Fail(std::string(s.message()));
}

// The summary text of each run in the old index ("- [id](runs/id/x.md) — text").
std::map<std::string, std::string> OldIndexTexts(const fs::path& root) {
  std::map<std::string, std::string> texts;
  std::istringstream lines(Slurp(root / "README.md"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("- [", 0) != 0) continue;
    const size_t close = line.find("](runs/"), dash = line.find(" — ");
    if (close == std::string::npos || dash == std::string::npos) continue;
    texts[line.substr(3, close - 3)] = line.substr(dash + std::string(" — ").size());
  }
  return texts;
}

// One old run folder into its machine's folder; returns "machine/runs/id".
std::string MigrateRun(const fs::path& root, const fs::path& old_dir, bool dry_run,
                       std::map<std::string, std::string>* index_lines) {
  const std::string id = old_dir.filename().string();
  std::vector<std::pair<fs::path, harness::Json>> records;
  for (const auto& e : fs::directory_iterator(old_dir)) {
    if (e.path().extension() != ".json" || e.path().stem() == "report") continue;
    auto r = harness::ReadRecord(e.path().string());
    if (!r.ok()) Fail("cannot migrate " + id + ": " + std::string(r.status().message()));
    records.emplace_back(e.path(), *r);
  }
  if (records.empty()) return "";
  // The machine from the record's env (older records lack env.machine: placed from CPU model,
  // ISA, caches and peak by MachineSlug); matmul's transformer runs get their mode.
  const std::string machine = harness::MachineOf(records[0].second);
  const fs::path new_dir = root / machine / "runs" / id;
  if (fs::exists(new_dir)) Fail(new_dir.string() + " exists already");
  std::printf("%s -> %s/runs/%s\n", id.c_str(), machine.c_str(), id.c_str());
  if (dry_run) return machine;
  fs::create_directories(new_dir.parent_path());
  fs::rename(old_dir, new_dir);
  for (auto& [path, record] : records) {
    record["env"]["machine"] = machine;
    if (record.value("suite", "") == "matmul_sweep" && !record.contains("mode") &&
        record.value("command", "").find("--shapes=transformer") != std::string::npos) {
      record["mode"] = "transformer";
    }
    const std::string suite = path.stem().string(), key = harness::RecordKey(record);
    Check(harness::WriteFileAtomic((new_dir / (key + ".json.gz")).string(),
                                   harness::GzipCompress(harness::SerializeRecord(record))));
    fs::remove(new_dir / (suite + ".json"));
    if (key != suite && fs::exists(new_dir / (suite + ".md"))) {
      fs::rename(new_dir / (suite + ".md"), new_dir / (key + ".md"));
    }
    (*index_lines)[machine + "/" + id] = absl::StrFormat("- [%s](runs/%s/%s.md) — %s", id, id, key, "");
  }
  return machine;
}

int Migrate(const fs::path& root, bool dry_run) {
  const std::map<std::string, std::string> texts = OldIndexTexts(root);
  std::map<std::string, std::string> lines;  // machine/id -> index line without its text
  std::set<std::string> machines;
  int moved = 0;
  std::error_code ec;
  std::vector<fs::path> old_runs;
  for (const auto& e : fs::directory_iterator(root / "runs", ec)) {
    if (e.is_directory()) old_runs.push_back(e.path());
  }
  for (const fs::path& dir : old_runs) {
    const std::string machine = MigrateRun(root, dir, dry_run, &lines);
    if (!machine.empty()) machines.insert(machine), ++moved;
  }
  std::printf("%d runs %s into %zu machine folders\n", moved, dry_run ? "would move" : "moved",
              machines.size());
  if (dry_run) return 0;
  // Each machine's index keeps the old summary texts; then every index is reconciled.
  std::map<std::string, std::string> by_machine;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    const std::string machine = it->first.substr(0, it->first.find('/'));
    const std::string id = it->first.substr(it->first.find('/') + 1);
    auto text = texts.find(id);
    by_machine[machine] += it->second + (text == texts.end() ? "" : text->second) + "\n";
  }
  for (const auto& [machine, body] : by_machine) {
    Check(harness::WriteFileAtomic((root / machine / "README.md").string(),
                                   "# Published runs of this machine\n\n<!-- runs: newest first -->\n" + body));
  }
  fs::remove(root / "runs", ec);  // empty now
  // latest/<key>.md of each machine from its newest run of each key; the old <suite>/latest.md go.
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "latest.md")) fs::remove_all(e.path());
  }
  for (const std::string& machine : machines) {
    std::map<std::string, std::string> newest;  // key -> run dir
    for (const auto& e : fs::directory_iterator(root / machine / "runs")) {
      for (const std::string& key : harness::RecordKeysOfRun(e.path().string())) {
        std::string& best = newest[key];
        if (best.empty() || fs::path(best).filename() < e.path().filename()) best = e.path().string();
      }
    }
    for (const auto& [key, dir] : newest) {
      const std::string run = fs::path(dir).filename().string();
      Check(harness::WriteFileAtomic(
          (root / machine / "latest" / (key + ".md")).string(),
          absl::StrFormat("<!-- copied from runs/%s/%s.md; overwritten by each published run -->\n%s",
                          run, key, Slurp(fs::path(dir) / (key + ".md")))));
    }
  }
  std::vector<std::string> repairs;
  Check(harness::RewriteIndexes(root.string(), &repairs));
  for (const std::string& r : repairs) std::printf("index: %s\n", r.c_str());
  return 0;
}

// Run ids a report cites (report.md of a kept run names its baseline runs).
std::set<std::string> CitedRuns(const fs::path& run_dir, const std::set<std::string>& all_ids) {
  std::set<std::string> cited;
  for (const char* file : {"report.md", "report.json"}) {
    const std::string text = Slurp(run_dir / file);
    if (text.empty()) continue;
    for (const std::string& id : all_ids) {
      if (text.find(id) != std::string::npos) cited.insert(id);
    }
  }
  return cited;
}

int Prune(const fs::path& root, int keep, const std::string& only_machine, bool dry_run) {
  if (keep < 1) ExitWithUsageError("prune needs --keep=N with N >= 1");
  std::error_code ec;
  int removed = 0, kept = 0;
  for (const auto& m : fs::directory_iterator(root, ec)) {
    if (!m.is_directory() || !fs::is_directory(m.path() / "runs")) continue;
    const std::string machine = m.path().filename().string();
    if (!only_machine.empty() && machine != only_machine) continue;
    std::vector<fs::path> runs;
    std::set<std::string> ids;
    for (const auto& e : fs::directory_iterator(m.path() / "runs")) {
      if (e.is_directory()) runs.push_back(e.path()), ids.insert(e.path().filename().string());
    }
    std::sort(runs.rbegin(), runs.rend());  // newest first
    std::set<std::string> keep_ids;
    for (size_t i = 0; i < runs.size() && i < static_cast<size_t>(keep); ++i) {
      keep_ids.insert(runs[i].filename().string());
    }
    // Citations are followed until nothing new is kept (a kept report cites its baseline, whose
    // report cites its own).
    for (bool grew = true; grew;) {
      grew = false;
      for (const fs::path& r : runs) {
        if (!keep_ids.count(r.filename().string())) continue;
        for (const std::string& id : CitedRuns(r, ids)) grew |= keep_ids.insert(id).second;
      }
    }
    for (const fs::path& r : runs) {
      if (keep_ids.count(r.filename().string())) {
        ++kept;
        continue;
      }
      std::printf("%s %s/runs/%s\n", dry_run ? "would remove" : "removed", machine.c_str(),
                  r.filename().c_str());
      if (!dry_run) fs::remove_all(r);
      ++removed;
    }
  }
  std::printf("%d runs %s, %d kept\n", removed, dry_run ? "would be removed" : "removed", kept);
  if (dry_run) return 0;
  std::vector<std::string> repairs;
  Check(harness::RewriteIndexes(root.string(), &repairs));
  return 0;
}

int Main(int argc, char** argv) {
  const std::vector<char*> args = ParseFlagsOrExit(argc, argv, kUsage, 1);
  if (args.size() != 2) ExitWithUsageError("give one command: migrate, prune or index");
  std::string root = harness::UserPath(absl::GetFlag(FLAGS_results));
  if (root.empty()) {
    auto r = harness::DefaultResultsRoot();
    if (!r.ok()) Fail(std::string(r.status().message()));
    root = *r;
  }
  if (!fs::is_directory(root)) Fail("no results folder " + root);
  const std::string command = args[1];
  const bool dry_run = absl::GetFlag(FLAGS_dry_run);
  if (command == "migrate") return Migrate(root, dry_run);
  if (command == "prune") {
    return Prune(root, absl::GetFlag(FLAGS_keep), absl::GetFlag(FLAGS_machine), dry_run);
  }
  if (command == "index") {
    std::vector<std::string> repairs;
    Check(harness::RewriteIndexes(root, &repairs));
    for (const std::string& r : repairs) std::printf("index: %s\n", r.c_str());
    return 0;
  }
  ExitWithUsageError("unknown command '" + command + "' (migrate, prune or index)");
}

}  // namespace
}  // namespace klab::tools

int main(int argc, char** argv) { return klab::tools::Main(argc, argv); }
