#include "harness/topology.h"

#include <algorithm>

#include <hwloc.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "harness/loaded_library.h"

namespace klab::harness {
namespace {
hwloc_topology_t T(void* p) { return static_cast<hwloc_topology_t>(p); }

int64_t CacheSize(hwloc_topology_t topo, hwloc_obj_type_t type) {
  hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, 0);
  return obj != nullptr && obj->attr != nullptr ? static_cast<int64_t>(obj->attr->cache.size) : 0;
}
}  // namespace

std::string Topology::HwlocVersion() {
  const unsigned v = hwloc_get_api_version();
  return absl::StrFormat("%s (API %u.%u.%u)",
                         LoadedLibraryFile(reinterpret_cast<const void*>(&hwloc_get_api_version)),
                         v >> 16, (v >> 8) & 0xff, v & 0xff);
}

absl::StatusOr<std::unique_ptr<Topology>> Topology::Load() {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return absl::InternalError("hwloc_topology_init failed");
  if (hwloc_topology_load(topo) != 0) {
    const int err = errno;
    hwloc_topology_destroy(topo);
    return absl::InternalError(absl::StrFormat("hwloc_topology_load: %s", std::strerror(err)));
  }
  return std::unique_ptr<Topology>(new Topology(topo));
}

Topology::~Topology() { hwloc_topology_destroy(T(topo_)); }

int Topology::cores() const { return hwloc_get_nbobjs_by_type(T(topo_), HWLOC_OBJ_CORE); }

int Topology::processing_units() const {
  return hwloc_get_nbobjs_by_type(T(topo_), HWLOC_OBJ_PU);
}

CacheInfo Topology::caches() const {
  return {CacheSize(T(topo_), HWLOC_OBJ_L1CACHE), CacheSize(T(topo_), HWLOC_OBJ_L2CACHE),
          CacheSize(T(topo_), HWLOC_OBJ_L3CACHE)};
}

std::vector<int> Topology::CompactCores(int threads) const {
  std::vector<int> out;
  const int n = cores();
  for (int i = 0; i < threads; ++i) out.push_back(n > 0 ? i % n : 0);
  return out;
}

std::vector<int> Topology::ScatterCores(int threads) const {
  // Cores grouped by their package (socket), then dealt out one package after another, so
  // consecutive threads land on different packages (and their caches and memory paths).
  const int n = cores();
  std::vector<std::vector<int>> by_package;
  std::vector<hwloc_obj_t> packages;
  for (int c = 0; c < n; ++c) {
    hwloc_obj_t core = hwloc_get_obj_by_type(T(topo_), HWLOC_OBJ_CORE, c);
    hwloc_obj_t pkg = core != nullptr
                          ? hwloc_get_ancestor_obj_by_type(T(topo_), HWLOC_OBJ_PACKAGE, core)
                          : nullptr;
    size_t p = std::find(packages.begin(), packages.end(), pkg) - packages.begin();
    if (p == packages.size()) {
      packages.push_back(pkg);
      by_package.emplace_back();
    }
    by_package[p].push_back(c);
  }
  std::vector<int> order;
  for (size_t i = 0; order.size() < static_cast<size_t>(n); ++i) {
    for (const std::vector<int>& cores_of : by_package) {
      if (i < cores_of.size()) order.push_back(cores_of[i]);
    }
  }
  std::vector<int> out;
  for (int i = 0; i < threads; ++i) out.push_back(order.empty() ? 0 : order[i % order.size()]);
  return out;
}

std::vector<int> Topology::CoresFor(const std::string& policy, int threads) const {
  return policy == "scatter" ? ScatterCores(threads) : CompactCores(threads);
}

PinResult Topology::PinThisThreadToCore(int core) const {
  PinResult r;
  hwloc_obj_t obj = hwloc_get_obj_by_type(T(topo_), HWLOC_OBJ_CORE, core);
  if (obj == nullptr) {
    r.error = absl::StrFormat("no core %d (the topology has %d)", core, cores());
    return r;
  }
  hwloc_bitmap_t set = hwloc_bitmap_dup(obj->cpuset);
  hwloc_bitmap_singlify(set);
  if (hwloc_set_cpubind(T(topo_), set, HWLOC_CPUBIND_THREAD) != 0) {
    r.error = absl::StrFormat("hwloc_set_cpubind: %s", std::strerror(errno));
    hwloc_bitmap_free(set);
    return r;
  }
  r.os_cpu = hwloc_bitmap_first(set);
  r.os_cpus = {r.os_cpu};
  hwloc_bitmap_free(set);
  // Verify: after binding, the thread must run on the bound PU (sched_yield lets it migrate).
  const int last = LastCpu();
  if (last != r.os_cpu) {
    r.error = absl::StrFormat("bound to CPU %d but running on CPU %d", r.os_cpu, last);
    return r;
  }
  r.ok = true;
  return r;
}

PinResult Topology::PinThisThreadToCores(const std::vector<int>& cores) const {
  if (cores.size() == 1) return PinThisThreadToCore(cores[0]);
  PinResult r;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  for (int core : cores) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(T(topo_), HWLOC_OBJ_CORE, core);
    if (obj == nullptr) {
      r.error = absl::StrFormat("no core %d (the topology has %d)", core, this->cores());
      hwloc_bitmap_free(set);
      return r;
    }
    hwloc_bitmap_t one = hwloc_bitmap_dup(obj->cpuset);
    hwloc_bitmap_singlify(one);
    hwloc_bitmap_or(set, set, one);
    hwloc_bitmap_free(one);
  }
  if (hwloc_set_cpubind(T(topo_), set, HWLOC_CPUBIND_THREAD) != 0) {
    r.error = absl::StrFormat("hwloc_set_cpubind: %s", std::strerror(errno));
    hwloc_bitmap_free(set);
    return r;
  }
  unsigned id;
  hwloc_bitmap_foreach_begin(id, set) { r.os_cpus.push_back(static_cast<int>(id)); }
  hwloc_bitmap_foreach_end();
  r.os_cpu = r.os_cpus.empty() ? -1 : r.os_cpus[0];
  const int last = LastCpu();
  if (!hwloc_bitmap_isset(set, static_cast<unsigned>(last < 0 ? 0 : last)) || last < 0) {
    r.error = absl::StrFormat("bound to %d CPUs but running on CPU %d", r.os_cpus.size(), last);
    hwloc_bitmap_free(set);
    return r;
  }
  hwloc_bitmap_free(set);
  r.ok = true;
  return r;
}

int Topology::OsCpuOfCore(int core) const {
  hwloc_obj_t obj = hwloc_get_obj_by_type(T(topo_), HWLOC_OBJ_CORE, core);
  return obj == nullptr ? -1 : hwloc_bitmap_first(obj->cpuset);
}

int Topology::LastCpu() const {
  hwloc_bitmap_t where = hwloc_bitmap_alloc();
  int cpu = -1;
  if (hwloc_get_last_cpu_location(T(topo_), where, HWLOC_CPUBIND_THREAD) == 0) {
    cpu = hwloc_bitmap_first(where);
  }
  hwloc_bitmap_free(where);
  return cpu;
}

}  // namespace klab::harness
