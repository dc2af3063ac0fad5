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
        const SgemmArgs args{ta, tb, m, n, k, 0.75f, a.data(), a.ld(), b.data(), b.ld(),
                             -1.5f, c.data(), c.ld()};
        const GemmReference ref(args);
        (*peer)->Sgemm(args);
        const auto check = ref.Check(c.data(), c.ld());
        EXPECT_TRUE(check.ok) << name << " " << (ta == Trans::kNo ? "N" : "T")
                              << (tb == Trans::kNo ? "N" : "T") << ": " << check.Describe();
      }
    }
  }
}

TEST(PeersTest, UnknownPeerIsNotFound) {
  EXPECT_EQ(LoadPeer("mkl").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace klab::perf
