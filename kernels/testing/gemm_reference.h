// The fp64 GEMM oracle and the K-scaled error bound that every GEMM test and sweep check uses.
//
// GemmReference computes, in double, ref = alpha * op(A) * op(B) + beta * C0 and the magnitude
// (|A||B|)_ij for one problem, once; Check() then judges any variant's C against
//
//   |c - ref| <= K * 2^-23 * |alpha| * (|A||B|)_ij + 4 * 2^-24 * (|ref| + |beta * c0|)
//
// Why this bound: a float dot product of length K accumulated in any order (serial, blocked,
// vectorised, with or without FMA) is within gamma_K * (|a||b|) of the exact value, where
// gamma_K = K*u / (1 - K*u) and u = 2^-24 (Higham, Accuracy and Stability, 3.1). K * 2^-23 = 2Ku
// covers gamma_K with room for the rounding of alpha * a when a variant folds alpha into A.
// The second term covers the final scaling and the beta * C update (a few roundings of the
// result and of beta*c0, whose size can exceed |ref| when the two cancel). A fixed tolerance
// would be too loose at K = 1 and too tight at K = 4099; this one scales with the problem.
//
// NaN handling: where ref is NaN, c must be NaN too; where ref is finite, a NaN c fails.
#ifndef KLAB_KERNELS_TESTING_GEMM_REFERENCE_H_
#define KLAB_KERNELS_TESTING_GEMM_REFERENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/gemm/gemm.h"

namespace klab::kernels::testing {

struct GemmCheck {
  bool ok = true;
  double max_err_ratio = 0.0;  // largest |c - ref| / allowed; <= 1 passes
  int64_t worst_i = -1, worst_j = -1;
  double got = 0.0, want = 0.0, allowed = 0.0;
  int64_t failures = 0;

  // "C(i, j) = got, want ref (|err| e > allowed a, ratio r); F elements fail".
  std::string Describe() const;
};

class GemmReference {
 public:
  // `args.c` must hold C0 (the C before the call) with leading dimension args.ldc; it is read,
  // not written. Computing the reference costs 2*m*n*k double multiply-adds.
  explicit GemmReference(const SgemmArgs& args);

  // Judges a result C (m x n, leading dimension ldc) against the reference.
  GemmCheck Check(const float* c, int64_t ldc) const;

  int64_t m() const { return m_; }
  int64_t n() const { return n_; }
  double ref(int64_t i, int64_t j) const { return ref_[i * n_ + j]; }
  double allowed(int64_t i, int64_t j) const { return allowed_[i * n_ + j]; }

 private:
  int64_t m_, n_;
  std::vector<double> ref_;      // m x n
  std::vector<double> allowed_;  // m x n, the bound above
};

// The bound's two coefficients, written once.
double GemmAbsoluteCoefficient(int64_t k);  // K * 2^-23
inline constexpr double kGemmRelativeCoefficient = 4.0 / (1 << 24);  // 4 * 2^-24

}  // namespace klab::kernels::testing

#endif  // KLAB_KERNELS_TESTING_GEMM_REFERENCE_H_
