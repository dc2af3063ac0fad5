// BLIS through its typed API (bli_sgemm), which takes general row and column strides, so a
// row-major matrix is simply (rs, cs) = (ld, 1). Types come from blis.h; nothing is linked.
#include <blis.h>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "perf/peers.h"

#ifndef KLAB_BLIS_SONAME
#error "KLAB_BLIS_SONAME comes from //third_party:blis"
#endif

namespace klab::perf::peers_internal {
namespace {

using BliSgemm = decltype(&bli_sgemm);
using BliSetThreads = decltype(&bli_thread_set_num_threads);
using BliArchQueryId = decltype(&bli_arch_query_id);
using BliArchString = decltype(&bli_arch_string);
using BliVersion = decltype(&bli_info_get_version_str);

class Blis : public PeerGemm {
 public:
  Blis(void* h, BliSgemm sgemm, BliSetThreads set_threads, BliArchQueryId arch_id,
       BliArchString arch_string, BliVersion version)
      : handle_(h), sgemm_(sgemm), set_threads_(set_threads), arch_id_(arch_id),
        arch_string_(arch_string), version_(version) {}

  std::string_view name() const override { return "blis"; }

  harness::Json Info() const override {
    const arch_t id = arch_id_();
    return {{"soname", KLAB_BLIS_SONAME},
            {"path", LibraryPath(handle_)},
            {"version", version_()},
            {"kernel", arch_string_(id)},
            {"arch_id", static_cast<int>(id)},
            {"threads_via", "bli_thread_set_num_threads"}};
  }

  void SetThreads(int threads) override { set_threads_(threads); }

  void Sgemm(const kernels::SgemmArgs& p) override {
    float alpha = p.alpha, beta = p.beta;
    sgemm_(p.trans_a == kernels::Trans::kNo ? BLIS_NO_TRANSPOSE : BLIS_TRANSPOSE,
           p.trans_b == kernels::Trans::kNo ? BLIS_NO_TRANSPOSE : BLIS_TRANSPOSE, p.m, p.n, p.k,
           &alpha, const_cast<float*>(p.a), p.lda, 1, const_cast<float*>(p.b), p.ldb, 1, &beta,
           p.c, p.ldc, 1);
  }

 private:
  void* handle_;
  BliSgemm sgemm_;
  BliSetThreads set_threads_;
  BliArchQueryId arch_id_;
  BliArchString arch_string_;
  BliVersion version_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PeerGemm>> LoadBlis() {
  const char* so = KLAB_BLIS_SONAME;
  KLAB_ASSIGN_OR_RETURN(void* h, OpenLibrary(so));
  KLAB_ASSIGN_OR_RETURN(void* sgemm, Symbol(h, so, "bli_sgemm"));
  KLAB_ASSIGN_OR_RETURN(void* threads, Symbol(h, so, "bli_thread_set_num_threads"));
  KLAB_ASSIGN_OR_RETURN(void* arch_id, Symbol(h, so, "bli_arch_query_id"));
  KLAB_ASSIGN_OR_RETURN(void* arch_string, Symbol(h, so, "bli_arch_string"));
  KLAB_ASSIGN_OR_RETURN(void* version, Symbol(h, so, "bli_info_get_version_str"));
  return std::unique_ptr<PeerGemm>(new Blis(
      h, reinterpret_cast<BliSgemm>(sgemm), reinterpret_cast<BliSetThreads>(threads),
      reinterpret_cast<BliArchQueryId>(arch_id), reinterpret_cast<BliArchString>(arch_string),
      reinterpret_cast<BliVersion>(version)));
}

}  // namespace klab::perf::peers_internal
