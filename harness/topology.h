// Machine topology and thread pinning through hwloc 2.
//
// The topology is loaded once, restricted to the CPUs this process may use (hwloc's default
// excludes CPUs outside the cgroup/cpuset). Cores are numbered by hwloc's logical index.
// PinThisThreadToCore binds the calling thread to one processing unit of that core (singlified,
// so the scheduler cannot move it between hyperthreads) and verifies the binding by asking where
// the thread last ran. Failures are reported, not hidden: a row records the CPU it was pinned to,
// or why pinning failed.
#ifndef KLAB_HARNESS_TOPOLOGY_H_
#define KLAB_HARNESS_TOPOLOGY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace klab::harness {

struct CacheInfo {
  int64_t l1d = 0, l2 = 0, l3 = 0;  // bytes, as seen by one core; 0 when unknown
};

struct PinResult {
  bool ok = false;
  int os_cpu = -1;    // the OS index of the processing unit the thread is bound to (the first)
  std::vector<int> os_cpus;  // all of them
  std::string error;  // why not, when !ok
};

class Topology {
 public:
  static absl::StatusOr<std::unique_ptr<Topology>> Load();
  // The hwloc library loaded at run time: "libhwloc.so.15.6.1 (API 2.8.0)" (hwloc 2.9.0's API
  // version is 2.8.0; the release itself is not queryable).
  static std::string HwlocVersion();
  ~Topology();

  int cores() const;
  int processing_units() const;
  CacheInfo caches() const;  // of the first core
  // The CPU list for `threads` threads: "compact" fills cores in order (0, 1, ...).
  std::vector<int> CompactCores(int threads) const;
  // "scatter": deals cores out across packages first (socket 0 core 0, socket 1 core 0, ...), so
  // threads share as little as possible. On one package it equals compact.
  std::vector<int> ScatterCores(int threads) const;
  // By name: "compact" or "scatter" (anything else: compact).
  std::vector<int> CoresFor(const std::string& policy, int threads) const;

  // Binds the calling thread to core `core` (logical index, 0-based) and verifies it.
  PinResult PinThisThreadToCore(int core) const;

  // Binds the calling thread to one processing unit of each of `cores`; threads it creates
  // afterwards (a library's worker pool) inherit that set. The result's os_cpus lists them.
  PinResult PinThisThreadToCores(const std::vector<int>& cores) const;

  // OS index of the first processing unit of core `core`, or -1.
  int OsCpuOfCore(int core) const;

  // OS index of the CPU the calling thread last ran on, or -1.
  int LastCpu() const;

 private:
  explicit Topology(void* topo) : topo_(topo) {}
  void* topo_;  // hwloc_topology_t (kept opaque so users need not include hwloc.h)
};

}  // namespace klab::harness

#endif  // KLAB_HARNESS_TOPOLOGY_H_
