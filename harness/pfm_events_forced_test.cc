// Event encoding with one PMU's tables forced (LIBPFM_FORCE_PMU), so the expected encodings hold
// on any CPU. The PMU comes from the test's environment (KLAB_FORCED_PMU, set in BUILD): one
// binary per PMU, because the variable must be set before libpfm initialises, once per process.
#include <cstdlib>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "harness/flop_event.h"
#include "harness/pfm_events.h"
#include "harness/row_counters.h"

namespace klab::harness {
namespace {

std::string ForcePmu() {
  const char* pmu = std::getenv("KLAB_FORCED_PMU");
  if (pmu == nullptr) return "";
  EXPECT_EQ(setenv("LIBPFM_FORCE_PMU", pmu, 1), 0);
  return pmu;
}

TEST(PfmEventsForced, FlopEventOfThePmu) {
  const std::string pmu = ForcePmu();
  ASSERT_FALSE(pmu.empty()) << "KLAB_FORCED_PMU is not set (BUILD sets it)";
  if (pmu == "amd64_fam19h_zen4") {
    auto flops = EncodeEvent("RETIRED_SSE_AVX_FLOPS:ANY");
    ASSERT_TRUE(flops.ok()) << flops.status();
    EXPECT_EQ(flops->type, 4u);  // the raw type of the core PMU (PERF_TYPE_RAW)
    EXPECT_EQ(flops->config, 0x1f03u);
    EXPECT_NE(flops->canonical.find("RETIRED_SSE_AVX_FLOPS"), std::string::npos);
    // Zen counts FLOPs: one count is one FLOP, whatever the vector width.
    for (int bits : {256, 512}) {
      const auto e = SelectFlopEvent(bits);
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->name, "RETIRED_SSE_AVX_FLOPS:ANY");
      EXPECT_EQ(e->flops_per_count, 1.0);
    }
  } else if (pmu == "spr") {
    auto flops = EncodeEvent("FP_ARITH_INST_RETIRED:512B_PACKED_SINGLE");
    ASSERT_TRUE(flops.ok()) << flops.status();
    EXPECT_EQ(flops->type, 4u);
    EXPECT_EQ(flops->config, 0x80c7u);  // event 0xc7, umask 0x80
    // Intel counts instructions (an FMA twice): one count stands for every lane.
    const auto e512 = SelectFlopEvent(512);
    ASSERT_TRUE(e512.has_value());
    EXPECT_EQ(e512->name, "FP_ARITH_INST_RETIRED:512B_PACKED_SINGLE");
    EXPECT_EQ(e512->flops_per_count, 16.0);
    const auto e256 = SelectFlopEvent(256);
    ASSERT_TRUE(e256.has_value());
    EXPECT_EQ(e256->name, "FP_ARITH_INST_RETIRED:256B_PACKED_SINGLE");
    EXPECT_EQ(e256->flops_per_count, 8.0);
  } else {
    FAIL() << "no expectations for PMU " << pmu;
  }
  // Forcing the PMU hides the generic perf:: events.
  EXPECT_FALSE(EncodeEvent("perf::cycles").ok());
}

// The rows' counters resolve to this PMU's own events where the generic ones are hidden.
TEST(PfmEventsForced, RowCountersOfThePmu) {
  const std::string pmu = ForcePmu();
  ASSERT_FALSE(pmu.empty());
  std::map<std::string, RowCounter> by_key;
  for (const RowCounter& c : RowHardwareCounters()) by_key[c.key] = c;
  ASSERT_EQ(by_key.size(), 6u);
  if (pmu == "amd64_fam19h_zen4") {
    EXPECT_EQ(by_key["l2_misses"].event, "CORE_TO_L2_CACHEABLE_REQUEST_ACCESS_STATUS:LS_RD_BLK_C");
    EXPECT_EQ(by_key["flops"].event, "RETIRED_SSE_AVX_FLOPS:ANY");
    EXPECT_EQ(by_key["flops"].scale, 1.0);
  } else {
    EXPECT_EQ(by_key["l2_misses"].event, "L2_RQSTS:ALL_DEMAND_MISS");
    EXPECT_EQ(by_key["flops"].event.rfind("FP_ARITH_INST_RETIRED:", 0), 0u);
    EXPECT_GE(by_key["flops"].scale, 8.0);
  }
  // The generic events are hidden by the forcing: null with the reason, not a wrong event.
  EXPECT_EQ(by_key["cycles"].event, "");
  EXPECT_FALSE(by_key["cycles"].reason.empty());
}

}  // namespace
}  // namespace klab::harness
