// Correctness of every registered GEMM variant (and of the Sgemm dispatcher) against the fp64
// oracle with the K-scaled bound of kernels/testing/gemm_reference.h. The shape list is named
// after what each case exercises; padding is NaN so a read past a row shows up as a failure.
#include <cmath>
#include <cstring>
#include <optional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/testing/gemm_reference.h"
#include "kernels/testing/matrix.h"

namespace klab::kernels {
namespace {

using testing::GemmReference;
using testing::Matrix;

struct Shape {
  const char* name;
  int64_t m, n, k;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra leading-dimension elements (NaN-filled)
};

// clang-format off
const Shape kShapes[] = {
    {"one",                  1,   1,    1},
    {"k_eq_1",               7,   9,    1},
    {"k_eq_0",               5,   6,    0},
    {"m_eq_1_gemv",          1,  37,   19},
    {"n_eq_1",              23,   1,   17},
    {"small_odd",            3,   5,    7},
    {"primes",              17,  31,   29},
    {"not_multiple_of_16",  33,  65,   47},
    {"square_64",           64,  64,   64},
    {"prime_strides",       13,  11,   23,  7, 5, 3},
    {"padded_ld",           16,  16,   16, 16, 16, 16},
    {"k_4099",               3,   5, 4099},
    // B transposed: ldb = 1024 floats, rows 4 KiB apart (smallm's grouped GEMV path), k % 64 = 40.
    {"gemv_4k_aliased_rows",  1,  37, 1000,  0, 24, 0},
    // ... and for M > 1 (smallm's dot form with A's rows copied apart), K = 512 and K > 512.
    {"dot_aliased_k512",      9,  37,  512, 512, 512, 0},
    {"dot_aliased_k1000",     9,  37, 1000, 24, 24, 0},
};
// clang-format on

struct Scalars {
  const char* name;
  float alpha, beta;
};
const Scalars kScalars[] = {
    {"a1_b0", 1.0f, 0.0f},
    {"a1_b1", 1.0f, 1.0f},
    {"a-0.5_b2", -0.5f, 2.0f},
    {"a0_b0.5", 0.0f, 0.5f},
    {"a2.5_b0_nan_c", 2.5f, 0.0f},
};

// One problem with its storage; op(A) is m x k, op(B) is k x n.
struct Problem {
  Problem(const Shape& s, Trans ta, Trans tb, const Scalars& sc, uint64_t seed)
      : a(ta == Trans::kNo ? s.m : s.k, ta == Trans::kNo ? s.k : s.m,
          (ta == Trans::kNo ? s.k : s.m) + s.pad_a + (((ta == Trans::kNo ? s.k : s.m) == 0) ? 1 : 0)),
        b(tb == Trans::kNo ? s.k : s.n, tb == Trans::kNo ? s.n : s.k,
          (tb == Trans::kNo ? s.n : s.k) + s.pad_b + (((tb == Trans::kNo ? s.n : s.k) == 0) ? 1 : 0)),
        c(s.m, s.n, s.n + s.pad_c) {
    a.FillRandom(seed);
    b.FillRandom(seed + 1);
    if (sc.beta == 0.0f && std::string(sc.name).find("nan") != std::string::npos) {
      c.Fill(std::numeric_limits<float>::quiet_NaN());
    } else {
      c.FillRandom(seed + 2);
    }
    args = SgemmArgs{ta, tb, s.m, s.n, s.k, sc.alpha, a.data(), a.ld(),
                     b.data(), b.ld(), sc.beta, c.data(), c.ld()};
  }
  Matrix a, b, c;
  SgemmArgs args;
};

const char* TransName(Trans t) { return t == Trans::kNo ? "N" : "T"; }

class GemmVariantTest : public ::testing::TestWithParam<GemmVariant> {};

TEST_P(GemmVariantTest, MatchesReferenceOnEveryShapeLayoutAndScalar) {
  const GemmVariant& v = GetParam();
  if (!CpuSupports(v.isa)) GTEST_SKIP() << "needs " << IsaName(v.isa);
  uint64_t seed = 1;
  for (const Shape& s : kShapes) {
    for (Trans ta : {Trans::kNo, Trans::kYes}) {
      for (Trans tb : {Trans::kNo, Trans::kYes}) {
        for (const Scalars& sc : kScalars) {
          Problem p(s, ta, tb, sc, seed++);
          const GemmReference ref(p.args);
          ASSERT_TRUE(SgemmVariant(v.name, p.args).ok());
          const testing::GemmCheck check = ref.Check(p.c.data(), p.c.ld());
          EXPECT_TRUE(check.ok) << "variant " << v.name << " (" << IsaName(v.isa) << "), "
                                << s.name << " " << s.m << " x " << s.n << " x " << s.k << ", "
                                << TransName(ta) << TransName(tb) << ", " << sc.name << ": "
                                << check.Describe();
        }
      }
    }
  }
}

// Blocked variants with a tiny blocking, so that every block edge is crossed even by small
// problems: k = KC + 1 and 2 KC + 3, m and n past MC and NC, for every layout.
// The edge cases of each variant's tile (every m mod MR, n around NR and the wide column tiles,
// k past KC under a small blocking) are generated per variant in gemm_edge_test.cc.

// Threading splits columns; each element is computed by the same operations whatever the thread
// count, so the results must be bitwise identical, not merely close.
TEST_P(GemmVariantTest, BitwiseIdenticalAcrossThreadCounts) {
  const GemmVariant& v = GetParam();
  if (!CpuSupports(v.isa)) GTEST_SKIP() << "needs " << IsaName(v.isa);
  if (v.max_threads == 1) GTEST_SKIP() << "serial variant";
  // A short problem (9 MR-row blocks) takes the column split; a tall one (>= 32 MR-row blocks per
  // thread at 2 threads) the shared-B row split. Each with the default blocking and with a tiny
  // one, so that every loop (jc, pc, ic) runs several times and threads meet at many barriers.
  // A wide one splits many column blocks. B both ways: the small-M kernels have an axpy and a dot
  // form.
  const Shape shapes[] = {{"short", 67, 301, 131}, {"tall", 64 * v.mr + 5, 97, 131},
                          {"wide", 37, 1200, 67}};
  const std::optional<Blocking> blockings[] = {std::nullopt, Blocking{2 * v.mr, 24, 2 * v.nr}};
  for (const Shape& s : shapes) {
    for (const std::optional<Blocking>& blocking : blockings) {
      for (Trans tb : {Trans::kNo, Trans::kYes}) {
        const ScopedBlockingOverride scoped_blocking(blocking);
        std::vector<float> first;
        for (int threads : {1, 2, 3, 4}) {
          const ScopedGemmThreads scoped_threads(threads);
          Problem p(s, Trans::kNo, tb, kScalars[2], 4242);
          const GemmReference ref(p.args);
          ASSERT_TRUE(SgemmVariant(v.name, p.args).ok());
          const testing::GemmCheck check = ref.Check(p.c.data(), p.c.ld());
          EXPECT_TRUE(check.ok) << v.name << " on " << threads << " threads, " << s.name << ": "
                                << check.Describe();
          std::vector<float> out(p.c.data(), p.c.data() + s.m * p.c.ld());
          if (first.empty()) {
            first = out;
          } else {
            EXPECT_EQ(0, std::memcmp(first.data(), out.data(), out.size() * sizeof(float)))
                << v.name << ", " << s.name << (blocking ? " (small blocking)" : "")
                << (tb == Trans::kYes ? ", B transposed" : "") << ": " << threads
                << " threads differ from 1 thread";
          }
        }
      }
    }
  }
}

TEST_P(GemmVariantTest, PaddingOfCIsNotWritten) {
  const GemmVariant& v = GetParam();
  if (!CpuSupports(v.isa)) GTEST_SKIP() << "needs " << IsaName(v.isa);
  const Shape s{"padded", 9, 10, 11, 3, 3, 5};
  Problem p(s, Trans::kNo, Trans::kNo, kScalars[1], 7);
  ASSERT_TRUE(SgemmVariant(v.name, p.args).ok());
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = s.n; j < p.c.ld(); ++j) {
      EXPECT_TRUE(std::isnan(p.c.data()[i * p.c.ld() + j])) << v.name << " wrote C pad (" << i
                                                            << ", " << j << ")";
    }
  }
}

std::string VariantName(const ::testing::TestParamInfo<GemmVariant>& info) {
  std::string out(info.param.name);
  for (char& ch : out) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Registry, GemmVariantTest, ::testing::ValuesIn(GemmVariants()),
                         VariantName);

TEST(GemmRegistryTest, NamesAreUniqueAndLookupWorks) {
  for (const GemmVariant& v : GemmVariants()) {
    EXPECT_EQ(FindGemmVariant(v.name), &v);
    EXPECT_NE(v.fn, nullptr) << v.name;
    EXPECT_GE(v.mr, 1);
    EXPECT_GE(v.nr, 1);
    EXPECT_GE(v.max_threads, 1);
  }
  EXPECT_EQ(FindGemmVariant("no_such_variant"), nullptr);
}

TEST(SgemmTest, DispatcherChoosesASupportedVariantAndIsCorrect) {
  Problem p(kShapes[7], Trans::kNo, Trans::kYes, kScalars[2], 99);
  const GemmVariant& chosen = ChooseGemmVariant(p.args);
  EXPECT_TRUE(CpuSupports(chosen.isa)) << chosen.name;
  const GemmReference ref(p.args);
  const SgemmArgs& a = p.args;
  ASSERT_TRUE(Sgemm(a.trans_a, a.trans_b, a.m, a.n, a.k, a.alpha, a.a, a.lda, a.b, a.ldb, a.beta,
                    a.c, a.ldc)
                  .ok());
  const testing::GemmCheck check = ref.Check(p.c.data(), p.c.ld());
  EXPECT_TRUE(check.ok) << "Sgemm chose " << chosen.name << ": " << check.Describe();
}

// The analytic defaults, with no tuning profile in force (a compiled-in profile for this CPU
// would otherwise choose; kernels/tuning/tuning_test.cc tests that path).
TEST(SgemmTest, DispatcherFollowsTheDocumentedHeuristic) {
  SetTuningForTesting(nullptr);
  struct Restore {
    ~Restore() { RestoreTuning(); }
  } restore;
  auto choose = [](int64_t m, int64_t n, int64_t k, Trans tb, Trans ta = Trans::kNo) {
    SgemmArgs a;
    a.m = m;
    a.n = n;
    a.k = k;
    a.trans_a = ta;
    a.trans_b = tb;
    return std::string(ChooseGemmVariant(a).name);
  };
  if (CpuSupports(Isa::kAvx512)) {
    EXPECT_EQ(choose(1, 1024, 256, Trans::kYes), "smallm__avx512");
    EXPECT_EQ(choose(16, 64, 64, Trans::kNo), "smallm__avx512");
    EXPECT_EQ(choose(8, 384, 128, Trans::kYes), "packed_8x32__avx512");  // M = 8, K = 128
    EXPECT_EQ(choose(8, 128, 512, Trans::kYes), "smallm__avx512");
    EXPECT_EQ(choose(1, 384, 128, Trans::kYes), "smallm__avx512");
    EXPECT_EQ(choose(128, 128, 128, Trans::kNo), "smallm__avx512");
    EXPECT_EQ(choose(128, 128, 128, Trans::kYes), "packed_8x32__avx512");
    EXPECT_EQ(choose(512, 512, 512, Trans::kNo), "smallm__avx512");
    EXPECT_EQ(choose(513, 512, 512, Trans::kNo), "packed_8x32__avx512");
    EXPECT_EQ(choose(256, 128, 128, Trans::kNo, Trans::kYes), "regblock_8x32__avx512");
    EXPECT_EQ(choose(1024, 1024, 1024, Trans::kNo, Trans::kYes), "regblock_8x32__avx512");
    EXPECT_EQ(choose(1025, 1024, 1024, Trans::kNo, Trans::kYes), "packed_8x32__avx512");
    EXPECT_EQ(choose(256, 128, 128, Trans::kYes, Trans::kYes), "packed_8x32__avx512");
    const ScopedGemmThreads two(2);
    EXPECT_EQ(choose(256, 256, 256, Trans::kNo, Trans::kYes), "regblock_mt_8x32__avx512");
    EXPECT_EQ(choose(1025, 1024, 1024, Trans::kNo, Trans::kYes), "packed_mt_8x32__avx512");
    EXPECT_EQ(choose(256, 256, 256, Trans::kYes, Trans::kYes), "packed_mt_8x32__avx512");
    EXPECT_EQ(choose(512, 512, 512, Trans::kNo), "smallm_mt__avx512");
    EXPECT_EQ(choose(1024, 1024, 1024, Trans::kNo), "packed_mt_8x32__avx512");
    EXPECT_EQ(choose(512, 512, 512, Trans::kYes), "packed_mt_8x32__avx512");
    EXPECT_EQ(choose(64, 64, 64, Trans::kNo), "smallm_mt__avx512");
    EXPECT_EQ(choose(48, 48, 48, Trans::kNo), "smallm__avx512");  // too small to split
    EXPECT_EQ(choose(1, 1024, 256, Trans::kYes), "smallm_mt__avx512");
    EXPECT_EQ(choose(1, 64, 64, Trans::kYes), "smallm__avx512");
    EXPECT_EQ(choose(8, 512, 128, Trans::kYes), "packed_mt_8x32__avx512");  // 2mnk = 2^20
  } else if (CpuSupports(Isa::kAvx2)) {
    EXPECT_EQ(choose(128, 128, 128, Trans::kNo), "regblock_6x16__avx2");
    EXPECT_EQ(choose(512, 512, 512, Trans::kNo), "packed_6x16__avx2");
  } else {
    EXPECT_EQ(choose(512, 512, 512, Trans::kNo), "loop_ikj");
  }
}

TEST(SgemmTest, BetaZeroOverwritesNanInC) {
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1};
  float c[4];
  std::fill(c, c + 4, std::numeric_limits<float>::quiet_NaN());
  ASSERT_TRUE(Sgemm(Trans::kNo, Trans::kNo, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2).ok());
  EXPECT_EQ(std::vector<float>(c, c + 4), (std::vector<float>{1, 2, 3, 4}));
}

TEST(SgemmTest, KZeroScalesCByBetaWithoutReadingAOrB) {
  float c[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(Sgemm(Trans::kNo, Trans::kNo, 2, 3, 0, 1.0f, nullptr, 1, nullptr, 3, 2.0f, c, 3).ok());
  EXPECT_EQ(std::vector<float>(c, c + 6), (std::vector<float>{2, 4, 6, 8, 10, 12}));
}

TEST(SgemmTest, EmptyProblemsAreLegal) {
  EXPECT_TRUE(Sgemm(Trans::kNo, Trans::kNo, 0, 0, 0, 1, nullptr, 1, nullptr, 1, 0, nullptr, 1).ok());
  EXPECT_TRUE(Sgemm(Trans::kNo, Trans::kNo, 0, 5, 3, 1, nullptr, 3, nullptr, 5, 0, nullptr, 5).ok());
  EXPECT_TRUE(Sgemm(Trans::kYes, Trans::kYes, 4, 0, 3, 1, nullptr, 4, nullptr, 3, 0, nullptr, 1).ok());
}

// Each bad argument gives InvalidArgument whose message names it.
struct BadCase {
  const char* what;  // expected in the message
  SgemmArgs args;
};

TEST(SgemmTest, InvalidArgumentsAreNamed) {
  static float buf[64] = {};
  const SgemmArgs ok{Trans::kNo, Trans::kNo, 2, 3, 4, 1, buf, 4, buf, 3, 0, buf, 3};
  ASSERT_TRUE(ValidateSgemmArgs(ok).ok());
  std::vector<BadCase> cases;
  auto with = [&](const char* what, auto mutate) {
    SgemmArgs a = ok;
    mutate(a);
    cases.push_back({what, a});
  };
  with("m (-1)", [](SgemmArgs& a) { a.m = -1; });
  with("n (-2)", [](SgemmArgs& a) { a.n = -2; });
  with("k (-3)", [](SgemmArgs& a) { a.k = -3; });
  with("lda (3)", [](SgemmArgs& a) { a.lda = 3; });                             // < k
  with("lda (1)", [](SgemmArgs& a) { a.trans_a = Trans::kYes; a.lda = 1; });    // < m
  with("ldb (2)", [](SgemmArgs& a) { a.ldb = 2; });                             // < n
  with("ldb (3)", [](SgemmArgs& a) { a.trans_b = Trans::kYes; a.ldb = 3; });    // < k
  with("ldc (2)", [](SgemmArgs& a) { a.ldc = 2; });
  with("lda (0)", [](SgemmArgs& a) { a.k = 0; a.lda = 0; });                    // must be >= 1
  with("a is null", [](SgemmArgs& a) { a.a = nullptr; });
  with("b is null", [](SgemmArgs& a) { a.b = nullptr; });
  with("c is null", [](SgemmArgs& a) { a.c = nullptr; });
  for (const BadCase& bad : cases) {
    const absl::Status s = ValidateSgemmArgs(bad.args);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad.what;
    EXPECT_NE(std::string(s.message()).find(bad.what), std::string::npos)
        << "message '" << s.message() << "' does not name " << bad.what;
    const SgemmArgs& a = bad.args;
    EXPECT_EQ(Sgemm(a.trans_a, a.trans_b, a.m, a.n, a.k, a.alpha, a.a, a.lda, a.b, a.ldb, a.beta,
                    a.c, a.ldc)
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << bad.what;
  }
}

TEST(SgemmTest, NullAAndBAreFineWhenAlphaIsZero) {
  float c[2] = {1, 2};
  ASSERT_TRUE(Sgemm(Trans::kNo, Trans::kNo, 1, 2, 3, 0.0f, nullptr, 3, nullptr, 2, 3.0f, c, 2).ok());
  EXPECT_EQ(c[0], 3.0f);
  EXPECT_EQ(c[1], 6.0f);
}

TEST(SgemmVariantTest, UnknownNameIsNotFound) {
  EXPECT_EQ(SgemmVariant("nope", SgemmArgs{}).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace klab::kernels
