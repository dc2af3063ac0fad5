#include "harness/pfm_events.h"

#include <sys/mman.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness/row_counters.h"

namespace klab::harness {
namespace {

// Generic events, on whatever PMU this machine has: libpfm's perf:: names encode to the
// PERF_TYPE_HARDWARE / PERF_TYPE_SOFTWARE pairs of linux/perf_event.h.
TEST(PfmEvents, GenericEventsEncode) {
  auto cycles = EncodeEvent("cycles");
  ASSERT_TRUE(cycles.ok()) << cycles.status();
  EXPECT_EQ(cycles->type, 0u);    // PERF_TYPE_HARDWARE
  EXPECT_EQ(cycles->config, 0u);  // PERF_COUNT_HW_CPU_CYCLES
  auto instructions = EncodeEvent("instructions");
  ASSERT_TRUE(instructions.ok());
  EXPECT_EQ(instructions->type, 0u);
  EXPECT_EQ(instructions->config, 1u);  // PERF_COUNT_HW_INSTRUCTIONS
  auto faults = EncodeEvent("page-faults");
  ASSERT_TRUE(faults.ok()) << faults.status();
  EXPECT_EQ(faults->type, 1u);    // PERF_TYPE_SOFTWARE
  EXPECT_EQ(faults->config, 2u);  // PERF_COUNT_SW_PAGE_FAULTS
  EXPECT_EQ(EncodeEvent("NO_SUCH_EVENT:NOR_UMASK").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(DetectedPmus().empty());
}

// The rows' hardware counters on whatever PMU this machine has: the generic events always
// resolve (libpfm's perf:: tables); the vendor ones where libpfm sees the core PMU.
TEST(PfmEvents, RowCountersResolveTheGenericEvents) {
  std::vector<std::string> keys;
  for (const RowCounter& c : RowHardwareCounters()) {
    keys.push_back(c.key);
    EXPECT_NE(c.event.empty(), c.reason.empty()) << c.key;  // an event or a reason, not both
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"cycles", "instructions", "l1d_load_misses",
                                            "l2_misses", "llc_load_misses", "flops"}));
  for (size_t i : {0, 1, 2, 4}) EXPECT_FALSE(RowHardwareCounters()[i].event.empty()) << keys[i];
}

// The version names the library file really loaded (its API version alone says 4.0 for all 4.x).
TEST(PfmEvents, VersionNamesTheLoadedLibrary) {
  const std::string v = LibpfmVersion();
  EXPECT_NE(v.find("libpfm.so."), std::string::npos) << v;
  EXPECT_NE(v.find("(API 4."), std::string::npos) << v;
}

// Software counters really count: touching N fresh pages shows ~N page faults.
TEST(PfmEvents, SoftwareGroupCountsPageFaults) {
  EventGroup group({"page-faults", "task-clock", "cycles"});
  const size_t pages = 512, page = 4096;
  char* p = static_cast<char*>(
      mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  group.Start();
  for (size_t i = 0; i < pages; ++i) p[i * page] = 1;
  group.Stop();
  const auto values = group.Read();
  munmap(p, pages * page);
  ASSERT_TRUE(values[0].value.has_value()) << values[0].reason;
  EXPECT_GE(*values[0].value, pages * 0.9);
  EXPECT_LE(*values[0].value, pages * 1.5 + 16);
  ASSERT_TRUE(values[1].value.has_value()) << values[1].reason;
  EXPECT_GT(*values[1].value, 0);
  // cycles: a value where the PMU is exposed, else no value and a reason; never a silent zero.
  if (!values[2].value) {
    EXPECT_FALSE(values[2].reason.empty());
    GTEST_LOG_(INFO) << "cycles unavailable here: " << values[2].reason;
  } else {
    EXPECT_GT(*values[2].value, 0);
  }
}

}  // namespace
}  // namespace klab::harness
