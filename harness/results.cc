#include "harness/results.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "harness/alloc_counter.h"
#include "harness/counters.h"
#include "harness/row_counters.h"
#include "harness/env.h"
#include "harness/fleet.h"
#include "harness/gzip.h"
#include "harness/layout.h"
#include "harness/csv.h"

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

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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
  j["unstable"] = IsUnstable(s);
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

std::string UserPath(const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd != nullptr && *cwd != '\0' ? (fs::path(cwd) / path).string() : path;
}

absl::StatusOr<std::string> DefaultResultsRoot() {
  const std::string ws = WorkspaceDirectory();
  if (!ws.empty() && fs::exists(fs::path(ws) / "WORKSPACE")) return (fs::path(ws) / "results").string();
  return absl::FailedPreconditionError(
      "not started from the repository (use `bazel run`), so there is no results/ folder to "
      "publish into: pass --out=DIR or --no_publish");
}

namespace {

// `v` to `digits` significant digits.
double RoundSignificant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::abs(v)))));
  return std::round(v * scale) / scale;
}

// Measurements are kept to the precision they have: every float to 6 significant digits (the
// noise of a timing is 0.1% at best), timing samples to 5 (0.01%). The statistics were computed
// from the full values before; the digits dropped are the ones gzip cannot compress.
void CompactNumbers(Json& value, bool samples) {
  if (value.is_object()) {
    for (auto& [key, v] : value.items()) CompactNumbers(v, key == "samples_ns");
  } else if (value.is_array()) {
    for (Json& v : value) CompactNumbers(v, samples);
  } else if (value.is_number_float()) {
    value = RoundSignificant(value.get<double>(), 6);
  } else if (samples && value.is_number_integer()) {
    value = static_cast<int64_t>(RoundSignificant(static_cast<double>(value.get<int64_t>()), 5));
  }
}

}  // namespace

std::string SerializeRecord(const Json& full) {
  Json record = full;
  CompactNumbers(record, false);
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

constexpr char kIndexMarker[] = "<!-- runs: newest first -->";
constexpr char kIndexHeader[] =
    "# Published runs of this machine\n\nOne line per published run, newest first. Each run "
    "folder holds the full records (`<key>.json.gz`, schema `kernel-lab/results/v1`, gzipped) "
    "and their tables (`<key>.md`); `latest/<key>.md` is the newest table of each kind. The fleet "
    "view across machines is [../README.md](../README.md).\n\n";

std::string Slurp(const fs::path& path) { return ReadWholeFile(path.string()); }

// The run id of an index line "- [<id>](runs/<id>/...", or "".
std::string IndexLineRunId(const std::string& line) {
  if (line.rfind("- [", 0) != 0) return "";
  const size_t close = line.find("](runs/");
  return close == std::string::npos ? "" : line.substr(3, close - 3);
}

// An exclusive lock on <root>/.publish.lock for the lifetime of the object (flock: released by
// the kernel if the process dies, so a killed publisher never leaves it held).
class PublishLock {
 public:
  static absl::StatusOr<std::unique_ptr<PublishLock>> Acquire(const fs::path& root) {
    const std::string path = (root / ".publish.lock").string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrFormat("cannot open the lock %s: %s", path, std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int err = errno;
        ::close(fd);
        return absl::InternalError(
            absl::StrFormat("cannot lock %s: %s", path, std::strerror(err)));
      }
    }
    return std::unique_ptr<PublishLock>(new PublishLock(fd));
  }
  ~PublishLock() { ::close(fd_); }  // closing releases the flock

 private:
  explicit PublishLock(int fd) : fd_(fd) {}
  int fd_;
};

// Under the lock: the machine's index (`machine_dir`/README.md) with `new_line` added, reconciled
// with its run folders. Entry lines are kept wherever they stand in the old text (so an index
// whose marker was lost is rebuilt, never cut), a run folder with no line gets one (an
// interrupted publish), and all entries are sorted newest first. Repairs go to `repairs`.
absl::Status UpdateIndex(const fs::path& machine_dir, const std::string& new_line,
                         std::vector<std::string>* repairs) {
  const fs::path path = machine_dir / "README.md";
  const std::string text = fs::exists(path) ? Slurp(path) : std::string();
  std::string header = kIndexHeader;
  const size_t marker = text.find(kIndexMarker);
  if (marker != std::string::npos) {
    header = text.substr(0, marker);
  } else if (!text.empty()) {
    repairs->push_back(path.string() + " had no '" + std::string(kIndexMarker) +
                       "' line: rebuilt it from its entries and the run folders");
  }
  std::map<std::string, std::string> entries;  // run id -> line
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::string id = IndexLineRunId(line);
    if (!id.empty()) entries.emplace(id, line);
  }
  if (!new_line.empty()) entries[IndexLineRunId(new_line)] = new_line;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(machine_dir / "runs", ec)) {
    if (!entry.is_directory()) continue;
    const std::string id = entry.path().filename().string();
    if (entries.count(id)) continue;
    const std::vector<std::string> keys = RecordKeysOfRun(entry.path().string());
    if (keys.empty()) continue;  // an empty folder: reported by ReportLeftovers
    entries[id] = absl::StrFormat("- [%s](runs/%s/%s.md) — %s (restored to the index from its "
                                  "run folder)", id, id, keys[0], absl::StrJoin(keys, ", "));
    repairs->push_back("run " + id + " was missing from its machine's README.md: added");
  }
  std::string out = header + kIndexMarker + "\n";
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) out += it->second + "\n";
  return WriteFileAtomic(path.string(), out);
}

// Leftovers of interrupted publishes: temporary files whose writer is gone (removed) and run
// folders left empty for over a minute (reported; a concurrent publisher's are younger).
void ReportLeftovers(const fs::path& root, const fs::path& own_dir,
                     std::vector<std::string>* repairs) {
  std::error_code ec;
  for (const std::string& run : AllRunDirs(root.string())) {
    const fs::path dir(run);
    std::error_code ec2;
    if (dir != own_dir && fs::is_empty(dir, ec2) && !ec2) {
      const auto age = fs::file_time_type::clock::now() - fs::last_write_time(dir, ec2);
      if (!ec2 && age > std::chrono::minutes(1)) {
        repairs->push_back("run folder " + fs::relative(dir, root, ec2).string() +
                           " is empty (an interrupted publish?); left as it is");
      }
    }
  }
  // Temporary files live at most four levels down: <machine>/runs/<id>/<file>.
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it.depth() >= 3) it.disable_recursion_pending();
    const std::string name = it->path().filename().string();
    const size_t at = name.rfind(".tmp.");
    int pid = 0;
    if (at == std::string::npos || !absl::SimpleAtoi(name.substr(at + 5), &pid) || pid <= 0) {
      continue;
    }
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still be running
    std::error_code ec2;
    const fs::path leftover = it->path();
    fs::remove(leftover, ec2);
    repairs->push_back("removed " + fs::relative(leftover, root, ec2).string() +
                       ", left by an interrupted write (process " + std::to_string(pid) + ")");
  }
}

// Creates <runs>/<id> exclusively: `id`, else id-02, id-03, ... (two runs started in the same
// second on the same host and commit get different folders, never one folder). A run id is
// unique across machines too: ids already taken under `root` count.
absl::StatusOr<std::string> ClaimRunFolder(const fs::path& root, const fs::path& runs,
                                           const std::string& id) {
  std::error_code ec;
  fs::create_directories(runs, ec);
  if (ec) return absl::InternalError(absl::StrFormat("cannot create %s: %s", runs.string(), ec.message()));
  for (int k = 1; k <= 9999; ++k) {
    const std::string candidate = k == 1 ? id : absl::StrFormat("%s-%02d", id, k);
    const std::string elsewhere = RunDir(root.string(), candidate);
    if (!elsewhere.empty() && fs::path(elsewhere).parent_path() != runs) continue;
    if (::mkdir((runs / candidate).c_str(), 0755) == 0) return candidate;
    if (errno != EEXIST) {
      return absl::InternalError(absl::StrFormat("cannot create %s: %s",
                                                 (runs / candidate).string(), std::strerror(errno)));
    }
  }
  return absl::InternalError("no free run folder for " + id);
}

// Each part's record (gzipped when published, plain JSON under --out) and markdown, the CSV when
// asked, and the extra files.
absl::Status WriteFiles(const fs::path& dir, const std::vector<RunPart>& parts, bool published,
                        const OutputOptions& o,
                        const std::vector<std::pair<std::string, std::string>>& extra_files) {
  absl::Status s;
  for (const RunPart& part : parts) {
    const std::string key = RecordKey(part.record);
    const std::string json = SerializeRecord(part.record);
    if (published) {
      s = WriteFileAtomic((dir / (key + ".json.gz")).string(), GzipCompress(json));
    } else if (o.formats.json) {
      s = WriteFileAtomic((dir / (key + ".json")).string(), json);
    }
    if (s.ok() && (published || o.formats.md)) {
      s = WriteFileAtomic((dir / (key + ".md")).string(), part.markdown);
    }
    if (s.ok() && o.formats.csv) s = WriteFileAtomic((dir / (key + ".csv")).string(), RecordCsv(part.record));
    if (!s.ok()) return s;
  }
  for (const auto& [name, contents] : extra_files) {
    if (s.ok()) s = WriteFileAtomic((dir / name).string(), contents);
  }
  return s;
}

}  // namespace

absl::Status CheckWritableFolder(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrFormat("cannot create %s: %s", dir, ec.message()));
  const std::string probe = (fs::path(dir) / absl::StrFormat(".write_probe.tmp.%d", getpid())).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot write into %s: %s", dir, std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

absl::StatusOr<WrittenRun> WriteRun(
    const OutputOptions& o, const Json& record, const std::string& markdown,
    const std::string& summary_line,
    const std::vector<std::pair<std::string, std::string>>& extra_files) {
  return WriteRunParts(o, {{record, markdown}}, summary_line, "", extra_files);
}

absl::StatusOr<WrittenRun> WriteRunParts(
    const OutputOptions& o, std::vector<RunPart> parts, const std::string& summary_line,
    const std::string& index_file,
    const std::vector<std::pair<std::string, std::string>>& extra_files) {
  WrittenRun written;
  if (!o.publish || parts.empty()) return written;
  written.run_id = parts[0].record.at("run_id").get<std::string>();
  if (!o.out_dir.empty()) {
    absl::Status s = WriteFiles(o.out_dir, parts, /*published=*/false, o, extra_files);
    if (!s.ok()) return s;
    written.dir = o.out_dir;
    return written;
  }
  const fs::path root(o.results_root);
  const fs::path machine_dir = root / MachineOf(parts[0].record);
  absl::StatusOr<std::string> id = ClaimRunFolder(root, machine_dir / "runs", written.run_id);
  if (!id.ok()) return id.status();
  written.run_id = *id;
  for (RunPart& part : parts) part.record["run_id"] = written.run_id;
  const fs::path dir = machine_dir / "runs" / written.run_id;
  absl::Status s = WriteFiles(dir, parts, /*published=*/true, o, extra_files);
  if (!s.ok()) return s;
  written.dir = dir.string();
  // latest/, the machine's index and the fleet view are shared by every publisher: one at a time.
  absl::StatusOr<std::unique_ptr<PublishLock>> lock = PublishLock::Acquire(root);
  if (!lock.ok()) return lock.status();
  for (const RunPart& part : parts) {
    const std::string key = RecordKey(part.record);
    const std::string latest = absl::StrFormat(
        "<!-- copied from runs/%s/%s.md; overwritten by each published run -->\n%s",
        written.run_id, key, part.markdown);
    s = WriteFileAtomic((machine_dir / "latest" / (key + ".md")).string(), latest);
    if (!s.ok()) return s;
  }
  const std::string link = index_file.empty() ? RecordKey(parts[0].record) + ".md" : index_file;
  s = UpdateIndex(machine_dir,
                  absl::StrFormat("- [%s](runs/%s/%s) — %s", written.run_id, written.run_id,
                                  link, summary_line),
                  &written.repairs);
  if (s.ok()) s = WriteFileAtomic((root / "README.md").string(), FleetMarkdown(root.string()));
  if (!s.ok()) return s;
  ReportLeftovers(root, dir, &written.repairs);
  return written;
}

absl::Status RewriteIndexes(const std::string& results_root, std::vector<std::string>* repairs) {
  const fs::path root(results_root);
  absl::StatusOr<std::unique_ptr<PublishLock>> lock = PublishLock::Acquire(root);
  if (!lock.ok()) return lock.status();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (!e.is_directory() || !fs::is_directory(e.path() / "runs")) continue;
    if (e.path().filename() == "runs") continue;
    absl::Status s = UpdateIndex(e.path(), "", repairs);
    if (!s.ok()) return s;
  }
  return WriteFileAtomic((root / "README.md").string(), FleetMarkdown(results_root));
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
