// Fuzz target: the parsers of the suites' list flags (--sizes, --threads: ParseIntList;
// --cpus: ParseCpuList) and the --variants/--ops filter (CompileFilter, then matches against
// variant names: the NameFilter runs in linear time, so every input is matched; std::regex,
// used before, took seconds on 'u?{0,1}+?{2,9}b', this fuzzer's first find).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/cli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> items = absl::StrSplit(text, ',');
  auto sizes = klab::ParseIntList("sizes", items, 1, 16384);
  if (sizes.ok()) {
    for (int64_t v : *sizes) {
      if (v < 1 || v > 16384) __builtin_trap();
    }
  }
  for (int cores : {1, 2, 64}) {
    auto cpus = klab::ParseCpuList(text, cores);
    if (!cpus.ok()) continue;
    for (size_t i = 0; i < cpus->size(); ++i) {
      if ((*cpus)[i] < 0 || (*cpus)[i] >= cores) __builtin_trap();
      for (size_t j = 0; j < i; ++j) {
        if ((*cpus)[i] == (*cpus)[j]) __builtin_trap();
      }
    }
  }
  auto filter = klab::CompileFilter("variants", text);
  if (filter.ok()) {
    for (const char* name : {"packed_8x32__avx512", "", "gelu_tanh", "uuuuuuuuuuuuuuuub"}) {
      (void)filter->Matches(name);
    }
    (void)filter->Matches(text);
  }
  return 0;
}
