#include "harness/env.h"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/base/config.h"
#include "absl/strings/numbers.h"
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

// The value of the /proc/cpuinfo line whose key is exactly `key` ("model", not "model name").
std::string CpuinfoExact(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (absl::StripAsciiWhitespace(line.substr(0, colon)) == key) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

// The FMA peak per core a record measured, or 0.
double RecordedPeak(const Json& env) {
  if (env.contains("peak") && env["peak"].is_object() && env["peak"].value("gflops", Json()).is_number()) {
    return env["peak"]["gflops"].get<double>();
  }
  const Json p = env.value("peak_gflops_per_core", Json());
  return p.is_number() ? p.get<double>() : 0.0;
}

bool HasIsa(const Json& env, const char* isa) {
  const Json list = env.value("isa", Json::array());
  return list.is_array() && std::find(list.begin(), list.end(), Json(isa)) != list.end();
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
  // Vendor, family, model and stepping: with the caches and ISA, what tells two CPUs apart
  // (every host of these VMs is called "vm"; see MachineSlug).
  const std::string vendor = CpuinfoExact("vendor_id");
  int family = -1, cpu_model = -1, stepping = -1;
  absl::SimpleAtoi(CpuinfoExact("cpu family"), &family);
  absl::SimpleAtoi(CpuinfoExact("model"), &cpu_model);
  absl::SimpleAtoi(CpuinfoExact("stepping"), &stepping);
  env["cpu"] = {{"vendor", vendor.empty() ? Json(nullptr) : Json(vendor)},
                {"family", family >= 0 ? Json(family) : Json(nullptr)},
                {"model", cpu_model >= 0 ? Json(cpu_model) : Json(nullptr)},
                {"stepping", stepping >= 0 ? Json(stepping) : Json(nullptr)}};
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
  env["machine"] = MachineSlug(env);
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

std::string MachineSlug(const Json& env) {
  const Json cpu = env.value("cpu", Json::object());
  const std::string name = env.value("cpu_model", std::string());
  const Json v = cpu.is_object() ? cpu.value("vendor", Json()) : Json();
  std::string vendor = v.is_string() ? v.get<std::string>() : "";
  if (vendor == "AuthenticAMD" || (vendor.empty() && name.find("AMD") != std::string::npos)) {
    vendor = "amd";
  } else if (vendor == "GenuineIntel" || (vendor.empty() && name.find("Intel") != std::string::npos)) {
    vendor = "intel";
  } else {
    vendor = "cpu";
  }
  const int family = cpu.is_object() && cpu.value("family", Json()).is_number() ? cpu["family"].get<int>() : -1;
  const int model = cpu.is_object() && cpu.value("model", Json()).is_number() ? cpu["model"].get<int>() : -1;
  std::string arch;
  if (vendor == "amd" && family == 0x1A) {
    arch = "zen5";
  } else if (vendor == "amd" && family == 0x19) {
    const bool zen4 = (model >= 0x10 && model <= 0x1F) || (model >= 0x60 && model <= 0x7F) ||
                      (model >= 0xA0 && model <= 0xAF);
    arch = zen4 ? "zen4" : "zen3";
  } else if (vendor == "amd" && family == 0x17) {
    arch = "zen2";
  } else if (vendor == "intel" && family == 6) {
    switch (model) {
      case 0x8F: arch = "sapphirerapids"; break;
      case 0xCF: arch = "emeraldrapids"; break;
      case 0xAD: case 0xAE: arch = "graniterapids"; break;
      case 0x6A: case 0x6C: arch = "icelake"; break;
      case 0x55: arch = "skylake"; break;
      default: arch = absl::StrFormat("fam6-%02x", model);
    }
  } else if (family < 0) {
    // Records from before env.cpu: placed by what they do carry. AVX-512 on AMD is Zen 4 (half-
    // width FMA, ~118 GFLOP/s per core measured) or Zen 5 (full width, ~240); a 2 MiB L2 with
    // AVX-512 BF16 on Intel is Sapphire Rapids or later.
    const double peak = RecordedPeak(env);
    const Json caches = env.value("caches", Json::object());
    const int64_t l2 = caches.is_object() && caches.value("l2", Json()).is_number() ? caches["l2"].get<int64_t>() : 0;
    if (vendor == "amd") {
      arch = HasIsa(env, "avx512f") ? (peak > 180 ? "zen5" : "zen4") : "zen";
    } else if (vendor == "intel") {
      arch = HasIsa(env, "avx512_bf16") && l2 >= (int64_t{2} << 20) ? "sapphirerapids" : "xeon";
    }
  } else {
    arch = absl::StrFormat("fam%d-%d", family, model);
  }
  const Json cores = env.value("cores", Json());
  std::string slug = vendor;
  if (!arch.empty()) slug += "-" + arch;
  if (cores.is_number()) slug += absl::StrCat("-", cores.get<int>(), "c");
  return slug;
}

bool SameMachine(const Json& env_a, const Json& env_b, std::string* why) {
  auto differ = [why](const std::string& field, const Json& a, const Json& b) {
    if (why != nullptr) *why = field + ": " + a.dump() + " vs " + b.dump();
    return false;
  };
  for (const char* field : {"cpu_model", "cores", "caches", "isa"}) {
    const Json a = env_a.value(field, Json()), b = env_b.value(field, Json());
    if (a.is_null() || a != b) return differ(field, a, b);
  }
  // Family, model and stepping where both records have them (older records do not).
  const Json ca = env_a.value("cpu", Json::object()), cb = env_b.value("cpu", Json::object());
  for (const char* field : {"vendor", "family", "model", "stepping"}) {
    const Json a = ca.is_object() ? ca.value(field, Json()) : Json();
    const Json b = cb.is_object() ? cb.value(field, Json()) : Json();
    if (!a.is_null() && !b.is_null() && a != b) return differ(std::string("cpu.") + field, a, b);
  }
  // The measured peak within 10% where both measured it: the same name and caches can hide a
  // different clock or FMA width (a VM type changed under the same model string).
  const double pa = RecordedPeak(env_a), pb = RecordedPeak(env_b);
  if (pa > 0 && pb > 0 && std::fabs(pa - pb) > 0.1 * std::max(pa, pb)) {
    return differ("FMA peak per core (GFLOP/s)", Json(pa), Json(pb));
  }
  return true;
}

}  // namespace klab::harness
