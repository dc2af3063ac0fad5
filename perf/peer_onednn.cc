// oneDNN's dnnl_sgemm (row-major, like ours). Threads come from its OpenMP runtime, reached
// through the library's own dependency (dlsym on its handle searches its dependencies).
#include <oneapi/dnnl/dnnl.h>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "perf/peers.h"

#ifndef KLAB_DNNL_SONAME
#error "KLAB_DNNL_SONAME comes from //third_party:dnnl"
#endif

namespace klab::perf::peers_internal {
namespace {

using DnnlSgemm = decltype(&dnnl_sgemm);
using DnnlIsa = decltype(&dnnl_get_effective_cpu_isa);
using DnnlVersion = decltype(&dnnl_version);
using OmpSetNumThreads = void (*)(int);

const char* IsaName(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

class OneDnn : public PeerGemm {
 public:
  OneDnn(void* h, DnnlSgemm sgemm, DnnlIsa isa, DnnlVersion version, OmpSetNumThreads omp)
      : handle_(h), sgemm_(sgemm), isa_(isa), version_(version), omp_set_threads_(omp) {}

  std::string_view name() const override { return "onednn"; }

  harness::Json Info() const override {
    const dnnl_version_t* v = version_();
    return {{"soname", KLAB_DNNL_SONAME},
            {"path", LibraryPath(handle_)},
            {"version", absl::StrFormat("%d.%d.%d (%s)", v->major, v->minor, v->patch, v->hash)},
            {"kernel", IsaName(isa_())},
            {"threads_via", "omp_set_num_threads"}};
  }

  void SetThreads(int threads) override { omp_set_threads_(threads); }

  void Sgemm(const kernels::SgemmArgs& p) override {
    sgemm_(p.trans_a == kernels::Trans::kNo ? 'N' : 'T', p.trans_b == kernels::Trans::kNo ? 'N' : 'T',
           p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc);
  }

 private:
  void* handle_;
  DnnlSgemm sgemm_;
  DnnlIsa isa_;
  DnnlVersion version_;
  OmpSetNumThreads omp_set_threads_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PeerGemm>> LoadOneDnn() {
  const char* so = KLAB_DNNL_SONAME;
  KLAB_ASSIGN_OR_RETURN(void* h, OpenLibrary(so));
  KLAB_ASSIGN_OR_RETURN(void* sgemm, Symbol(h, so, "dnnl_sgemm"));
  KLAB_ASSIGN_OR_RETURN(void* isa, Symbol(h, so, "dnnl_get_effective_cpu_isa"));
  KLAB_ASSIGN_OR_RETURN(void* version, Symbol(h, so, "dnnl_version"));
  KLAB_ASSIGN_OR_RETURN(void* omp, Symbol(h, so, "omp_set_num_threads"));
  return std::unique_ptr<PeerGemm>(new OneDnn(
      h, reinterpret_cast<DnnlSgemm>(sgemm), reinterpret_cast<DnnlIsa>(isa),
      reinterpret_cast<DnnlVersion>(version), reinterpret_cast<OmpSetNumThreads>(omp)));
}

}  // namespace klab::perf::peers_internal
