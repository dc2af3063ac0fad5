#include "harness/topology.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace klab::harness {
namespace {

TEST(TopologyTest, LoadsAndPinsToEveryCore) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok()) << topo.status();
  const int cores = (*topo)->cores();
  ASSERT_GE(cores, 1);
  EXPECT_GE((*topo)->processing_units(), cores);
  for (int core = 0; core < cores; ++core) {
    const PinResult r = (*topo)->PinThisThreadToCore(core);
    EXPECT_TRUE(r.ok) << "core " << core << ": " << r.error;
    EXPECT_EQ((*topo)->LastCpu(), r.os_cpu);
  }
}

TEST(TopologyTest, PinsToASetOfCores) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const int cores = (*topo)->cores();
  const PinResult r = (*topo)->PinThisThreadToCores((*topo)->CompactCores(cores));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(static_cast<int>(r.os_cpus.size()), cores);
  const int last = (*topo)->LastCpu();
  EXPECT_NE(std::find(r.os_cpus.begin(), r.os_cpus.end(), last), r.os_cpus.end());
}

TEST(TopologyTest, MissingCoreIsAnError) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const PinResult r = (*topo)->PinThisThreadToCore((*topo)->cores() + 5);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no core"), std::string::npos) << r.error;
}

TEST(TopologyTest, CachesFromHwloc) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const CacheInfo c = (*topo)->caches();
  if (c.l1d == 0) GTEST_SKIP() << "hwloc reports no caches here";
  EXPECT_GT(c.l2, c.l1d);
}

TEST(TopologyTest, CompactCoresWrap) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const std::vector<int> list = (*topo)->CompactCores(3);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], 0);
}

}  // namespace
}  // namespace klab::harness

namespace klab::harness {
namespace {

// Scatter covers the same cores as compact (a permutation), and on one package equals it.
TEST(TopologyPolicies, ScatterIsAPermutationOfCompact) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const int n = (*topo)->cores();
  std::vector<int> compact = (*topo)->CompactCores(n), scatter = (*topo)->ScatterCores(n);
  std::vector<int> sorted = scatter;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, compact);
  EXPECT_EQ((*topo)->CoresFor("scatter", n), scatter);
  EXPECT_EQ((*topo)->CoresFor("compact", n), compact);
  EXPECT_EQ((*topo)->ScatterCores(n + 1).size(), static_cast<size_t>(n + 1));  // wraps around
}

}  // namespace
}  // namespace klab::harness
