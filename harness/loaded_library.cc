#include "harness/loaded_library.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

namespace klab::harness {

std::string LoadedLibraryFile(const void* symbol) {
  Dl_info info;
  if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "unknown";
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return "unknown";
  const std::string path = resolved;
  if (path.find(".so") == std::string::npos) return "linked statically";
  return path.substr(path.rfind('/') + 1);
}

}  // namespace klab::harness
