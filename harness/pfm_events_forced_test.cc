// Event encoding with libpfm's Zen 4 tables forced (LIBPFM_FORCE_PMU), so the expected encodings
// hold on any CPU: this file is its own test binary because the variable must be set before
// libpfm initialises, once per process.
#include <cstdlib>

#include "gtest/gtest.h"
#include "harness/pfm_events.h"

namespace klab::harness {
namespace {

TEST(PfmEventsForced, Zen4FlopsEvent) {
  ASSERT_EQ(setenv("LIBPFM_FORCE_PMU", "amd64_fam19h_zen4", 1), 0);
  auto flops = EncodeEvent("RETIRED_SSE_AVX_FLOPS:ANY");
  ASSERT_TRUE(flops.ok()) << flops.status();
  EXPECT_EQ(flops->type, 4u);  // the raw type of the core PMU (PERF_TYPE_RAW)
  EXPECT_EQ(flops->config, 0x1f03u);
  EXPECT_NE(flops->canonical.find("RETIRED_SSE_AVX_FLOPS"), std::string::npos);
  // Forcing the PMU hides the generic perf:: events.
  EXPECT_FALSE(EncodeEvent("perf::cycles").ok());
}

}  // namespace
}  // namespace klab::harness
