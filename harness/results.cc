#include "harness/results.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "harness/alloc_counter.h"
#include "harness/counters.h"
#include "harness/row_counters.h"
#include "harness/env.h"

namespace klab::harness {
namespace fs = std::filesystem;

std::string MakeRunId(const std::string& started, const std::string& host,
                      const std::string& commit) {
  // started = "2026-11-27T18:30:00Z" -> "20261127-183000"
  std::string stamp;
  for (char c : started) {
    if (c >= '0' && c <= '9') stamp += c;
  }
  if (stamp.size() >= 14) stamp = stamp.substr(0, 8) + "-" + stamp.substr(8, 6);
  return absl::StrFormat("%s-%s-%s", stamp, host, commit.substr(0, 7));
}

absl::Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec) {
      return absl::InternalError(
          absl::StrFormat("cannot create %s: %s", p.parent_path().string(), ec.message()));
    }
  }
  const std::string tmp = absl::StrFormat("%s.tmp.%d", path, getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::InternalError(absl::StrFormat("cannot write %s: %s", tmp, std::strerror(errno)));
    }
    out << contents;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::InternalError(absl::StrFormat("writing %s failed", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::InternalError(
        absl::StrFormat("cannot rename %s to %s: %s", tmp, path, std::strerror(err)));
  }
  return absl::OkStatus();
}

Json TimingJson(const Measurement& m) {
  Json j;
  j["reps"] = m.samples_ns.size();
  j["calls_per_sample"] = m.calls_per_sample;
  const Summary& s = m.summary;
  const Interval ci = BootstrapMedianCi(m.samples_ns);
  j["time_ns"] = {{"min", s.min},       {"median", s.median}, {"p95", s.p95},
                  {"mean", s.mean},     {"stddev", s.stddev}, {"mad", s.mad},
                  {"median_ci95", {ci.lo, ci.hi}}};
  // Whole nanoseconds are plenty (samples are >= microseconds) and keep the files small.
  std::vector<int64_t> samples;
  for (double v : m.samples_ns) samples.push_back(static_cast<int64_t>(std::llround(v)));
  j["samples_ns"] = samples;
  j["stopped_by"] = m.stopped_by;
  j["ran_on_cpus"] = m.ran_on_cpus;
  // The harness's flag for a row whose samples spread too much to trust its median alone.
  j["unstable"] = s.median > 0 && s.mad / s.median > kUnstableMadRatio;
  if (AllocCounterActive()) {
    j["alloc"] = {{"bytes", m.alloc_bytes_per_rep}, {"count", m.allocs_per_rep}};
  } else {
    j["alloc"] = {{"bytes", nullptr}, {"count", nullptr}};  // not counted in this binary
  }
  Json counters = Json::object();
  for (int i = 0; i < kSoftwareEventCount; ++i) {
    const auto& v = i < static_cast<int>(m.counters_per_rep.size()) ? m.counters_per_rep[i]
                                                                     : std::optional<double>();
    counters[kSoftwareEvents[i]] = v ? Json(*v) : Json(nullptr);
  }
  // Hardware counters: null unless the machine exposes a PMU (env.counters.reason says why).
  const std::vector<RowCounter>& hardware = RowHardwareCounters();
  for (size_t i = 0; i < hardware.size(); ++i) {
    const std::optional<double> v =
        i < m.hardware_per_rep.size() ? m.hardware_per_rep[i] : std::nullopt;
    counters[hardware[i].key] = v ? Json(*v) : Json(nullptr);
  }
  j["counters"] = counters;
  return j;
}

absl::StatusOr<std::string> DefaultResultsRoot() {
  const std::string ws = WorkspaceDirectory();
  if (!ws.empty() && fs::exists(fs::path(ws) / "WORKSPACE")) return (fs::path(ws) / "results").string();
  return absl::FailedPreconditionError(
      "not started from the repository (use `bazel run`), so there is no results/ folder to "
      "publish into: pass --out=DIR or --no_publish");
}

std::string SerializeRecord(const Json& record) {
  std::string out = "{\n";
  bool first = true;
  for (const auto& [key, value] : record.items()) {
    if (!first) out += ",\n";
    first = false;
    out += "  " + Json(key).dump() + ": ";
    if (key == "rows" && value.is_array()) {
      out += "[";
      for (size_t i = 0; i < value.size(); ++i) {
        out += (i == 0 ? "\n    " : ",\n    ") + value[i].dump();
      }
      out += value.empty() ? "]" : "\n  ]";
    } else if (key == "env") {
      std::string env = value.dump(2);
      std::string indented;
      for (char c : env) {
        indented += c;
        if (c == '\n') indented += "  ";
      }
      out += indented;
    } else {
      out += value.dump();
    }
  }
  return out + "\n}\n";
}

namespace {

// Inserts `line` as the newest entry of results/README.md, creating the file if needed.
absl::Status UpdateIndex(const std::string& root, const std::string& line) {
  const std::string path = (fs::path(root) / "README.md").string();
  const std::string marker = "<!-- runs: newest first -->";
  std::string text;
  {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.find(marker) == std::string::npos) {
    text = "# Published results\n\nOne line per published run, newest first. Each run folder holds "
           "the full record (`<suite>.json`, schema `kernel-lab/results/v1`) and its tables "
           "(`<suite>.md`); `<suite>/latest.md` is the newest table of each suite.\n\n" +
           marker + "\n";
  }
  const size_t at = text.find(marker) + marker.size() + 1;
  text.insert(std::min(at, text.size()), line + "\n");
  return WriteFileAtomic(path, text);
}

}  // namespace

absl::StatusOr<std::string> WriteRun(
    const OutputOptions& o, const Json& record, const std::string& markdown,
    const std::string& summary_line,
    const std::vector<std::pair<std::string, std::string>>& extra_files) {
  if (!o.publish) return std::string();
  const std::string suite = record.at("suite").get<std::string>();
  const std::string run_id = record.at("run_id").get<std::string>();
  const std::string json_text = SerializeRecord(record);
  if (!o.out_dir.empty()) {
    absl::Status s = WriteFileAtomic((fs::path(o.out_dir) / (suite + ".json")).string(), json_text);
    if (!s.ok()) return s;
    s = WriteFileAtomic((fs::path(o.out_dir) / (suite + ".md")).string(), markdown);
    if (!s.ok()) return s;
    for (const auto& [name, contents] : extra_files) {
      s = WriteFileAtomic((fs::path(o.out_dir) / name).string(), contents);
      if (!s.ok()) return s;
    }
    return o.out_dir;
  }
  const fs::path dir = fs::path(o.results_root) / "runs" / run_id;
  absl::Status s = WriteFileAtomic((dir / (suite + ".json")).string(), json_text);
  if (!s.ok()) return s;
  s = WriteFileAtomic((dir / (suite + ".md")).string(), markdown);
  if (!s.ok()) return s;
  for (const auto& [name, contents] : extra_files) {
    s = WriteFileAtomic((dir / name).string(), contents);
    if (!s.ok()) return s;
  }
  const std::string latest = absl::StrFormat(
      "<!-- copied from runs/%s/%s.md; overwritten by each published run -->\n%s", run_id, suite,
      markdown);
  s = WriteFileAtomic((fs::path(o.results_root) / suite / "latest.md").string(), latest);
  if (!s.ok()) return s;
  s = UpdateIndex(o.results_root,
                  absl::StrFormat("- [%s](runs/%s/%s.md) — %s", run_id, run_id, suite, summary_line));
  if (!s.ok()) return s;
  return dir.string();
}

std::string MarkdownTable(const std::vector<std::string>& header, const std::vector<bool>& numeric,
                          const std::vector<std::vector<std::string>>& rows) {
  std::string out = "| " + absl::StrJoin(header, " | ") + " |\n|";
  for (size_t i = 0; i < header.size(); ++i) {
    out += (i < numeric.size() && numeric[i]) ? "---:|" : "---|";
  }
  out += "\n";
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& c : row) cells.push_back(absl::StrReplaceAll(c, {{"|", "\\|"}}));
    out += "| " + absl::StrJoin(cells, " | ") + " |\n";
  }
  return out;
}

}  // namespace klab::harness
