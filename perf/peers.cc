#include "perf/peers.h"

#include <dlfcn.h>
#include <link.h>

#include "absl/strings/str_format.h"
#include "kernels/cpu/cpu.h"

namespace klab::perf {

std::vector<std::string> PeerNames() { return {"openblas", "blis", "onednn", "libxsmm"}; }

std::string AutoOpenBlasCoretype() {
  if (kernels::CpuSupports(kernels::Isa::kAvx512)) return "SkylakeX";
  if (kernels::CpuSupports(kernels::Isa::kAvx2)) return "Haswell";
  return "";
}

absl::StatusOr<std::unique_ptr<PeerGemm>> LoadPeer(std::string_view name,
                                                   const PeerOptions& options) {
  if (name == "openblas") return peers_internal::LoadOpenBlas(options);
  if (name == "blis") return peers_internal::LoadBlis();
  if (name == "onednn") return peers_internal::LoadOneDnn();
  if (name == "libxsmm") return peers_internal::LoadLibxsmm();
  return absl::NotFoundError(
      absl::StrFormat("unknown peer '%s' (known: openblas, blis, onednn, libxsmm)", name));
}

namespace peers_internal {

absl::StatusOr<void*> OpenLibrary(const char* soname) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's interceptors do not work with RTLD_DEEPBIND; load without it.
  void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
#else
  void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
#endif
  if (h == nullptr) {
    return absl::UnavailableError(absl::StrFormat(
        "cannot load %s: %s (tools/setup.sh installs the peer libraries)", soname, dlerror()));
  }
  return h;
}

absl::StatusOr<void*> Symbol(void* handle, const char* soname, const char* symbol) {
  dlerror();
  void* s = dlsym(handle, symbol);
  if (s == nullptr) {
    const char* err = dlerror();
    return absl::UnavailableError(
        absl::StrFormat("%s has no symbol %s: %s", soname, symbol, err ? err : "null"));
  }
  return s;
}

std::string LibraryPath(void* handle) {
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return "";
  return map->l_name != nullptr ? map->l_name : "";
}

}  // namespace peers_internal
}  // namespace klab::perf
