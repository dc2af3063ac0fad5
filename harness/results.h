// Writing a suite's results as docs/results-schema.md specifies: `<suite>.json` (schema
// kernel-lab/results/v1) and `<suite>.md`, either published into the repository's results/ tree
// or written into a folder the user names.
//
// Every file is written atomically (a temporary file in the same folder, then rename), so an
// interrupted run never leaves a half-written table; a failed write is an error, never ignored.
//
// Publishing writes (harness/layout.h)
//   results/<machine>/runs/<run_id>/<key>.json.gz and .md   the full records and their tables
//   results/<machine>/latest/<key>.md                       the newest table of each kind
//   results/<machine>/README.md                             that machine's runs, newest first
//   results/README.md                                       the fleet view (harness/fleet.h)
#ifndef KLAB_HARNESS_RESULTS_H_
#define KLAB_HARNESS_RESULTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/json.h"
#include "harness/measure.h"

namespace klab::harness {

inline constexpr char kResultsSchema[] = "kernel-lab/results/v1";

// YYYYMMDD-HHMMSS-<short host>-<git short sha>, from the env block's "started" and host.
std::string MakeRunId(const std::string& started_utc, const std::string& short_host,
                      const std::string& short_commit);

// The whole file at `path`, or "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// Writes `contents` to `path` through a temporary file and rename; creates parent folders.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents);

// A row is `unstable` when its MAD exceeds this fraction of its median (5%): the one rule every
// suite's rows, live lines and tables use.
inline constexpr double kUnstableMadRatio = 0.05;
inline bool IsUnstable(const Summary& s) {
  return s.median > 0 && s.mad / s.median > kUnstableMadRatio;
}

// The timing fields of a row: reps, time_ns {min, median, p95, mean, stddev, mad, median_ci95},
// samples_ns, stopped_by, unstable, alloc, counters (software counters per repetition; hardware
// ones null).
Json TimingJson(const Measurement& m);

// Which files a run writes (--format=md,json,csv). Published runs always keep the record
// (gzipped) and the tables; csv adds <key>.csv. Under --out exactly the formats named are written.
struct Formats {
  bool md = true, json = true, csv = false;
};

struct OutputOptions {
  std::string out_dir;       // if set: write <key>.json/.md/.csv here, publish nothing
  bool publish = true;       // false: write nothing at all (--no_publish)
  std::string results_root;  // the results/ folder to publish into
  Formats formats;
};

// One record of a run and its tables.
struct RunPart {
  Json record;
  std::string markdown;
};

// The results/ folder of the workspace the binary was started from (see env.h), or an error
// saying to pass --out when there is none.
absl::StatusOr<std::string> DefaultResultsRoot();

// A path the user typed: a relative one is taken from the folder `bazel run` was started in
// (BUILD_WORKING_DIRECTORY), not the runfiles folder the binary runs in. "" stays "".
std::string UserPath(const std::string& path);

// OK when `dir` exists (it is created) and a file can be written in it: checked before a suite
// measures anything, so a bad --out is said at once, not after minutes of measuring.
absl::Status CheckWritableFolder(const std::string& dir);

struct WrittenRun {
  std::string dir;     // "" when nothing was written
  std::string run_id;  // the record's, or with a -NN suffix when that folder already existed
  // What publishing found and repaired or reported: index lines restored, temporary files of
  // interrupted writes removed, empty run folders.
  std::vector<std::string> repairs;
};

// Writes the run. Publishing is safe against concurrent and interrupted publishers: the run
// folder is created exclusively (a run id already taken gets a -02, -03, ... suffix, written
// into the record too), latest.md and the index are updated under an flock on
// results/.publish.lock, and the index is reconciled with the run folders each time (a missing
// marker or a run missing from it is rebuilt, never truncated).
// `summary_line` is the index entry's text after the link (e.g. "matmul_sweep, 24 rows, 1 thread").
// `extra_files` (file name, contents), e.g. SVG charts, go beside the tables.
absl::StatusOr<WrittenRun> WriteRun(
    const OutputOptions& options, const Json& record, const std::string& markdown,
    const std::string& summary_line,
    const std::vector<std::pair<std::string, std::string>>& extra_files = {});

// Several records published as one run (//perf:report: every suite's record in one folder).
// The first part's record gives the run id and the machine; `index_file` is the file the
// machine's index links to (default: the first part's tables).
absl::StatusOr<WrittenRun> WriteRunParts(
    const OutputOptions& options, std::vector<RunPart> parts, const std::string& summary_line,
    const std::string& index_file,
    const std::vector<std::pair<std::string, std::string>>& extra_files = {});

// Rebuilds every machine's README.md from its run folders and the fleet view (after runs were
// moved or pruned by //tools:results).
absl::Status RewriteIndexes(const std::string& results_root, std::vector<std::string>* repairs);

// The record as text: one row per line (diffs stay readable, files small), env indented; floats
// to 6 significant digits and timing samples to 5 (results.cc, CompactNumbers).
std::string SerializeRecord(const Json& record);

// A markdown table: header row, separator (numbers right-aligned when `numeric[i]`), rows.
std::string MarkdownTable(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                          const std::vector<std::vector<std::string>>& rows);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_RESULTS_H_
