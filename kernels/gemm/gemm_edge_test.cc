// Edge cases generated from each registered variant's own tile (GemmVariant::mr, nr, wide_nr and
// whether it follows the cache blocking), XNNPACK-style: one named test per case, e.g.
// Edges/GemmEdgeTest.Case/packed_8x32__avx512__m_mod_8_eq_2. A new variant or packed shape gets
// its cases from its registry row; nothing here names a variant.
//
// Every case runs both transposes of A and B and three alpha/beta pairs (beta = 0 over a NaN C,
// which must not be read), on matrices whose leading-dimension padding is NaN (a read past a row
// fails), against the fp64 reference with the bound of kernels/testing/gemm_reference.h.
#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/testing/gemm_reference.h"
#include "kernels/testing/matrix.h"

namespace klab::kernels {
namespace {

using testing::GemmReference;
using testing::Matrix;

struct EdgeCase {
  const GemmVariant* variant;
  std::string name;  // what the case exercises, in the test's name
  int64_t m, n, k;
  int64_t pad = 0;                   // extra (NaN) elements in every leading dimension
  std::optional<Blocking> blocking;  // a small blocking, so k, m and n cross KC, MC and NC
};

constexpr int64_t kPrimeK = 19;

// The cases of one variant, from its tile. Duplicated shapes are dropped (first name wins).
std::vector<EdgeCase> CasesOf(const GemmVariant& v) {
  const int64_t mr = v.mr, nr = v.nr, wide = std::max(v.wide_nr, v.nr);
  std::vector<EdgeCase> out;
  std::set<std::vector<int64_t>> seen;
  auto add = [&](std::string name, int64_t m, int64_t n, int64_t k, int64_t pad = 0,
                 std::optional<Blocking> blocking = std::nullopt) {
    if (m < 1 || n < 1 || k < 0) return;
    if (!seen.insert({m, n, k, pad, blocking ? 1 : 0}).second) return;
    out.push_back({&v, std::move(name), m, n, k, pad, blocking});
  };
  // m: the tile's edges, then every remainder class past one full tile; n wider than one tile.
  const int64_t n_wide = 2 * nr + 3;
  add("m_eq_1", 1, n_wide, kPrimeK);
  add("m_eq_mr_minus_1", mr - 1, n_wide, kPrimeK);
  add("m_eq_mr", mr, n_wide, kPrimeK);
  add("m_eq_2mr_plus_1", 2 * mr + 1, n_wide, kPrimeK);
  for (int64_t r = 1; r < mr; ++r) {
    add(absl::StrCat("m_mod_", mr, "_eq_", r), mr + r, n_wide, kPrimeK);
  }
  // n: around the register tile and around the widest column tile, at row counts that take each
  // row group (1, 3, 5 rows and past a full tile).
  for (int64_t m : {int64_t{1}, int64_t{3}, int64_t{5}, mr + 2}) {
    const std::string at = absl::StrCat("_m_eq_", m);
    add("n_eq_1" + at, m, 1, kPrimeK);
    add("n_eq_nr_minus_1" + at, m, nr - 1, kPrimeK);
    add("n_eq_nr" + at, m, nr, kPrimeK);
    add("n_eq_nr_plus_1" + at, m, nr + 1, kPrimeK);
    add("n_eq_2nr_plus_1" + at, m, 2 * nr + 1, kPrimeK);
    add("n_eq_wide_minus_1" + at, m, wide - 1, kPrimeK);
    add("n_eq_wide" + at, m, wide, kPrimeK);
    add("n_eq_wide_plus_1" + at, m, wide + 1, kPrimeK);
    add("n_eq_2wide_plus_3" + at, m, 2 * wide + 3, kPrimeK);
  }
  // k: the shortest, and a prime; strides that are primes.
  add("k_eq_1", mr + 1, nr + 1, 1);
  add("k_eq_0", mr + 1, nr + 1, 0);
  add("prime_strides", mr + 3, nr + 5, 23, 7);
  if (v.blocked) {
    const Blocking small{2 * v.mr, 24, 2 * v.nr};
    add("k_gt_kc", 5, 7, small.kc + 1, 0, small);
    add("k_gt_2kc_m_gt_mc_n_gt_nc", small.mc + 3, small.nc + 5, 2 * small.kc + 3, 0, small);
    add("m_lt_mr_n_gt_nc", std::max<int64_t>(mr - 1, 1), small.nc + 1, 9, 0, small);
    add("m_gt_mc_n_mod_nr", small.mc + 1, nr + 3, small.kc, 0, small);
  }
  return out;
}

std::vector<EdgeCase> AllCases() {
  std::vector<EdgeCase> all;
  for (const GemmVariant& v : GemmVariants()) {
    for (EdgeCase& c : CasesOf(v)) all.push_back(std::move(c));
  }
  return all;
}

struct Scalars {
  const char* name;
  float alpha, beta;
};
constexpr Scalars kScalars[] = {{"a-0.5_b2", -0.5f, 2.0f},
                                {"a2.5_b0_nan_c", 2.5f, 0.0f},
                                {"a0_b0.5", 0.0f, 0.5f}};

class GemmEdgeTest : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(GemmEdgeTest, Case) {
  const EdgeCase& c = GetParam();
  const GemmVariant& v = *c.variant;
  if (!CpuSupports(v.isa)) GTEST_SKIP() << "needs " << IsaName(v.isa);
  const ScopedBlockingOverride scoped(c.blocking);
  uint64_t seed = 1000;
  for (Trans ta : {Trans::kNo, Trans::kYes}) {
    for (Trans tb : {Trans::kNo, Trans::kYes}) {
      for (const Scalars& sc : kScalars) {
        // op(A) is m x k, op(B) k x n; stored transposed when T. A zero dimension still gets
        // one element of leading dimension.
        const int64_t ar = ta == Trans::kNo ? c.m : c.k, ac = ta == Trans::kNo ? c.k : c.m;
        const int64_t br = tb == Trans::kNo ? c.k : c.n, bc = tb == Trans::kNo ? c.n : c.k;
        Matrix a(ar, ac, std::max<int64_t>(ac, 1) + c.pad), b(br, bc, std::max<int64_t>(bc, 1) + c.pad);
        Matrix out(c.m, c.n, c.n + c.pad);
        a.FillRandom(seed++);
        b.FillRandom(seed++);
        if (sc.beta == 0.0f) {
          out.Fill(std::numeric_limits<float>::quiet_NaN());
        } else {
          out.FillRandom(seed++);
        }
        const SgemmArgs args{ta, tb, c.m, c.n, c.k, sc.alpha, a.data(), a.ld(),
                             b.data(), b.ld(), sc.beta, out.data(), out.ld()};
        const GemmReference ref(args);
        ASSERT_TRUE(SgemmVariant(v.name, args).ok());
        const testing::GemmCheck check = ref.Check(out.data(), out.ld());
        EXPECT_TRUE(check.ok) << v.name << " " << c.name << ": " << c.m << " x " << c.n << " x "
                              << c.k << ", " << (ta == Trans::kNo ? "N" : "T")
                              << (tb == Trans::kNo ? "N" : "T") << ", " << sc.name << ": "
                              << check.Describe();
      }
    }
  }
}

std::string CaseName(const ::testing::TestParamInfo<EdgeCase>& info) {
  std::string out = std::string(info.param.variant->name) + "__" + info.param.name;
  for (char& ch : out) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Edges, GemmEdgeTest, ::testing::ValuesIn(AllCases()), CaseName);

// The generator itself: the cases the issue named for the small-M kernels are there.
TEST(GemmEdgeCasesTest, SmallMGetsEveryRowGroupAndItsWideColumnTiles) {
  const GemmVariant* smallm = FindGemmVariant("smallm__avx512");
  ASSERT_NE(smallm, nullptr);
  std::set<std::string> names;
  for (const EdgeCase& c : CasesOf(*smallm)) names.insert(c.name);
  for (const char* want : {"m_mod_8_eq_2", "m_mod_8_eq_4", "m_mod_8_eq_6", "n_eq_wide_m_eq_1",
                           "n_eq_wide_plus_1_m_eq_3", "n_eq_2wide_plus_3_m_eq_5"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  EXPECT_FALSE(names.count("k_gt_kc")) << "smallm ignores the blocking";
  const GemmVariant* packed = FindGemmVariant("packed_8x32__avx512");
  ASSERT_NE(packed, nullptr);
  bool has_kc = false;
  for (const EdgeCase& c : CasesOf(*packed)) has_kc |= c.name == "k_gt_kc";
  EXPECT_TRUE(has_kc);
}

}  // namespace
}  // namespace klab::kernels
