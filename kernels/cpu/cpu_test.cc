// Checks cpuid/xgetbv detection against the kernel's view in /proc/cpuinfo. Linux lists a flag
// only when the CPU has it and the kernel enabled its state, which is exactly our definition.
#include "kernels/cpu/cpu.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace klab::kernels {
namespace {

std::set<std::string> ProcCpuinfoFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::set<std::string> flags;
      std::istringstream words(line.substr(line.find(':') + 1));
      std::string w;
      while (words >> w) flags.insert(w);
      return flags;
    }
  }
  return {};
}

TEST(CpuTest, FeaturesMatchProcCpuinfo) {
  const std::set<std::string> proc = ProcCpuinfoFlags();
  if (proc.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const CpuFeatures& f = GetCpuFeatures();
  const std::pair<bool, const char*> ours[] = {
      {f.sse42, "sse4_2"},      {f.avx, "avx"},           {f.fma, "fma"},
      {f.avx2, "avx2"},         {f.avx512f, "avx512f"},   {f.avx512bw, "avx512bw"},
      {f.avx512dq, "avx512dq"}, {f.avx512vl, "avx512vl"}, {f.avx512bf16, "avx512_bf16"},
      {f.hypervisor, "hypervisor"},
  };
  for (const auto& [present, name] : ours) {
    EXPECT_EQ(present, proc.count(name) == 1) << "feature " << name;
  }
}

TEST(CpuTest, FlagListMatchesStructFields) {
  const std::set<std::string> proc = ProcCpuinfoFlags();
  for (const std::string& flag : CpuFeatureFlags()) {
    if (!proc.empty()) {
      EXPECT_EQ(proc.count(flag), 1u) << flag;
    }
  }
}

TEST(CpuTest, IsaLevelsAreNested) {
  // Each level's requirements include the previous level's on x86-64 CPUs that have it.
  EXPECT_TRUE(CpuSupports(Isa::kScalar));
  if (CpuSupports(Isa::kAvx512)) {
    EXPECT_TRUE(CpuSupports(Isa::kAvx2));
  }
  if (CpuSupports(Isa::kAvx512Bf16)) {
    EXPECT_TRUE(CpuSupports(Isa::kAvx512));
  }
  EXPECT_TRUE(CpuSupports(BestIsa()));
}

TEST(CpuTest, IsaNamesAreDistinct) {
  std::set<std::string_view> names;
  for (Isa isa : kAllIsas) names.insert(IsaName(isa));
  EXPECT_EQ(names.size(), std::size(kAllIsas));
}

TEST(CpuTest, CacheSizesArePlausible) {
  const CpuFeatures& f = GetCpuFeatures();
  if (f.l1d_bytes == 0) GTEST_SKIP() << "cpuid reports no cache parameters";
  EXPECT_GE(f.l1d_bytes, 8 << 10);
  EXPECT_LE(f.l1d_bytes, 1 << 20);
  EXPECT_TRUE(f.cache_line_bytes == 64 || f.cache_line_bytes == 128) << f.cache_line_bytes;
  if (f.l2_bytes != 0) {
    EXPECT_GT(f.l2_bytes, f.l1d_bytes);
  }
}

TEST(CpuTest, BrandIsTrimmed) {
  const std::string& brand = GetCpuFeatures().brand;
  if (brand.empty()) GTEST_SKIP() << "no brand string";
  EXPECT_NE(brand.front(), ' ');
  EXPECT_NE(brand.back(), ' ');
}

}  // namespace
}  // namespace klab::kernels
