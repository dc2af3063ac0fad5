#include "harness/env.h"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "harness/counters.h"
#include "harness/pfm_events.h"
#include "harness/row_counters.h"

namespace klab::harness {
namespace {

// Runs a shell command and returns its stdout, or nullopt on failure. Used only for git.
bool RunCommand(const std::string& cmd, std::string& out) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  std::array<char, 4096> buf;
  out.clear();
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  return pclose(p) == 0;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "";
  return line;
}

// The value of the first "key : value" line of /proc/cpuinfo with this key.
std::string CpuinfoField(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "";
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string WorkspaceDirectory() {
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws != nullptr && *ws != '\0') return ws;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) != nullptr) return cwd;
  return "";
}

GitState ReadGitState(const std::string& workspace) {
  GitState g;
  if (workspace.empty()) return g;
  const std::string git = "git -C " + ShellQuote(workspace) + " ";
  std::string out;
  if (!RunCommand(git + "rev-parse HEAD 2>/dev/null", out)) return g;
  g.commit = std::string(absl::StripAsciiWhitespace(out));
  g.short_commit = g.commit.substr(0, 7);
  g.known = true;
  // Tracked files only: a results folder being written by this very run must not mark it dirty.
  if (RunCommand(git + "status --porcelain --untracked-files=no 2>/dev/null", out)) {
    g.dirty = !absl::StripAsciiWhitespace(out).empty();
  }
  return g;
}

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

std::string ShortHostname() {
  std::string h = Hostname();
  h = h.substr(0, h.find('.'));
  if (h.size() > 16) h.resize(16);
  return h;
}

std::string UtcTimestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json LibraryVersions() {
  // Run-time versions where the library reports one (what was loaded, not what was compiled
  // against); compile-time macros for the header-only and statically linked ones.
  return {{"glibc", gnu_get_libc_version()},
          {"hwloc", Topology::HwlocVersion()},
          {"libpfm4", LibpfmVersion()},
          {"abseil", absl::StrCat("LTS ", ABSL_LTS_RELEASE_VERSION, ".", ABSL_LTS_RELEASE_PATCH_LEVEL)},
          {"nlohmann_json", absl::StrFormat("%d.%d.%d", NLOHMANN_JSON_VERSION_MAJOR,
                                            NLOHMANN_JSON_VERSION_MINOR,
                                            NLOHMANN_JSON_VERSION_PATCH)}};
}

Json CaptureEnvironment(const Topology* topology, const std::vector<std::string>& isa) {
  Json env;
  env["host"] = Hostname();
  const std::string model = CpuinfoField("model name");
  env["cpu_model"] = model.empty() ? "unknown" : model;
  const std::string microcode = CpuinfoField("microcode");
  env["microcode"] = microcode.empty() ? "unknown" : microcode;
  env["isa"] = isa;
  if (topology != nullptr) {
    env["cores"] = topology->cores();
    env["processing_units"] = topology->processing_units();
    const CacheInfo c = topology->caches();
    env["caches"] = {{"l1d", c.l1d}, {"l2", c.l2}, {"l3", c.l3}};
    env["caches_source"] = "hwloc";
  } else {
    env["cores"] = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    env["caches"] = nullptr;
  }
  const bool virtualised = CpuinfoField("flags").find(" hypervisor") != std::string::npos;
  env["virtualised"] = virtualised;
  const std::string governor =
      ReadFirstLine("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  env["governor"] = !governor.empty() ? governor
                                      : (virtualised ? "unknown (virtualised)" : "unknown");
  const CounterCapabilities& caps = ProbeCounters();
  // What each row's hardware counter key counts here (the event and its scale), or why nothing.
  Json row_events = Json::object();
  for (const RowCounter& c : RowHardwareCounters()) {
    row_events[c.key] = c.event.empty()
                            ? Json{{"event", nullptr}, {"reason", c.reason}}
                            : Json{{"event", c.event}, {"scale", c.scale}};
  }
  env["counters"] = {{"hardware", caps.hardware},
                     {"reason", caps.hardware ? "" : caps.reason},
                     {"software", caps.software},
                     {"libpfm_pmus", DetectedPmus()},
                     {"row_events", row_events}};
  env["compiler"] = absl::StrFormat("g++ %s", __VERSION__);
  std::string flags;
#ifdef __OPTIMIZE__
  flags += "optimised";
#else
  flags += "unoptimised";
#endif
#ifdef NDEBUG
  flags += " NDEBUG";
#endif
#ifdef __SANITIZE_ADDRESS__
  flags += " asan";
#endif
  flags += " (baseline x86-64; per-ISA kernels carry their own -m flags; see .bazelrc)";
  env["flags"] = flags;
#ifdef KLAB_COMPILATION_MODE
  env["compilation_mode"] = KLAB_COMPILATION_MODE;
#else
  env["compilation_mode"] = "unknown (not built by Bazel)";
#endif
  const GitState git = ReadGitState(WorkspaceDirectory());
  env["git_commit"] = git.commit;
  env["git_dirty"] = git.known ? Json(git.dirty) : Json(nullptr);
  env["started"] = UtcTimestamp();
  utsname u;
  if (uname(&u) == 0) env["kernel"] = absl::StrFormat("%s %s", u.sysname, u.release);
  Json vars = Json::object();
  for (const char* name : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                           "OMP_NUM_THREADS", "BLIS_NUM_THREADS"}) {
    const char* v = std::getenv(name);
    if (v != nullptr) vars[name] = v;
  }
  env["environment_variables"] = vars;
  env["libraries"] = LibraryVersions();
  return env;
}

CpuTimes ReadCpuTimes() {
  CpuTimes t;
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return t;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  double v[10] = {};
  const int n = std::fscanf(f, "cpu %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
  std::fclose(f);
  if (n < 8) return t;
  for (int i = 0; i < 8; ++i) t.total += v[i];  // guest time is already inside user
  t.steal = v[7];
  return t;
}

double LoadAverage1() {
  double load = -1;
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return load;
  if (std::fscanf(f, "%lf", &load) != 1) load = -1;
  std::fclose(f);
  return load;
}

Json RunConditions(const CpuTimes& start) {
  const CpuTimes now = ReadCpuTimes();
  const double total = now.total - start.total;
  Json j;
  j["steal_pct"] = total > 0 ? Json(100.0 * (now.steal - start.steal) / total) : Json(nullptr);
  const double load = LoadAverage1();
  j["load_1min"] = load >= 0 ? Json(load) : Json(nullptr);
  return j;
}

bool SameMachine(const Json& env_a, const Json& env_b, std::string* why) {
  for (const char* field : {"cpu_model", "cores", "caches", "isa"}) {
    const Json a = env_a.value(field, Json()), b = env_b.value(field, Json());
    if (a.is_null() || a != b) {
      if (why != nullptr) *why = std::string(field) + ": " + a.dump() + " vs " + b.dump();
      return false;
    }
  }
  return true;
}

}  // namespace klab::harness
