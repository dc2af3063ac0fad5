// Each peer loads, reports its kernel, and computes the same product as the fp64 oracle for all
// four transpose combinations with odd sizes and padded leading dimensions. If a peer were
// loaded wrongly (a symbol interposed by another BLAS, a wrong enum value) this fails.
#include "perf/peers.h"

#include "gtest/gtest.h"
#include "kernels/testing/gemm_reference.h"
#include "kernels/testing/matrix.h"

namespace klab::perf {
namespace {

using kernels::SgemmArgs;
using kernels::Trans;
using kernels::testing::GemmReference;
using kernels::testing::Matrix;

TEST(PeersTest, EveryPeerMatchesTheReference) {
  PeerOptions options;
  options.openblas_coretype = AutoOpenBlasCoretype();
  for (const std::string& name : PeerNames()) {
    auto peer = LoadPeer(name, options);
    ASSERT_TRUE(peer.ok()) << peer.status();
    EXPECT_EQ((*peer)->name(), name);
    const harness::Json info = (*peer)->Info();
    EXPECT_TRUE(info.contains("kernel")) << info.dump();
    EXPECT_FALSE(info["path"].get<std::string>().empty()) << info.dump();
    (*peer)->SetThreads(1);
    const int64_t m = 23, n = 19, k = 37;
    // General alpha and beta, and the sweep's alpha = 1, beta = 0.
    for (const auto& [alpha, beta] : {std::pair<float, float>{0.75f, -1.5f}, {1.0f, 0.0f}}) {
      for (Trans ta : {Trans::kNo, Trans::kYes}) {
        for (Trans tb : {Trans::kNo, Trans::kYes}) {
          Matrix a(ta == Trans::kNo ? m : k, ta == Trans::kNo ? k : m,
                   (ta == Trans::kNo ? k : m) + 3);
          Matrix b(tb == Trans::kNo ? k : n, tb == Trans::kNo ? n : k,
                   (tb == Trans::kNo ? n : k) + 5);
          Matrix c(m, n, n + 2);
          a.FillRandom(1);
          b.FillRandom(2);
          c.FillRandom(3);
          const SgemmArgs args{ta, tb, m, n, k, alpha, a.data(), a.ld(), b.data(), b.ld(),
                               beta, c.data(), c.ld()};
          // A specialist (libxsmm) may not take every layout or alpha and beta; it must say so,
          // and take the sweep's NN call.
          if (const auto why = (*peer)->Unsupported(args, 1)) {
            EXPECT_FALSE(ta == Trans::kNo && tb == Trans::kNo && alpha == 1.0f && beta == 0.0f)
                << name << ": " << *why;
            continue;
          }
          const GemmReference ref(args);
          (*peer)->Sgemm(args);
          const auto check = ref.Check(c.data(), c.ld());
          EXPECT_TRUE(check.ok) << name << " " << (ta == Trans::kNo ? "N" : "T")
                                << (tb == Trans::kNo ? "N" : "T") << " alpha " << alpha << ": "
                                << check.Describe();
        }
      }
    }
  }
}

// libxsmm is serial and a small-matrix library: 2-thread rows and problems past 64^3 are not
// its own, and it says so instead of calling the system BLAS.
TEST(PeersTest, LibxsmmSaysWhereItsOwnKernelsStop) {
  auto peer = LoadPeer("libxsmm");
  ASSERT_TRUE(peer.ok()) << peer.status();
  const SgemmArgs small{Trans::kNo, Trans::kNo, 64, 64, 64, 1.0f, nullptr, 64, nullptr, 64, 0.0f, nullptr, 64};
  EXPECT_FALSE((*peer)->Unsupported(small, 1).has_value());
  EXPECT_TRUE((*peer)->Unsupported(small, 2).has_value());
  const SgemmArgs big{Trans::kNo, Trans::kNo, 128, 128, 128, 1.0f, nullptr, 128, nullptr, 128, 0.0f, nullptr, 128};
  EXPECT_NE((*peer)->Unsupported(big, 1).value_or("").find("system BLAS"), std::string::npos);
}

TEST(PeersTest, UnknownPeerIsNotFound) {
  EXPECT_EQ(LoadPeer("mkl").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace klab::perf
