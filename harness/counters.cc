#include "harness/counters.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace klab::harness {
namespace {

int PerfOpen(uint32_t type, uint64_t config) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = type;
  attr.config = config;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  // pid 0, cpu -1: this thread, on whatever CPU it runs.
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

constexpr uint64_t kSoftwareConfigs[kSoftwareEventCount] = {
    PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS, PERF_COUNT_SW_CONTEXT_SWITCHES,
    PERF_COUNT_SW_CPU_MIGRATIONS};

CounterCapabilities Probe() {
  CounterCapabilities caps;
  const int fd = PerfOpen(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
  if (fd >= 0) {
    caps.hardware = true;
    close(fd);
  } else {
    caps.reason = PerfOpenErrorReason(errno);
  }
  for (int i = 0; i < kSoftwareEventCount; ++i) {
    const int sfd = PerfOpen(PERF_TYPE_SOFTWARE, kSoftwareConfigs[i]);
    if (sfd >= 0) {
      caps.software.emplace_back(kSoftwareEvents[i]);
      close(sfd);
    }
  }
  return caps;
}

}  // namespace

std::string PerfOpenErrorReason(int err) {
  switch (err) {
    case ENOENT:
      return "perf_event_open: ENOENT (no PMU exposed; typical of a virtual machine)";
    case EACCES:
    case EPERM:
      return std::string("perf_event_open: ") + (err == EACCES ? "EACCES" : "EPERM") +
             " (kernel.perf_event_paranoid or a seccomp/container policy forbids it)";
    case EOPNOTSUPP:
      return "perf_event_open: EOPNOTSUPP (the PMU does not support this event or mode)";
    case ENXIO:
      return "perf_event_open: ENXIO (no such PMU or CPU)";
    case ENOSYS:
      return "perf_event_open: ENOSYS (kernel built without perf events)";
    case EINVAL:
      return "perf_event_open: EINVAL (event not supported by this kernel)";
    default:
      return std::string("perf_event_open: ") + std::strerror(err);
  }
}

const CounterCapabilities& ProbeCounters() {
  static const CounterCapabilities caps = Probe();
  return caps;
}

}  // namespace klab::harness
