#include "kernels/testing/gemm_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"

namespace klab::kernels::testing {

double GemmAbsoluteCoefficient(int64_t k) { return static_cast<double>(k) * std::ldexp(1.0, -23); }

GemmReference::GemmReference(const SgemmArgs& p)
    : m_(p.m), n_(p.n), ref_(p.m * p.n, 0.0), allowed_(p.m * p.n, 0.0) {
  const bool read_ab = p.k > 0 && p.alpha != 0.0f;
  std::vector<double> abs_prod(n_);
  std::vector<double> b_row(n_), b_abs(n_);
  for (int64_t i = 0; i < m_; ++i) {
    double* ref = &ref_[i * n_];
    std::fill(abs_prod.begin(), abs_prod.end(), 0.0);
    if (read_ab) {
      // i-l-j order: row i of the result accumulates a(i, l) * row l of op(B).
      for (int64_t l = 0; l < p.k; ++l) {
        const double a = p.trans_a == Trans::kNo ? p.a[i * p.lda + l] : p.a[l * p.lda + i];
        const double a_abs = std::fabs(a);
        for (int64_t j = 0; j < n_; ++j) {
          const double b = p.trans_b == Trans::kNo ? p.b[l * p.ldb + j] : p.b[j * p.ldb + l];
          ref[j] += a * b;
          abs_prod[j] += a_abs * std::fabs(b);
        }
      }
    }
    const double abs_coef = GemmAbsoluteCoefficient(p.k) * std::fabs(static_cast<double>(p.alpha));
    for (int64_t j = 0; j < n_; ++j) {
      // beta == 0 means C0 is not read at all (it may hold NaN).
      const double beta_c0 = p.beta == 0.0f ? 0.0 : static_cast<double>(p.beta) * p.c[i * p.ldc + j];
      ref[j] = static_cast<double>(p.alpha) * ref[j] + beta_c0;
      allowed_[i * n_ + j] = abs_coef * abs_prod[j] +
                             kGemmRelativeCoefficient * (std::fabs(ref[j]) + std::fabs(beta_c0));
    }
  }
}

GemmCheck GemmReference::Check(const float* c, int64_t ldc) const {
  GemmCheck out;
  for (int64_t i = 0; i < m_; ++i) {
    for (int64_t j = 0; j < n_; ++j) {
      const double got = c[i * ldc + j];
      const double want = ref_[i * n_ + j];
      const double allowed = allowed_[i * n_ + j];
      double ratio;
      if (std::isnan(want)) {
        ratio = std::isnan(got) ? 0.0 : std::numeric_limits<double>::infinity();
      } else if (!std::isfinite(got)) {
        ratio = got == want ? 0.0 : std::numeric_limits<double>::infinity();
      } else {
        const double err = std::fabs(got - want);
        ratio = err == 0.0 ? 0.0 : (allowed > 0.0 ? err / allowed
                                                  : std::numeric_limits<double>::infinity());
      }
      if (ratio > 1.0) ++out.failures;
      if (out.worst_i < 0 || ratio > out.max_err_ratio) {
        out.max_err_ratio = ratio;
        out.worst_i = i;
        out.worst_j = j;
        out.got = got;
        out.want = want;
        out.allowed = allowed;
      }
    }
  }
  out.ok = out.failures == 0;
  return out;
}

std::string GemmCheck::Describe() const {
  if (worst_i < 0) return "empty result";
  return absl::StrFormat(
      "C(%d, %d) = %.9g, want %.9g (|err| %.3g > allowed %.3g, ratio %.3g); %d element(s) fail",
      worst_i, worst_j, got, want, std::fabs(got - want), allowed, max_err_ratio, failures);
}

}  // namespace klab::kernels::testing
