// Peer libraries measured beside our kernels in the same run: OpenBLAS, BLIS, oneDNN and, for
// small matrices, libxsmm.
//
// OpenBLAS and BLIS both export the BLAS symbols (sgemm_, cblas_sgemm), and oneDNN pulls in an
// OpenMP runtime. Linking them together would let one library's symbol resolve into another's,
// so none is linked: each is loaded with dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND), which keeps
// its symbols private and makes it resolve its own references inside itself first. Each peer
// reports which kernel it selected for this CPU (openblas_get_corename(), BLIS's architecture
// id, oneDNN's effective ISA) so a result can be explained.
//
// Threads: SetThreads(n) sets the library's own thread count (openblas_set_num_threads,
// bli_thread_set_num_threads, omp_set_num_threads for oneDNN's OpenMP runtime).
#ifndef KLAB_PERF_PEERS_H_
#define KLAB_PERF_PEERS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/json.h"
#include "kernels/gemm/gemm.h"

namespace klab::perf {

class PeerGemm {
 public:
  virtual ~PeerGemm() = default;
  // "openblas", "blis", "onednn": the row's `impl`.
  virtual std::string_view name() const = 0;
  // version, soname, the kernel it chose, thread control.
  virtual harness::Json Info() const = 0;
  virtual void SetThreads(int threads) = 0;
  // C = alpha op(A) op(B) + beta C, the contract of kernels/gemm/gemm.h (arguments pre-validated).
  virtual void Sgemm(const kernels::SgemmArgs& args) = 0;
  // Why this peer does not take the problem (its pointers may be null) on `threads` threads, or
  // nullopt: a serial library at 2 threads, a specialist outside its range. The row says why.
  virtual std::optional<std::string> Unsupported(const kernels::SgemmArgs& /*args*/, int /*threads*/) {
    return std::nullopt;
  }
};

// The peers this build knows, in table order.
std::vector<std::string> PeerNames();

struct PeerOptions {
  // OPENBLAS_CORETYPE to set before OpenBLAS loads, "" to leave its own CPU detection alone.
  // OpenBLAS 0.3.21 (Debian 12) does not know CPUs newer than it and falls back to its generic
  // Prescott (SSE3) kernels on them, which would make it a straw man; the sweep's default picks
  // the newest kernel family the CPU's ISA supports. A value already in the environment wins.
  std::string openblas_coretype;
};

// The coretype "auto" stands for on this CPU: SkylakeX with AVX-512, Haswell with AVX2, else "".
std::string AutoOpenBlasCoretype();

// Loads one peer by name; NotFound for an unknown name, Unavailable if dlopen or dlsym fails
// (with dlerror()'s text).
absl::StatusOr<std::unique_ptr<PeerGemm>> LoadPeer(std::string_view name,
                                                   const PeerOptions& options = {});

namespace peers_internal {
absl::StatusOr<std::unique_ptr<PeerGemm>> LoadOpenBlas(const PeerOptions& options);
absl::StatusOr<std::unique_ptr<PeerGemm>> LoadBlis();
absl::StatusOr<std::unique_ptr<PeerGemm>> LoadOneDnn();
absl::StatusOr<std::unique_ptr<PeerGemm>> LoadLibxsmm();

// dlopen with RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND, and dlsym that names the missing symbol.
absl::StatusOr<void*> OpenLibrary(const char* soname);
absl::StatusOr<void*> Symbol(void* handle, const char* soname, const char* symbol);
// The path the dynamic loader resolved for a handle ("" if unknown).
std::string LibraryPath(void* handle);
}  // namespace peers_internal

}  // namespace klab::perf

#endif  // KLAB_PERF_PEERS_H_
