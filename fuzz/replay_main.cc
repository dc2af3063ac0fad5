// The main of a fuzz target outside libFuzzer: runs LLVMFuzzerTestOneInput on every file of the
// corpus folders and files it is given, and on `--mutations=N` deterministic mutations of each
// (bit flips, interesting bytes and int32s — the header fields of the model files are int32 —,
// truncations, duplicated chunks), seeded by --seed. A crash, a sanitizer report or an abort is a
// failure; the count of inputs run is printed. This is each fuzz target's regression test in
// `bazel test` (under the plain, asan and ubsan configs); `--config=fuzz` links libFuzzer's own
// main for coverage-guided runs of any length (fuzz/README.md).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

std::vector<uint8_t> Mutate(const std::vector<uint8_t>& in, Rng& rng) {
  std::vector<uint8_t> out = in;
  static const uint8_t kBytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0xc0};
  static const int32_t kInts[] = {0,  1,      -1,         2,          3,          255,
                                  256, 65536, 1 << 20,    0x7fffffff, INT32_MIN, -256,
                                  8192, 8193, 0x7fc00000, 0x7f800000};
  const int edits = 1 + static_cast<int>(rng.Below(4));
  for (int e = 0; e < edits; ++e) {
    switch (rng.Below(6)) {
      case 0:  // flip a bit
        if (!out.empty()) out[rng.Below(out.size())] ^= static_cast<uint8_t>(1u << rng.Below(8));
        break;
      case 1:  // an interesting byte
        if (!out.empty()) out[rng.Below(out.size())] = kBytes[rng.Below(sizeof(kBytes))];
        break;
      case 2: {  // an interesting int32, mostly in the header
        if (out.size() < 4) break;
        const size_t span = std::min<size_t>(out.size() - 3, rng.Below(2) ? 64 : out.size() - 3);
        const size_t at = rng.Below(span) & ~size_t{3};
        const int32_t v = kInts[rng.Below(sizeof(kInts) / sizeof(kInts[0]))];
        std::memcpy(out.data() + at, &v, 4);
        break;
      }
      case 3:  // truncate
        out.resize(rng.Below(out.size() + 1));
        break;
      case 4: {  // grow by a copy of a chunk
        if (out.empty()) break;
        const size_t from = rng.Below(out.size());
        const size_t len = 1 + rng.Below(std::min<size_t>(64, out.size() - from));
        out.insert(out.begin() + rng.Below(out.size() + 1), out.begin() + from,
                   out.begin() + from + len);
        break;
      }
      default:  // random bytes over a short span
        for (size_t i = 0, at = rng.Below(out.size() + 1); i < 8 && at + i < out.size(); ++i) {
          out[at + i] = static_cast<uint8_t>(rng.Next());
        }
    }
  }
  return out;
}

std::vector<uint8_t> ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::strtol(arg.c_str() + 12, nullptr, 10);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: %s [--mutations=N] [--seed=S] CORPUS_DIR_OR_FILE...\n", argv[0]);
      return 0;
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(arg)) {
      files.emplace_back(arg);
    } else {
      std::fprintf(stderr, "%s: no such corpus '%s'\n", argv[0], arg.c_str());
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "%s: no corpus files given\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  long runs = 0;
  for (const auto& f : files) {
    const std::vector<uint8_t> bytes = ReadAll(f);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++runs;
    Rng rng{seed * 0x9E3779B97F4A7C15ull + std::hash<std::string>()(f.filename().string()) + 1};
    for (long m = 0; m < mutations; ++m) {
      const std::vector<uint8_t> mutated = Mutate(bytes, rng);
      LLVMFuzzerTestOneInput(mutated.data(), mutated.size());
      ++runs;
    }
  }
  std::printf("%s: %ld inputs from %zu corpus files, no crash\n",
              std::filesystem::path(argv[0]).filename().c_str(), runs, files.size());
  return 0;
}
