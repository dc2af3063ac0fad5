#include "harness/pfm_events.h"

#include <linux/perf_event.h>
#include <perfmon/pfmlib.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/counters.h"
#include "harness/loaded_library.h"

namespace klab::harness {

std::string LibpfmVersion() {
  // pfm_get_version() is the API version (4.0 for every 4.x release); the release is in the name
  // of the file loaded (libpfm.so.4.13.0).
  const int v = pfm_get_version();
  const std::string api =
      v < 0 ? "unknown" : absl::StrFormat("%d.%d", PFM_MAJ_VERSION(v), PFM_MIN_VERSION(v));
  return absl::StrFormat("%s (API %s)", LoadedLibraryFile(reinterpret_cast<const void*>(&pfm_initialize)), api);
}

namespace {

// pfm_initialize once per process; its result kept.
int InitializeOnce() {
  static const int result = pfm_initialize();
  return result;
}

long PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
  return syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

// The generic events every row reads, as linux/perf_event.h defines them: used when libpfm4
// cannot initialise, so a row's software counters never depend on it.
struct Generic {
  const char* name;
  uint32_t type;
  uint64_t config;
};
constexpr Generic kGeneric[] = {
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
};

// Fills attr for `name` (user level, this thread, any CPU).
absl::Status Encode(const std::string& name, perf_event_attr* attr, std::string* canonical) {
  std::memset(attr, 0, sizeof(*attr));
  attr->size = sizeof(*attr);
  const int init = InitializeOnce();
  if (init != PFM_SUCCESS) {
    for (const Generic& g : kGeneric) {
      if (name == g.name) {
        attr->type = g.type;
        attr->config = g.config;
        if (canonical != nullptr) *canonical = name;
        return absl::OkStatus();
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("libpfm4 cannot initialise: ", pfm_strerror(init)));
  }
  char* fstr = nullptr;
  pfm_perf_encode_arg_t arg;
  std::memset(&arg, 0, sizeof(arg));
  arg.attr = attr;
  arg.fstr = &fstr;
  arg.size = sizeof(arg);
  const int r = pfm_get_os_event_encoding(name.c_str(), PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
  if (r != PFM_SUCCESS) {
    return absl::NotFoundError(absl::StrFormat("libpfm4 cannot encode '%s': %s", name,
                                               pfm_strerror(r)));
  }
  if (canonical != nullptr && fstr != nullptr) *canonical = fstr;
  std::free(fstr);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EventEncoding> EncodeEvent(const std::string& name) {
  perf_event_attr attr;
  EventEncoding e;
  e.name = name;
  absl::Status s = Encode(name, &attr, &e.canonical);
  if (!s.ok()) return s;
  e.type = attr.type;
  e.config = attr.config;
  e.config1 = attr.config1;
  return e;
}

std::vector<std::string> DetectedPmus() {
  std::vector<std::string> pmus;
  if (InitializeOnce() != PFM_SUCCESS) return pmus;
  pfm_pmu_info_t info;
  for (int p = PFM_PMU_NONE; p < PFM_PMU_MAX; ++p) {
    std::memset(&info, 0, sizeof(info));
    info.size = sizeof(info);
    if (pfm_get_pmu_info(static_cast<pfm_pmu_t>(p), &info) == PFM_SUCCESS && info.is_present) {
      pmus.push_back(info.name);
    }
  }
  return pmus;
}

EventGroup::EventGroup(const std::vector<std::string>& names)
    : names_(names), fds_(names.size(), -1), reasons_(names.size()) {
  int leader = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    perf_event_attr attr;
    const absl::Status s = Encode(names[i], &attr, nullptr);
    if (!s.ok()) {
      reasons_[i] = std::string(s.message());
      continue;
    }
    attr.disabled = leader < 0 ? 1 : 0;  // the leader starts and stops the group
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = PerfEventOpen(&attr, 0, -1, leader, 0);
    if (fd < 0 && leader >= 0) {
      // A software event cannot join a hardware group on every kernel: open it alone.
      attr.disabled = 1;
      fd = PerfEventOpen(&attr, 0, -1, -1, 0);
    }
    if (fd < 0) {
      reasons_[i] = PerfOpenErrorReason(errno);
      continue;
    }
    fds_[i] = static_cast<int>(fd);
    if (leader < 0) leader = fds_[i];
  }
}

EventGroup::~EventGroup() {
  for (int fd : fds_) {
    if (fd >= 0) close(fd);
  }
}

void EventGroup::Start() {
  for (int fd : fds_) {
    if (fd < 0) continue;
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  }
}

void EventGroup::Resume() {
  for (int fd : fds_) {
    if (fd >= 0) ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  }
}

void EventGroup::Stop() {
  for (int fd : fds_) {
    if (fd >= 0) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  }
}

std::vector<EventGroup::Value> EventGroup::Read() const {
  std::vector<Value> out(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    if (fds_[i] < 0) {
      out[i].reason = reasons_[i];
      continue;
    }
    uint64_t buf[3] = {0, 0, 0};  // value, time_enabled, time_running
    if (read(fds_[i], buf, sizeof(buf)) != sizeof(buf)) {
      out[i].reason = absl::StrCat("read failed: ", std::strerror(errno));
      continue;
    }
    if (buf[2] == 0) {
      out[i].reason = buf[1] == 0 ? "never enabled" : "never scheduled (multiplexed out)";
      continue;
    }
    out[i].running_fraction = static_cast<double>(buf[2]) / static_cast<double>(buf[1]);
    out[i].value = static_cast<double>(buf[0]) / out[i].running_fraction;
  }
  return out;
}

}  // namespace klab::harness
