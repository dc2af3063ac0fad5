// Where published runs live (docs/results-schema.md, "Layout"): one folder per machine kind, so
// runs of different CPUs never mix and each machine's history reads on its own.
//
//   results/README.md                          the fleet view: every machine's newest in-run ratios
//   results/<machine>/README.md                that machine's runs, newest first
//   results/<machine>/latest/<key>.md          the newest tables of each record kind there
//   results/<machine>/runs/<run_id>/<key>.json.gz, <key>.md, charts, report.md/json/csv
//
// <machine> is env.machine (harness::MachineSlug, e.g. "amd-zen4-2c"). A record's key is its suite,
// with its mode when the suite has several (matmul_sweep's transformer shapes:
// "matmul_sweep-transformer"); one run folder holds one record per key (//perf:report publishes
// every suite's record in one folder). Records of the layout before machines
// (results/runs/<id>/<suite>.json) are still read.
#ifndef KLAB_HARNESS_LAYOUT_H_
#define KLAB_HARNESS_LAYOUT_H_

#include <string>
#include <vector>

#include "harness/json.h"

namespace klab::harness {

// The record's key: its "suite", plus "-" and its "mode" when it has a non-empty one.
std::string RecordKey(const Json& record);

// The machine folder a record belongs in: env.machine, else MachineSlug(env), else "unknown".
std::string MachineOf(const Json& record);

// Every run folder under `root` (<machine>/runs/<id> and the older runs/<id>), as paths.
std::vector<std::string> AllRunDirs(const std::string& root);

// The folder of run `run_id` under `root`, or "" when there is none.
std::string RunDir(const std::string& root, const std::string& run_id);

// The record file of `key` in `run_dir` (<key>.json.gz, else <key>.json), or "" when absent.
std::string RecordPath(const std::string& run_dir, const std::string& key);

// The keys of the records in `run_dir`, sorted.
std::vector<std::string> RecordKeysOfRun(const std::string& run_dir);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_LAYOUT_H_
