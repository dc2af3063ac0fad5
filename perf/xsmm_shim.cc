// libklab_xsmm.so: Debian's libxsmm 1.17 (static only, libxsmm-dev) wrapped as a shared object
// that perf/peer_libxsmm.cc loads with dlopen like every other peer, so that none of its symbols
// (libxsmmnoblas.a's stand-in sgemm_ among them) can meet another library's. Four C functions.
#include <libxsmm.h>

extern "C" {

__attribute__((visibility("default"))) const char* klab_xsmm_version() { return LIBXSMM_VERSION; }

// The code path libxsmm's JIT targets on this CPU ("skx", "hsw", ...).
__attribute__((visibility("default"))) const char* klab_xsmm_target() {
  libxsmm_init();
  return libxsmm_get_target_arch();
}

// A JIT kernel for column-major C (m x n, ldc) = alpha op(A) (m x k, lda) op(B) (k x n, ldb) +
// beta C, or null when libxsmm generates none (a layout or size its generator does not take).
__attribute__((visibility("default"))) void* klab_xsmm_dispatch(int m, int n, int k, int lda,
                                                                 int ldb, int ldc, int trans_a,
                                                                 int trans_b, float alpha,
                                                                 float beta) {
  const libxsmm_blasint lda_ = lda, ldb_ = ldb, ldc_ = ldc;
  const int flags = (trans_a ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) |
                    (trans_b ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                    (beta == 0.0f ? LIBXSMM_GEMM_FLAG_BETA_0 : 0);
  const libxsmm_smmfunction f =
      libxsmm_smmdispatch(m, n, k, &lda_, &ldb_, &ldc_, &alpha, &beta, &flags, nullptr);
  return reinterpret_cast<void*>(f);
}

// Runs a kernel klab_xsmm_dispatch returned.
__attribute__((visibility("default"))) void klab_xsmm_call(void* kernel, const float* a,
                                                           const float* b, float* c) {
  reinterpret_cast<libxsmm_smmfunction>(kernel)(a, b, c);
}

}  // extern "C"
