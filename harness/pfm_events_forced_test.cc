// Event encoding with one PMU's tables forced (LIBPFM_FORCE_PMU), so the expected encodings hold
// on any CPU. The PMU comes from the test's environment (KLAB_FORCED_PMU, set in BUILD): one
// binary per PMU, because the variable must be set before libpfm initialises, once per process.
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "harness/flop_event.h"
#include "harness/pfm_events.h"

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

}  // namespace
}  // namespace klab::harness
