// Measures the maximum error in ulp of the vector math (exp, tanh, erf: kernels/vmath) and of the
// activations (gelu_tanh, gelu_erf, silu: kernels/activation) for every variant this CPU runs,
// over every float of each function's range (or every --stride-th), against double precision.
// Activation errors are counted beyond their absolute floor (activation.h). Its output is the
// evidence for the bounds stated in vmath.h and activation.h.
//
//   bazel run //kernels/testing:ulp_sweep [-- --stride=N] [--threads=N] [--functions=REGEX]
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "kernels/activation/activation.h"
#include "kernels/activation/activation_reference.h"
#include "kernels/testing/ulp_scan.h"
#include "kernels/vmath/vmath.h"

namespace {

using klab::kernels::Isa;
using klab::kernels::testing::UlpScan;
using klab::kernels::testing::UlpScanRange;
using klab::kernels::testing::ArrayFn;

struct Function {
  std::string name;
  std::string variant;
  Isa isa;
  ArrayFn fn;
  double (*exact)(double);
  UlpScanRange range;
  double abs_floor;
  double bound;  // the constant of the header
};

double ExactExp(double x) { return std::exp(x); }
double ExactTanh(double x) { return std::tanh(x); }
double ExactErf(double x) { return std::erf(x); }

std::vector<Function> AllFunctions() {
  namespace k = klab::kernels;
  std::vector<Function> out;
  for (const k::VmathKernels& v : k::VmathVariants()) {
    const std::string n(v.name);
    out.push_back({"exp", n, v.isa, v.exp, ExactExp, {FLT_MAX, FLT_MAX}, 0.0, k::kExpMaxUlp});
    out.push_back({"tanh", n, v.isa, v.tanh, ExactTanh, {10.0f, 10.0f}, 0.0, k::kTanhMaxUlp});
    out.push_back({"erf", n, v.isa, v.erf, ExactErf, {10.0f, 10.0f}, 0.0, k::kErfMaxUlp});
  }
  for (const k::ActivationKernels& v : k::ActivationVariants()) {
    const std::string n(v.name);
    const double floor = k::kActivationAbsFloor;
    out.push_back({"gelu_tanh", n, v.isa, v.gelu_tanh, k::reference::GeluTanh, {12.0f, 12.0f},
                   floor, k::kActivationMaxUlp});
    out.push_back({"gelu_erf", n, v.isa, v.gelu_erf, k::reference::GeluErf, {12.0f, 12.0f}, floor,
                   k::kActivationMaxUlp});
    out.push_back({"silu", n, v.isa, v.silu, k::reference::Silu, {12.0f, 12.0f}, floor,
                   k::kActivationMaxUlp});
  }
  return out;
}

bool ParsePositive(const char* arg, const char* flag, long* out) {
  const size_t len = std::strlen(flag);
  if (std::strncmp(arg, flag, len) != 0 || arg[len] != '=') return false;
  char* end = nullptr;
  *out = std::strtol(arg + len + 1, &end, 10);
  if (*end != '\0' || *out < 1) {
    std::fprintf(stderr, "ulp_sweep: %s must be a positive integer, got '%s'\n", flag, arg + len + 1);
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long stride = 1, threads = 2;
  std::string pattern = ".*";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::printf(
          "usage: ulp_sweep [--stride=N] [--threads=N] [--functions=REGEX]\n"
          "  Max error in ulp per variant against double: exp over all finite floats, tanh and\n"
          "  erf over [-10, 10], gelu_tanh, gelu_erf and silu over [-12, 12] (counted beyond\n"
          "  the absolute floor of activation.h). --stride=N checks every N-th float bit pattern\n"
          "  (default 1: every float); --threads (default 2); --functions selects by name.\n");
      return 0;
    }
    if (std::strncmp(argv[i], "--functions=", 12) == 0) {
      pattern = argv[i] + 12;
      continue;
    }
    if (!ParsePositive(argv[i], "--stride", &stride) && !ParsePositive(argv[i], "--threads", &threads)) {
      std::fprintf(stderr, "ulp_sweep: unknown argument '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  std::regex filter;
  try {
    filter = std::regex(pattern);
  } catch (const std::regex_error& e) {
    std::fprintf(stderr, "ulp_sweep: --functions is not a valid regular expression: %s\n", e.what());
    return 2;
  }
  std::printf("stride %ld (%s)\n\n", stride, stride == 1 ? "every float" : "every N-th float");
  std::printf("| variant | function | range | floor | points | max ulp | bound | worst x | y | exact |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  int over = 0;
  for (const Function& f : AllFunctions()) {
    if (!std::regex_match(f.name, filter)) continue;
    if (!klab::kernels::CpuSupports(f.isa)) {
      std::printf("| %s | %s | (skipped: CPU lacks %s) |\n", f.variant.c_str(), f.name.c_str(),
                  std::string(klab::kernels::IsaName(f.isa)).c_str());
      continue;
    }
    const auto r = UlpScan(f.fn, f.exact, f.range, static_cast<uint32_t>(stride),
                           static_cast<int>(threads), f.abs_floor);
    // The scalar variants are libm's float functions (vmath) or double formulas (activations):
    // listed for comparison, held to no bound here.
    const bool held = f.isa != Isa::kScalar;
    if (held && r.max_ulp > f.bound) ++over;
    std::printf("| %s | %s | [-%g, %g] | %g | %llu | %.3f | %s | %.9g | %.9g | %.17g |\n",
                f.variant.c_str(), f.name.c_str(), f.range.max_abs_neg, f.range.max_abs_pos,
                f.abs_floor, static_cast<unsigned long long>(r.points), r.max_ulp,
                held ? (r.max_ulp > f.bound ? "OVER" : "ok") : "—", r.worst_x, r.worst_y,
                r.worst_exact);
    std::fflush(stdout);
  }
  if (over > 0) {
    std::fprintf(stderr, "ulp_sweep: %d function(s) over the bound stated in their header\n", over);
    return 1;
  }
  return 0;
}
