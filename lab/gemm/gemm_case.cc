// //lab/gemm:gemm_case — runs one registered Sgemm variant on one problem, `--reps` times, and
// prints a checksum: the workload for tools/count_instructions.sh (callgrind), which counts the
// instructions of a variant exactly where hardware counters are absent.
//
//   bazel run //lab/gemm:gemm_case -- --variant=regblock_6x16__avx2 --m=64 --n=64 --k=64
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "kernels/gemm/gemm.h"

ABSL_FLAG(std::string, variant, "loop_ikj", "registered Sgemm variant");
ABSL_FLAG(int64_t, m, 64, "rows of C");
ABSL_FLAG(int64_t, n, 64, "columns of C");
ABSL_FLAG(int64_t, k, 64, "depth");
ABSL_FLAG(int, reps, 1, "calls");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t m = absl::GetFlag(FLAGS_m), n = absl::GetFlag(FLAGS_n), k = absl::GetFlag(FLAGS_k);
  if (m < 1 || n < 1 || k < 1 || m * n * k > (int64_t{1} << 33)) {
    std::fprintf(stderr, "gemm_case: m, n, k must be >= 1 (and m n k <= 2^33)\n");
    return 2;
  }
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 13) * 0.25f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 7) * 0.5f;
  const klab::kernels::SgemmArgs args{klab::kernels::Trans::kNo, klab::kernels::Trans::kNo,
                                      m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n};
  for (int r = 0; r < absl::GetFlag(FLAGS_reps); ++r) {
    const absl::Status s = klab::kernels::SgemmVariant(absl::GetFlag(FLAGS_variant), args);
    if (!s.ok()) {
      std::fprintf(stderr, "gemm_case: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  double sum = 0;
  for (float v : c) sum += v;
  std::printf("checksum %.6g\n", sum);
  return 0;
}
