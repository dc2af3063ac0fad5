// libxsmm 1.17 (Debian's libxsmm-dev: static only) through libklab_xsmm.so (perf/xsmm_shim.cc),
// loaded with dlopen like the other peers. libxsmm is the small-matrix specialist: it generates
// (JIT) one kernel per shape and layout. It is measured only where that kernel exists and the
// problem is within its small-matrix limit: above it libxsmm_sgemm hands the call to the system
// BLAS (the openblas row already measures that), and a layout its generator does not take has
// no kernel. A row it skips says which. It is serial: its 2-thread rows are skipped too.
#include <filesystem>
#include <map>
#include <tuple>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "perf/peers.h"

namespace klab::perf::peers_internal {
namespace {

namespace fs = std::filesystem;

// libxsmm's own dispatch limit (LIBXSMM_CONFIG_MAX_MNK of Debian's build): m n k at most 64^3.
constexpr double kMaxMnk = 262144;

using Version = const char* (*)();
using Dispatch = void* (*)(int, int, int, int, int, int, int, int, float, float);
using Call = void (*)(void*, const float*, const float*, float*);

class Libxsmm : public PeerGemm {
 public:
  Libxsmm(void* h, Version version, Version target, Dispatch dispatch, Call call)
      : handle_(h), version_(version), target_(target), dispatch_(dispatch), call_(call) {}

  std::string_view name() const override { return "libxsmm"; }

  harness::Json Info() const override {
    return {{"soname", "libklab_xsmm.so (libxsmm.a linked in)"},
            {"path", LibraryPath(handle_)},
            {"version", version_()},
            {"kernel", absl::StrFormat("JIT, target %s", target_())},
            {"threads_via", "serial (one thread)"},
            {"limit", "m n k <= 262144 (64^3); above it libxsmm_sgemm calls the system BLAS"}};
  }

  void SetThreads(int /*threads*/) override {}

  std::optional<std::string> Unsupported(const kernels::SgemmArgs& p, int threads) override {
    if (threads > 1) return "serial library";
    if (static_cast<double>(p.m) * p.n * p.k > kMaxMnk) {
      return "above libxsmm's small-matrix limit (m n k > 64^3): libxsmm_sgemm would call the system BLAS";
    }
    if (Kernel(p) == nullptr) return "libxsmm generates no kernel for this layout, alpha and beta";
    return std::nullopt;
  }

  void Sgemm(const kernels::SgemmArgs& p) override {
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: B's storage is the first
    // operand (transposed when B is stored transposed), A's the second.
    call_(Kernel(p), p.b, p.a, p.c);
  }

 private:
  void* Kernel(const kernels::SgemmArgs& p) {
    const auto key = std::make_tuple(p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.trans_a, p.trans_b,
                                     p.alpha, p.beta);
    if (!cached_ || key != last_key_) {
      auto it = kernels_.find(key);
      if (it == kernels_.end()) {
        void* k = dispatch_(static_cast<int>(p.n), static_cast<int>(p.m), static_cast<int>(p.k),
                            static_cast<int>(p.ldb), static_cast<int>(p.lda), static_cast<int>(p.ldc),
                            p.trans_b == kernels::Trans::kYes, p.trans_a == kernels::Trans::kYes,
                            p.alpha, p.beta);
        it = kernels_.emplace(key, k).first;
      }
      last_key_ = key;
      last_ = it->second;
      cached_ = true;
    }
    return last_;
  }

  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, kernels::Trans,
                         kernels::Trans, float, float>;
  void* handle_;
  Version version_, target_;
  Dispatch dispatch_;
  Call call_;
  std::map<Key, void*> kernels_;
  Key last_key_{};
  void* last_ = nullptr;
  bool cached_ = false;
};

// libklab_xsmm.so beside this binary (bazel-bin/perf), in its runfiles, or in a test's.
std::string ShimPath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates = {self.parent_path() / "libklab_xsmm.so",
                                      fs::path(self.string() + ".runfiles") / "kernel_lab" / "perf" / "libklab_xsmm.so"};
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(fs::path(src) / "kernel_lab" / "perf" / "libklab_xsmm.so");
  }
  for (const fs::path& p : candidates) {
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "libklab_xsmm.so";  // let dlopen say it is missing
}

}  // namespace

absl::StatusOr<std::unique_ptr<PeerGemm>> LoadLibxsmm() {
  const std::string path = ShimPath();
  const char* so = path.c_str();
  KLAB_ASSIGN_OR_RETURN(void* h, OpenLibrary(so));
  KLAB_ASSIGN_OR_RETURN(void* version, Symbol(h, so, "klab_xsmm_version"));
  KLAB_ASSIGN_OR_RETURN(void* target, Symbol(h, so, "klab_xsmm_target"));
  KLAB_ASSIGN_OR_RETURN(void* dispatch, Symbol(h, so, "klab_xsmm_dispatch"));
  KLAB_ASSIGN_OR_RETURN(void* call, Symbol(h, so, "klab_xsmm_call"));
  return std::unique_ptr<PeerGemm>(new Libxsmm(h, reinterpret_cast<Version>(version),
                                               reinterpret_cast<Version>(target),
                                               reinterpret_cast<Dispatch>(dispatch),
                                               reinterpret_cast<Call>(call)));
}

}  // namespace klab::perf::peers_internal
