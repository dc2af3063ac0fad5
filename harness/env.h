// The environment fingerprint of docs/results-schema.md: what machine, software and state produced a run.
//
// Everything that can be read is read; what cannot is "unknown" with no guessing (a VM exposes no
// cpufreq governor, so the governor is "unknown (virtualised)"). Suites add what only they know
// (the ISA list their dispatcher sees, the measured peak, the peer libraries' kernels) to the
// returned object before writing it.
#ifndef KLAB_HARNESS_ENV_H_
#define KLAB_HARNESS_ENV_H_

#include <string>
#include <vector>

#include "harness/json.h"
#include "harness/topology.h"

namespace klab::harness {

struct GitState {
  std::string commit = "unknown";  // full sha
  std::string short_commit = "unknown";
  bool dirty = false;
  bool known = false;
};

// The repository the binary was started from: $BUILD_WORKSPACE_DIRECTORY under `bazel run`,
// else the current directory. Empty when neither is a git work tree.
std::string WorkspaceDirectory();
GitState ReadGitState(const std::string& workspace);

std::string Hostname();
// The first dot-separated label of the hostname, cut to 16 characters (for run ids).
std::string ShortHostname();
// "2026-11-27T18:30:00Z".
std::string UtcTimestamp();

// The env block: host, cpu_model, isa (as given), cores, caches, virtualised, governor,
// counters, compiler, flags, git_commit, git_dirty, started, kernel, and OPENBLAS_CORETYPE /
// OPENBLAS_L2_SIZE / OMP_NUM_THREADS where set.
// Jiffies of all CPUs from /proc/stat's "cpu" line: total and stolen by the hypervisor (time a
// virtual CPU was ready to run but the host ran something else). Zeros when unreadable.
struct CpuTimes {
  double total = 0, steal = 0;
};
CpuTimes ReadCpuTimes();

// The 1-minute load average, or -1 when unreadable.
double LoadAverage1();

// {"steal_pct": stolen share of all CPU time between the two snapshots, "load_1min": now}.
Json RunConditions(const CpuTimes& start);

// {"glibc", "hwloc", "libpfm4", "abseil", "nlohmann_json"} versions; part of CaptureEnvironment.
// Suites add the peer libraries they load (env.peers).
Json LibraryVersions();

Json CaptureEnvironment(const Topology* topology, const std::vector<std::string>& isa);

// Whether two records' environments describe the same kind of machine: the same CPU model name,
// core count, cache sizes and ISA list, the same vendor/family/model/stepping where both
// recorded them, and FMA peaks within 10% where both measured one (every host of these VMs is
// called "vm", so the host name says nothing). When they differ and `why` is set, it names the
// first field that differs.
bool SameMachine(const Json& env_a, const Json& env_b, std::string* why = nullptr);

// A readable name of the machine kind, vendor-microarchitecture-cores: "amd-zen4-2c",
// "intel-sapphirerapids-2c", "amd-zen5-2c". From env.cpu's family and model; for records from
// before env.cpu, from the CPU name, ISA, caches and measured peak they carry.
std::string MachineSlug(const Json& env);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_ENV_H_
