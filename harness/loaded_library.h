// Which shared library a symbol was loaded from: the version a run really used, where the library
// reports only an API version at run time (libpfm4, hwloc).
#ifndef KLAB_HARNESS_LOADED_LIBRARY_H_
#define KLAB_HARNESS_LOADED_LIBRARY_H_

#include <string>

namespace klab::harness {

// The file name of the shared library that holds `symbol`, symlinks resolved
// ("libpfm.so.4.13.0"); "linked statically" or "unknown" where there is none.
std::string LoadedLibraryFile(const void* symbol);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_LOADED_LIBRARY_H_
