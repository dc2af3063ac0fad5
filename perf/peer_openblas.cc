// OpenBLAS through its CBLAS interface. The CBLAS enum values are fixed by the CBLAS standard
// (CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112), so no header is needed.
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "perf/peers.h"

#ifndef KLAB_OPENBLAS_SONAME
#error "KLAB_OPENBLAS_SONAME comes from //third_party:openblas"
#endif

namespace klab::perf::peers_internal {
namespace {

using CblasSgemm = void (*)(int order, int transa, int transb, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc);
using SetNumThreads = void (*)(int);
using GetString = char* (*)();

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

class OpenBlas : public PeerGemm {
 public:
  OpenBlas(void* h, CblasSgemm sgemm, SetNumThreads set_threads, GetString corename,
           GetString config, std::string coretype_source)
      : handle_(h), sgemm_(sgemm), set_threads_(set_threads), corename_(corename),
        config_(config), coretype_source_(std::move(coretype_source)) {}

  std::string_view name() const override { return "openblas"; }

  harness::Json Info() const override {
    return {{"soname", KLAB_OPENBLAS_SONAME},
            {"path", LibraryPath(handle_)},
            {"kernel", corename_()},
            {"kernel_chosen_by", coretype_source_},
            {"config", config_()},
            {"threads_via", "openblas_set_num_threads"}};
  }

  void SetThreads(int threads) override { set_threads_(threads); }

  void Sgemm(const kernels::SgemmArgs& p) override {
    sgemm_(kRowMajor, p.trans_a == kernels::Trans::kNo ? kNoTrans : kTrans,
           p.trans_b == kernels::Trans::kNo ? kNoTrans : kTrans, static_cast<int>(p.m),
           static_cast<int>(p.n), static_cast<int>(p.k), p.alpha, p.a, static_cast<int>(p.lda),
           p.b, static_cast<int>(p.ldb), p.beta, p.c, static_cast<int>(p.ldc));
  }

 private:
  void* handle_;
  CblasSgemm sgemm_;
  SetNumThreads set_threads_;
  GetString corename_;
  GetString config_;
  std::string coretype_source_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PeerGemm>> LoadOpenBlas(const PeerOptions& options) {
  const char* so = KLAB_OPENBLAS_SONAME;
  // OpenBLAS reads OPENBLAS_CORETYPE once, in its constructor, i.e. during dlopen below.
  std::string source = "OpenBLAS's own CPU detection";
  if (const char* env = std::getenv("OPENBLAS_CORETYPE"); env != nullptr) {
    source = absl::StrFormat("OPENBLAS_CORETYPE=%s from the environment", env);
  } else if (!options.openblas_coretype.empty()) {
    setenv("OPENBLAS_CORETYPE", options.openblas_coretype.c_str(), 1);
    source = absl::StrFormat("OPENBLAS_CORETYPE=%s set by the sweep (--openblas_coretype)",
                             options.openblas_coretype);
  }
  KLAB_ASSIGN_OR_RETURN(void* h, OpenLibrary(so));
  KLAB_ASSIGN_OR_RETURN(void* sgemm, Symbol(h, so, "cblas_sgemm"));
  KLAB_ASSIGN_OR_RETURN(void* threads, Symbol(h, so, "openblas_set_num_threads"));
  KLAB_ASSIGN_OR_RETURN(void* corename, Symbol(h, so, "openblas_get_corename"));
  KLAB_ASSIGN_OR_RETURN(void* config, Symbol(h, so, "openblas_get_config"));
  return std::unique_ptr<PeerGemm>(new OpenBlas(
      h, reinterpret_cast<CblasSgemm>(sgemm), reinterpret_cast<SetNumThreads>(threads),
      reinterpret_cast<GetString>(corename), reinterpret_cast<GetString>(config),
      std::move(source)));
}

}  // namespace klab::perf::peers_internal
