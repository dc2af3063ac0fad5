// Measures the maximum error in ulp of every vmath variant this CPU runs, over every float of
// each function's range (or every --stride-th), against double-precision libm. Its output is the
// evidence for the bounds stated in vmath.h.
//
//   bazel run //kernels/vmath:vmath_ulp_sweep [-- --stride=N] [--threads=N]
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/testing/ulp_scan.h"
#include "kernels/vmath/vmath.h"

namespace {

using klab::kernels::testing::UlpScan;
using klab::kernels::testing::UlpScanRange;

double ExactExp(double x) { return std::exp(x); }
double ExactTanh(double x) { return std::tanh(x); }
double ExactErf(double x) { return std::erf(x); }

bool ParseUint(const char* arg, const char* flag, long* out) {
  const size_t len = std::strlen(flag);
  if (std::strncmp(arg, flag, len) != 0 || arg[len] != '=') return false;
  char* end = nullptr;
  *out = std::strtol(arg + len + 1, &end, 10);
  if (*end != '\0' || *out < 1) {
    std::fprintf(stderr, "vmath_ulp_sweep: %s must be a positive integer, got '%s'\n", flag,
                 arg + len + 1);
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long stride = 1, threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::printf(
          "usage: vmath_ulp_sweep [--stride=N] [--threads=N]\n"
          "  Max error in ulp of exp (all finite floats), tanh and erf (all floats in\n"
          "  [-10, 10]) per vmath variant, against double libm. --stride=N checks every\n"
          "  N-th float bit pattern (default 1: every float). --threads (default 2).\n");
      return 0;
    }
    if (!ParseUint(argv[i], "--stride", &stride) && !ParseUint(argv[i], "--threads", &threads)) {
      std::fprintf(stderr, "vmath_ulp_sweep: unknown argument '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  struct Function {
    const char* name;
    klab::kernels::UnaryArrayFn klab::kernels::VmathKernels::*fn;
    double (*exact)(double);
    UlpScanRange range;
  };
  const Function functions[] = {
      {"exp", &klab::kernels::VmathKernels::exp, ExactExp, {FLT_MAX, FLT_MAX}},
      {"tanh", &klab::kernels::VmathKernels::tanh, ExactTanh, {10.0f, 10.0f}},
      {"erf", &klab::kernels::VmathKernels::erf, ExactErf, {10.0f, 10.0f}},
  };
  std::printf("stride %ld (%s)\n", stride, stride == 1 ? "every float" : "every N-th float");
  std::printf("| variant | function | range | points | max ulp | worst x | y | exact |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|\n");
  for (const klab::kernels::VmathKernels& v : klab::kernels::VmathVariants()) {
    if (!klab::kernels::CpuSupports(v.isa)) {
      std::printf("| %s | (skipped: CPU lacks %s) |\n", std::string(v.name).c_str(),
                  std::string(klab::kernels::IsaName(v.isa)).c_str());
      continue;
    }
    for (const Function& f : functions) {
      const auto r = UlpScan(v.*(f.fn), f.exact, f.range, static_cast<uint32_t>(stride),
                             static_cast<int>(threads));
      std::printf("| %s | %s | [-%g, %g] | %llu | %.3f | %.9g | %.9g | %.17g |\n",
                  std::string(v.name).c_str(), f.name, f.range.max_abs_neg, f.range.max_abs_pos,
                  static_cast<unsigned long long>(r.points), r.max_ulp, r.worst_x, r.worst_y,
                  r.worst_exact);
      std::fflush(stdout);
    }
  }
  return 0;
}
