#include "kernels/gemm/gemm.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels {
namespace {

absl::Status CheckLeadingDimension(const char* name, int64_t ld, int64_t row_length,
                                   const char* why) {
  const int64_t need = std::max<int64_t>(row_length, 1);
  if (ld < need) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: %s (%d) must be >= %d (%s)", name, ld, need, why));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSgemmArgs(const SgemmArgs& p) {
  if (p.m < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: m (%d) is negative", p.m));
  if (p.n < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: n (%d) is negative", p.n));
  if (p.k < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: k (%d) is negative", p.k));

  const bool a_no = p.trans_a == Trans::kNo;
  const bool b_no = p.trans_b == Trans::kNo;
  absl::Status s = CheckLeadingDimension("lda", p.lda, a_no ? p.k : p.m,
                                         a_no ? "k: A is stored m x k" : "m: A is stored k x m");
  if (!s.ok()) return s;
  s = CheckLeadingDimension("ldb", p.ldb, b_no ? p.n : p.k,
                            b_no ? "n: B is stored k x n" : "k: B is stored n x k");
  if (!s.ok()) return s;
  s = CheckLeadingDimension("ldc", p.ldc, p.n, "n: C is stored m x n");
  if (!s.ok()) return s;

  // A and B are read only when there is a product to form; C whenever it is non-empty.
  const bool reads_ab = p.m > 0 && p.n > 0 && p.k > 0 && p.alpha != 0.0f;
  if (reads_ab && p.a == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: a is null but op(A) is %d x %d", p.m, p.k));
  }
  if (reads_ab && p.b == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: b is null but op(B) is %d x %d", p.k, p.n));
  }
  if (p.m > 0 && p.n > 0 && p.c == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: c is null but C is %d x %d", p.m, p.n));
  }
  return absl::OkStatus();
}

const GemmVariant* FindGemmVariant(std::string_view name) {
  for (const GemmVariant& v : GemmVariants()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// The heuristic, for now: the i-l-j loop compiled for the widest ISA this CPU runs. The ladder
// issue replaces this with a choice by shape (packed micro-kernels for large problems, unpacked
// paths for M <= 16) and keeps the rule "highest supported ISA" for each family.
const GemmVariant& ChooseGemmVariant(const SgemmArgs& /*args*/) {
  static const GemmVariant* const chosen = [] {
    for (std::string_view name : {"loop_ikj__avx512", "loop_ikj__avx2", "loop_ikj"}) {
      const GemmVariant* v = FindGemmVariant(name);
      if (v != nullptr && CpuSupports(v->isa)) return v;
    }
    return FindGemmVariant("naive_ijk");
  }();
  return *chosen;
}

absl::Status Sgemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc) {
  const SgemmArgs args{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};
  absl::Status s = ValidateSgemmArgs(args);
  if (!s.ok()) return s;
  if (m == 0 || n == 0) return absl::OkStatus();
  ChooseGemmVariant(args).fn(args);
  return absl::OkStatus();
}

absl::Status SgemmVariant(std::string_view name, const SgemmArgs& args) {
  const GemmVariant* v = FindGemmVariant(name);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrFormat("Sgemm: no variant named '%s'", name));
  }
  if (!CpuSupports(v->isa)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "Sgemm: variant '%s' needs %s, which this CPU lacks", name, IsaName(v->isa)));
  }
  absl::Status s = ValidateSgemmArgs(args);
  if (!s.ok()) return s;
  if (args.m == 0 || args.n == 0) return absl::OkStatus();
  v->fn(args);
  return absl::OkStatus();
}

}  // namespace klab::kernels
